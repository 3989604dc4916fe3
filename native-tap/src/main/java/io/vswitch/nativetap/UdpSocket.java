package io.vswitch.nativetap;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A non-blocking IPv4 UDP socket opened through FFM. For receiving with UDP GRO ({@code UDP_GRO},
 * Linux 5.0+) one {@code recvmsg(2)} returns a run of datagrams of one flow laid end to end,
 * each {@link #segmentSize()} bytes but the last, with the sender's address. Bound with
 * SO_REUSEPORT so each event loop can have its own. Reads go into the caller's memory by
 * address; nothing is allocated per read, failures come back as -errno. One thread reads it.
 * Senders ({@link DatagramBatch}, {@link SegmentedDatagram}) write on its {@link #fd}.
 *
 * <p>Layouts (x86-64): {@code struct msghdr} 56 bytes (name 0, namelen 8, iov 16, iovlen 24,
 * control 32, controllen 40, flags 48); {@code struct sockaddr_in} 16 bytes; a control message
 * is {@code struct cmsghdr} (len 8 bytes, level 4, type 4) then its data, here the int
 * segment size of {@code SOL_UDP}/{@code UDP_GRO}.
 */
public final class UdpSocket implements AutoCloseable {
    private static final int SOL_SOCKET = 1;
    private static final int SO_SNDBUF = 7;
    private static final int SO_RCVBUF = 8;
    private static final int SO_REUSEPORT = 15;
    private static final int SOL_UDP = 17;
    private static final int UDP_GRO = 104;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_TRUNC = 0x20;
    private static final int CONTROL = 64;
    // ssize_t recvmsg(int sockfd, struct msghdr *msg, int flags)
    private static final MethodHandle RECVMSG = Libc.downcall("recvmsg",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));

    private final int fd;
    private final MemorySegment message;
    private final MemorySegment iovec;
    private final MemorySegment source;
    private final MemorySegment control;
    private final MemorySegment state;
    private int segmentSize;
    private boolean truncated;
    private volatile boolean closed;

    private UdpSocket(int fd) {
        this.fd = fd;
        Arena arena = Arena.ofAuto();
        message = arena.allocate(56, 8);
        iovec = arena.allocate(16, 8);
        source = arena.allocate(16, 8);
        control = arena.allocate(CONTROL, 8);
        state = Libc.errnoState(arena);
        message.set(JAVA_LONG, 0, source.address());
        message.set(JAVA_LONG, 16, iovec.address());
        message.set(JAVA_LONG, 24, 1);
        message.set(JAVA_LONG, 32, control.address());
    }

    /**
     * Opens a socket bound to {@code address:port} ({@code address} an IPv4 address as an int,
     * 0 for any) with SO_REUSEPORT, a receive buffer of {@code receiveBuffer} bytes and, if
     * {@code gro}, UDP GRO (without it every read is one datagram).
     */
    public static UdpSocket bind(int address, int port, int receiveBuffer, boolean gro) throws NativeCallException {
        return bind(address, port, receiveBuffer, 0, gro);
    }

    /**
     * As {@link #bind(int, int, int, boolean)}, with a send buffer of {@code sendBuffer} bytes
     * (0: the system's default). Port 0 binds an ephemeral port, for a socket that only sends.
     */
    public static UdpSocket bind(int address, int port, int receiveBuffer, int sendBuffer, boolean gro)
            throws NativeCallException {
        String name = ((address >>> 24) & 0xFF) + "." + ((address >>> 16) & 0xFF) + "." + ((address >>> 8) & 0xFF)
                + "." + (address & 0xFF) + ":" + port;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = Libc.errnoState(arena);
            int fd = Libc.socket(st, Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw new NativeCallException("socket(AF_INET, SOCK_DGRAM)", name, Libc.errno(st));
            }
            try {
                option(arena, st, fd, SOL_SOCKET, SO_REUSEPORT, 1, "setsockopt(SO_REUSEPORT)", name);
                option(arena, st, fd, SOL_SOCKET, SO_RCVBUF, receiveBuffer, "setsockopt(SO_RCVBUF)", name);
                if (sendBuffer > 0) {
                    option(arena, st, fd, SOL_SOCKET, SO_SNDBUF, sendBuffer, "setsockopt(SO_SNDBUF)", name);
                }
                if (gro) {
                    option(arena, st, fd, SOL_UDP, UDP_GRO, 1, "setsockopt(UDP_GRO)", name);
                }
                MemorySegment sin = arena.allocate(16, 8);
                sin.set(JAVA_SHORT, 0, (short) Libc.AF_INET);
                sin.set(JAVA_BYTE, 2, (byte) (port >>> 8));
                sin.set(JAVA_BYTE, 3, (byte) port);
                sin.set(JAVA_BYTE, 4, (byte) (address >>> 24));
                sin.set(JAVA_BYTE, 5, (byte) (address >>> 16));
                sin.set(JAVA_BYTE, 6, (byte) (address >>> 8));
                sin.set(JAVA_BYTE, 7, (byte) address);
                if (Libc.bind(st, fd, sin) < 0) {
                    throw new NativeCallException("bind", name, Libc.errno(st));
                }
            } catch (NativeCallException e) {
                Libc.close(st, fd);
                throw e;
            }
            return new UdpSocket(fd);
        }
    }

    private static void option(Arena arena, MemorySegment st, int fd, int level, int option, int value,
                               String call, String name) throws NativeCallException {
        MemorySegment v = arena.allocate(JAVA_INT);
        v.set(JAVA_INT, 0, value);
        if (Libc.setsockopt(st, fd, level, option, v) < 0) {
            throw new NativeCallException(call, name, Libc.errno(st));
        }
    }

    public int fd() {
        return fd;
    }

    /**
     * Reads what is queued into {@code [address, address + capacity)}: the bytes read (one
     * datagram, or with GRO a run of them), or -errno (-EAGAIN when nothing is queued). Then
     * {@link #segmentSize()}, {@link #sourceAddress()}, {@link #sourcePort()} and
     * {@link #truncated()} describe it.
     */
    public int receive(long address, int capacity) {
        iovec.set(JAVA_LONG, 0, address);
        iovec.set(JAVA_LONG, 8, capacity);
        message.set(JAVA_INT, 8, 16);
        message.set(JAVA_LONG, 40, CONTROL);
        message.set(JAVA_INT, 48, 0);
        long n;
        try {
            n = (long) RECVMSG.invokeExact(state, fd, message.address(), MSG_DONTWAIT);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (n < 0) {
            return -Libc.errno(state);
        }
        truncated = (message.get(JAVA_INT, 48) & MSG_TRUNC) != 0;
        segmentSize = (int) n;
        long controlLength = message.get(JAVA_LONG, 40);
        for (long at = 0; at + 20 <= controlLength; ) {
            long length = control.get(JAVA_LONG, at);
            if (length < 16) {
                break;
            }
            if (control.get(JAVA_INT, at + 8) == SOL_UDP && control.get(JAVA_INT, at + 12) == UDP_GRO) {
                int size = control.get(JAVA_INT, at + 16);
                if (size > 0) {
                    segmentSize = size;
                }
            }
            at += (length + 7) & ~7L;
        }
        return (int) n;
    }

    /** Size of each datagram of the last read (the last may be shorter); the whole read without GRO. */
    public int segmentSize() {
        return segmentSize;
    }

    /** The last read did not fit the buffer (its end was lost). */
    public boolean truncated() {
        return truncated;
    }

    /** IPv4 address that sent the last read, as an int (first octet most significant). */
    public int sourceAddress() {
        return ((source.get(JAVA_BYTE, 4) & 0xFF) << 24) | ((source.get(JAVA_BYTE, 5) & 0xFF) << 16)
                | ((source.get(JAVA_BYTE, 6) & 0xFF) << 8) | (source.get(JAVA_BYTE, 7) & 0xFF);
    }

    public int sourcePort() {
        return ((source.get(JAVA_BYTE, 2) & 0xFF) << 8) | (source.get(JAVA_BYTE, 3) & 0xFF);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (Arena arena = Arena.ofConfined()) {
            Libc.close(Libc.errnoState(arena), fd);
        }
    }
}
