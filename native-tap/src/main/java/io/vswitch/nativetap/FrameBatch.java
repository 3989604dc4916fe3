package io.vswitch.nativetap;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Frames sent with one {@code sendmmsg(2)} on a bound socket (AF_PACKET: no address), each
 * gathered from up to {@link #MAX_PARTS} pieces of memory: a virtio-net header kept in the
 * batch's own memory, then pieces of the frame where it lies, with a VLAN tag from the batch's
 * memory between them when one is pushed. Nothing is copied or allocated per frame. The caller
 * keeps the frames' memory valid until {@link #flush} returns. Single-threaded.
 */
public final class FrameBatch {
    public static final int MAX_PARTS = 4;
    private static final int MMSGHDR = 64;
    private static final int IOVEC = 16;
    private static final int SCRATCH = 16;
    private static final int MSG_DONTWAIT = 0x40;
    private static final MethodHandle SENDMMSG = Libc.downcall("sendmmsg",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT));

    private final MemorySegment messages;
    private final MemorySegment iovecs;
    private final MemorySegment scratch;
    private final MemorySegment state;
    private final long messagesAddress;
    private final long iovecsAddress;
    private final long scratchAddress;
    private final int capacity;
    private int count;
    private int parts;
    private int lastErrno;

    public FrameBatch(int capacity) {
        this.capacity = capacity;
        Arena arena = Arena.ofAuto();
        this.messages = arena.allocate((long) MMSGHDR * capacity, 8);
        this.iovecs = arena.allocate((long) IOVEC * MAX_PARTS * capacity, 8);
        this.scratch = arena.allocate((long) SCRATCH * capacity, 8);
        this.state = Libc.errnoState(arena);
        this.messagesAddress = messages.address();
        this.iovecsAddress = iovecs.address();
        this.scratchAddress = scratch.address();
        for (int i = 0; i < capacity; i++) {
            long m = (long) i * MMSGHDR;
            messages.set(JAVA_LONG, m + 16, iovecsAddress + (long) i * MAX_PARTS * IOVEC);
        }
    }

    public int size() {
        return count;
    }

    public boolean isFull() {
        return count == capacity;
    }

    /** Starts the next frame; returns the address of its 16 bytes of scratch (a header, a tag). */
    public long begin() {
        parts = 0;
        return scratchAddress + (long) count * SCRATCH;
    }

    /** Adds a piece of the frame being built. */
    public void part(long address, int length) {
        long iov = ((long) count * MAX_PARTS + parts) * IOVEC;
        iovecs.set(JAVA_LONG, iov, address);
        iovecs.set(JAVA_LONG, iov + 8, length);
        parts++;
    }

    /** Ends the frame being built. */
    public void end() {
        messages.set(JAVA_LONG, (long) count * MMSGHDR + 24, parts);
        count++;
    }

    /**
     * Sends every frame queued on {@code fd} without blocking; returns how many went. A frame the
     * kernel refuses (too big, a bad header) is skipped so it does not hold back the rest; a full
     * queue (EAGAIN, ENOBUFS) drops what is left. Empty afterwards.
     */
    public int flush(int fd) {
        int total = count;
        int done = 0;
        int ok = 0;
        lastErrno = 0;
        while (done < total) {
            int n;
            try {
                n = (int) SENDMMSG.invokeExact(state, fd, messagesAddress + (long) done * MMSGHDR, total - done, MSG_DONTWAIT);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
            if (n > 0) {
                done += n;
                ok += n;
                continue;
            }
            int errno = Libc.errno(state);
            if (errno == Errno.EINTR) {
                continue;
            }
            lastErrno = errno;
            if (errno == Errno.EAGAIN || errno == Errno.ENOBUFS) {
                break;
            }
            done++;
        }
        count = 0;
        return ok;
    }

    /** The errno of the last {@link #flush} that could not send everything, or 0. */
    public int lastErrno() {
        return lastErrno;
    }
}
