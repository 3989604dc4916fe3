package io.vswitch.nativetap;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Many equal-sized UDP datagrams to one destination in one {@code sendmsg(2)} with UDP
 * segmentation offload (a {@code UDP_SEGMENT} control message, Linux 4.18+): the kernel builds
 * the datagrams from one large buffer in one pass through the stack, and hands a GSO packet to
 * devices that take it (a veth does). The datagrams are gathered from the caller's memory with
 * one iovec each, or two (headers, then payload where it lies); all but the last must be exactly
 * {@code segmentSize} bytes. Nothing is allocated per call; single-threaded.
 *
 * <p>Layouts (x86-64): {@code struct msghdr} 56 bytes (see {@link DatagramBatch}); the control
 * message is a {@code struct cmsghdr} (len 8 bytes, level 4, type 4) followed by the u16 size,
 * 24 bytes with padding ({@code CMSG_SPACE(2)}).
 */
public final class SegmentedDatagram {
    /** The kernel's UDP_MAX_SEGMENTS. */
    public static final int MAX_SEGMENTS = 128;
    private static final int SOL_UDP = 17;
    private static final int UDP_SEGMENT = 103;
    private static final int MSG_DONTWAIT = 0x40;
    // ssize_t sendmsg(int sockfd, const struct msghdr *msg, int flags)
    private static final MethodHandle SENDMSG = Libc.downcall("sendmsg",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));

    private final MemorySegment message;
    private final MemorySegment iovecs;
    private final MemorySegment address;
    private final MemorySegment control;
    private final MemorySegment state;
    private int count;
    private int iovecCount;
    private int lastErrno;

    public SegmentedDatagram() {
        Arena arena = Arena.ofAuto();
        message = arena.allocate(56, 8);
        iovecs = arena.allocate(2 * 16L * MAX_SEGMENTS, 8);
        address = arena.allocate(16, 8);
        control = arena.allocate(24, 8);
        state = Libc.errnoState(arena);
        message.set(JAVA_LONG, 0, address.address());
        message.set(JAVA_INT, 8, 16);
        message.set(JAVA_LONG, 16, iovecs.address());
        message.set(JAVA_LONG, 32, control.address());
        message.set(JAVA_LONG, 40, 24);
        control.set(JAVA_LONG, 0, 18);            // cmsg_len = CMSG_LEN(2)
        control.set(JAVA_INT, 8, SOL_UDP);
        control.set(JAVA_INT, 12, UDP_SEGMENT);
    }

    public int size() {
        return count;
    }

    /** Adds the next datagram's bytes. */
    public void add(long bufferAddress, int length) {
        iovec(bufferAddress, length);
        count++;
    }

    /** Adds the next datagram as two pieces: {@code headerLength} bytes, then {@code payloadLength}. */
    public void add(long headerAddress, int headerLength, long payloadAddress, int payloadLength) {
        iovec(headerAddress, headerLength);
        iovec(payloadAddress, payloadLength);
        count++;
    }

    private void iovec(long address, int length) {
        long iov = 16L * iovecCount++;
        iovecs.set(JAVA_LONG, iov, address);
        iovecs.set(JAVA_LONG, iov + 8, length);
    }

    /**
     * Sends the datagrams added since the last call to {@code destination} (as
     * {@link DatagramBatch#destination} packs it), cut at {@code segmentSize}. Returns true when
     * the kernel took them; else {@link #lastErrno} says why. Empty afterwards.
     */
    public boolean send(int fd, long destination, int segmentSize) {
        DatagramBatch.writeSockaddr(address, 0, destination);
        control.set(JAVA_SHORT, 16, (short) segmentSize);
        message.set(JAVA_LONG, 24, iovecCount);
        boolean single = count == 1;
        message.set(JAVA_LONG, 40, single ? 0 : 24); // one datagram needs no segmentation
        message.set(JAVA_LONG, 32, single ? 0 : control.address());
        count = 0;
        iovecCount = 0;
        long n;
        try {
            n = (long) SENDMSG.invokeExact(state, fd, message.address(), MSG_DONTWAIT);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (n < 0) {
            lastErrno = Libc.errno(state);
            return false;
        }
        return true;
    }

    public int lastErrno() {
        return lastErrno;
    }
}
