package io.vswitch.nativetap;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@code read(2)} and {@code write(2)} of one frame by raw memory address, for the data path.
 * Failures come back as a negative errno, never as an exception: a TAP whose link is down in its
 * container fails every write with EIO, and a switch that floods to it must not build an
 * exception per frame. Buffers are passed as addresses ({@code long}) so a call allocates
 * nothing; each lane owns one {@link ErrnoSlot}.
 */
public final class FrameIo {
    // ssize_t read(int fd, void *buf, size_t count); the pointer travels as a 64-bit integer.
    private static final MethodHandle READ = Libc.downcall("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle WRITE = Libc.downcall("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));

    // ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
    private static final MethodHandle WRITEV = Libc.downcall("writev",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));

    private FrameIo() {
    }

    /** Writes one frame gathered from {@code count} iovecs at {@code iov}: bytes written, or -errno. */
    public static int writev(int fd, long iov, int count, ErrnoSlot slot) {
        long n;
        try {
            n = (long) WRITEV.invokeExact(slot.state, fd, iov, count);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        return n >= 0 ? (int) n : -Libc.errno(slot.state);
    }

    /** Where one thread's calls leave errno. Allocate one per thread, up front. */
    public static final class ErrnoSlot {
        final MemorySegment state = Libc.errnoState(Arena.global());
    }

    /** Reads one frame into {@code [address, address + capacity)}: bytes read, or -errno (-EAGAIN when empty). */
    public static int read(int fd, long address, int capacity, ErrnoSlot slot) {
        long n;
        try {
            n = (long) READ.invokeExact(slot.state, fd, address, (long) capacity);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        return n >= 0 ? (int) n : -Libc.errno(slot.state);
    }

    /** Writes one frame from {@code [address, address + length)}: bytes written, or -errno. */
    public static int write(int fd, long address, int length, ErrnoSlot slot) {
        long n;
        try {
            n = (long) WRITE.invokeExact(slot.state, fd, address, (long) length);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        return n >= 0 ? (int) n : -Libc.errno(slot.state);
    }
}
