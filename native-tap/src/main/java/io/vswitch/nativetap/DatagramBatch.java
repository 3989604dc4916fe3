package io.vswitch.nativetap;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.net.Inet4Address;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.nio.ByteOrder;

/**
 * A batch of UDP datagrams sent with one {@code sendmmsg(2)} to IPv4 destinations, each made of
 * an 8-byte prefix (an encapsulation header, kept in the batch's own memory) and a payload sent
 * straight from memory the caller owns: two iovecs per datagram, so the payload is neither
 * copied nor written to. Nothing is allocated per datagram: message headers, iovecs, prefixes
 * and addresses live in native memory taken once. The caller keeps the payloads valid until
 * {@link #flush} returns.
 *
 * <p>Layouts (x86-64): {@code struct mmsghdr} is a 56-byte {@code struct msghdr} (name at 0,
 * namelen at 8, iov at 16, iovlen at 24, control at 32, controllen at 40, flags at 48) and
 * {@code msg_len} at 56, 64 bytes in all; {@code struct iovec} is base and length, 16 bytes;
 * {@code struct sockaddr_in} is 16 bytes (family, port and address in network order).
 *
 * <p>Single-threaded: one batch per sending thread.
 */
public final class DatagramBatch {
    private static final int MMSGHDR = 64;
    private static final int IOVEC = 16;
    private static final int SOCKADDR_IN = 16;
    private static final int MSG_DONTWAIT = 0x40;
    private static final java.lang.foreign.ValueLayout.OfLong JAVA_LONG_BIG_ENDIAN =
            JAVA_LONG.withOrder(ByteOrder.BIG_ENDIAN);
    // int sendmmsg(int sockfd, struct mmsghdr *msgvec, unsigned int vlen, int flags)
    private static final MethodHandle SENDMMSG = Libc.downcall("sendmmsg",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT));

    private final MemorySegment messages;
    private final MemorySegment iovecs;
    private final MemorySegment addresses;
    private final MemorySegment prefixes;
    private final MemorySegment state;
    private final long messagesAddress;
    private final int capacity;
    private int count;

    public DatagramBatch(int capacity) {
        this.capacity = capacity;
        Arena arena = Arena.ofAuto();
        this.messages = arena.allocate((long) MMSGHDR * capacity, 8);
        this.iovecs = arena.allocate((long) IOVEC * 2 * capacity, 8);
        this.addresses = arena.allocate((long) SOCKADDR_IN * capacity, 8);
        this.prefixes = arena.allocate(8L * capacity, 8);
        this.state = Libc.errnoState(arena);
        this.messagesAddress = messages.address();
        for (int i = 0; i < capacity; i++) {
            long m = (long) i * MMSGHDR;
            messages.set(JAVA_LONG, m, addresses.address() + (long) i * SOCKADDR_IN);
            messages.set(JAVA_INT, m + 8, SOCKADDR_IN);
            messages.set(JAVA_LONG, m + 16, iovecs.address() + (long) i * 2 * IOVEC);
            messages.set(JAVA_LONG, m + 24, 2);
            iovecs.set(JAVA_LONG, (long) i * 2 * IOVEC, prefixes.address() + 8L * i);
            iovecs.set(JAVA_LONG, (long) i * 2 * IOVEC + 8, 8);
        }
    }

    /** A destination packed for {@link #add}: IPv4 address (high 32 bits) and port. */
    public static long destination(Inet4Address address, int port) {
        byte[] a = address.getAddress();
        long ip = ((a[0] & 0xFFL) << 24) | ((a[1] & 0xFFL) << 16) | ((a[2] & 0xFFL) << 8) | (a[3] & 0xFFL);
        return (ip << 32) | (port & 0xFFFF);
    }

    /** Writes {@code destination} as a {@code struct sockaddr_in} at {@code at}: family, port, address. */
    static void writeSockaddr(MemorySegment segment, long at, long destination) {
        segment.set(JAVA_SHORT, at, (short) 2); // AF_INET, host order
        segment.set(JAVA_BYTE, at + 2, (byte) (destination >>> 8));
        segment.set(JAVA_BYTE, at + 3, (byte) destination);
        segment.set(JAVA_BYTE, at + 4, (byte) (destination >>> 56));
        segment.set(JAVA_BYTE, at + 5, (byte) (destination >>> 48));
        segment.set(JAVA_BYTE, at + 6, (byte) (destination >>> 40));
        segment.set(JAVA_BYTE, at + 7, (byte) (destination >>> 32));
    }

    public int size() {
        return count;
    }

    public boolean isFull() {
        return count == capacity;
    }

    /**
     * Queues one datagram to {@code destination}: the 8 bytes of {@code prefix} (first byte
     * most significant) followed by {@code length} bytes at {@code address}.
     */
    public void add(long prefix, long address, int length, long destination) {
        int i = count++;
        prefixes.set(JAVA_LONG_BIG_ENDIAN, 8L * i, prefix);
        long iov = (long) i * 2 * IOVEC + IOVEC;
        iovecs.set(JAVA_LONG, iov, address);
        iovecs.set(JAVA_LONG, iov + 8, length);
        writeSockaddr(addresses, (long) i * SOCKADDR_IN, destination);
    }

    /**
     * Sends everything queued on socket {@code fd} without blocking. Returns how many datagrams
     * went; the rest (socket buffer full: EAGAIN, or an error, left in {@link #lastErrno}) are
     * dropped. The batch is empty afterwards.
     */
    public int flush(int fd) {
        int total = count;
        int sent = 0;
        lastErrno = 0;
        while (sent < total) {
            int n;
            try {
                n = (int) SENDMMSG.invokeExact(state, fd, messagesAddress + (long) sent * MMSGHDR, total - sent, MSG_DONTWAIT);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
            if (n <= 0) {
                int errno = Libc.errno(state);
                if (errno == Errno.EINTR) {
                    continue;
                }
                lastErrno = errno;
                break;
            }
            sent += n;
        }
        count = 0;
        return sent;
    }

    private int lastErrno;

    /** The errno of the last {@link #flush} that could not send everything, or 0. */
    public int lastErrno() {
        return lastErrno;
    }
}
