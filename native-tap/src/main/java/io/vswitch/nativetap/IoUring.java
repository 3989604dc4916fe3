package io.vswitch.nativetap;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * One io_uring instance (io_uring_setup(2)) driven through FFM, for many reads and writes of
 * frames per kernel entry: a loop queues {@link #read}s and {@link #write}s, then
 * {@link #submit} hands them all to the kernel with one io_uring_enter(2) and waits until every
 * one has completed, and {@link #result} gives each one's outcome by the slot it was queued in.
 *
 * <p>The files are expected to be non-blocking (TAP queues opened O_NONBLOCK, socket pairs):
 * io_uring then tries each operation inline during the enter and, for an O_NONBLOCK file, fails
 * an empty read with -EAGAIN instead of waiting for data, so a submit never blocks for traffic.
 * An operation the kernel had to hand to a worker still completes (the worker's attempt is
 * non-blocking as well) and submit waits for it.
 *
 * <p>Memory: the submission queue, its index array and the completion queue are the kernel's,
 * mapped into this process; the tail of the submission queue is published with a release store
 * and the tail of the completion queue read with an acquire load, as liburing does. Nothing is
 * allocated per operation. Single-threaded: one instance per event loop.
 */
public final class IoUring implements AutoCloseable {
    private static final long SYS_IO_URING_SETUP = 425;
    private static final long SYS_IO_URING_ENTER = 426;
    private static final long SYS_IO_URING_REGISTER = 427;
    private static final int IORING_ENTER_GETEVENTS = 1;
    private static final int IORING_FEAT_SINGLE_MMAP = 1;
    private static final long IORING_OFF_SQ_RING = 0L;
    private static final long IORING_OFF_CQ_RING = 0x8000000L;
    private static final long IORING_OFF_SQES = 0x10000000L;
    private static final int IORING_REGISTER_BUFFERS = 0;
    static final byte IORING_OP_READ_FIXED = 4;
    static final byte IORING_OP_WRITE_FIXED = 5;
    static final byte IORING_OP_READ = 22;
    static final byte IORING_OP_WRITE = 23;
    /** A read that would wait fails with EAGAIN instead of being armed to complete later. */
    private static final int RWF_NOWAIT = 8;
    private static final int EBUSY = 16; // too many completions not reaped yet
    private static final int SQE_SIZE = 64;
    private static final int CQE_SIZE = 16;
    private static final int PROT_READ_WRITE = 3;
    private static final int MAP_SHARED = 1;
    private static final int MAP_POPULATE = 0x8000;

    // long syscall(long number, ...): the arguments after the number are variadic.
    private static final MethodHandle SETUP = Libc.downcall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG),
            java.lang.foreign.Linker.Option.firstVariadicArg(1));
    private static final MethodHandle ENTER = Libc.downcall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG),
            java.lang.foreign.Linker.Option.firstVariadicArg(1));
    private static final MethodHandle REGISTER = Libc.downcall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT),
            java.lang.foreign.Linker.Option.firstVariadicArg(1));
    private static final MethodHandle MMAP = Libc.downcall("mmap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = Libc.downcall("munmap",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final int ringFd;
    private final int entries;
    private final MemorySegment state;
    private final MemorySegment sq;
    private final MemorySegment cq;
    private final MemorySegment sqes;
    private final long sqRingSize;
    private final long cqRingSize;
    private final long sqesSize;
    private final boolean singleMmap;
    private final long sqHead;
    private final long sqTail;
    private final int sqMask;
    private final long cqHead;
    private final long cqTail;
    private final int cqMask;
    private final long cqes;
    private final int[] results;
    private int queued;
    private int sqLocalTail;
    private long enters;
    private boolean closed;

    private IoUring(int ringFd, int entries, MemorySegment state, MemorySegment params, long sqRing, long cqRing,
            long sqesAddress, long sqRingSize, long cqRingSize, long sqesSize, boolean singleMmap) {
        this.ringFd = ringFd;
        this.entries = entries;
        this.state = state;
        this.sqRingSize = sqRingSize;
        this.cqRingSize = cqRingSize;
        this.sqesSize = sqesSize;
        this.singleMmap = singleMmap;
        this.sq = MemorySegment.ofAddress(sqRing).reinterpret(sqRingSize);
        this.cq = MemorySegment.ofAddress(cqRing).reinterpret(cqRingSize);
        this.sqes = MemorySegment.ofAddress(sqesAddress).reinterpret(sqesSize);
        // struct io_sqring_offsets at 40, struct io_cqring_offsets at 80 of io_uring_params.
        this.sqHead = params.get(JAVA_INT, 40);
        this.sqTail = params.get(JAVA_INT, 44);
        this.sqMask = sq.get(JAVA_INT, params.get(JAVA_INT, 48));
        long sqArray = params.get(JAVA_INT, 64);
        this.cqHead = params.get(JAVA_INT, 80);
        this.cqTail = params.get(JAVA_INT, 84);
        this.cqMask = cq.get(JAVA_INT, params.get(JAVA_INT, 88));
        this.cqes = params.get(JAVA_INT, 100);
        // The index array maps ring positions to entries one to one, once and for all.
        for (int i = 0; i < entries; i++) {
            sq.set(JAVA_INT, sqArray + 4L * i, i);
        }
        this.sqLocalTail = (int) INT.getAcquire(sq, sqTail);
        this.results = new int[entries];
    }

    /**
     * Makes a ring of {@code entries} (a power of two) submission entries. Throws naming the
     * errno when the kernel refuses: ENOSYS (no io_uring), EPERM (kernel.io_uring_disabled or a
     * seccomp filter), ENOMEM.
     */
    public static IoUring open(int entries) throws NativeCallException {
        if (Integer.bitCount(entries) != 1 || entries > 4096) {
            throw new IllegalArgumentException("entries must be a power of two up to 4096, got " + entries);
        }
        Arena arena = Arena.ofAuto();
        MemorySegment state = Libc.errnoState(arena);
        MemorySegment params = arena.allocate(120, 8);
        int fd = (int) setup(state, entries, params.address());
        if (fd < 0) {
            throw new NativeCallException("io_uring_setup", "io_uring", Libc.errno(state));
        }
        int sqEntries = params.get(JAVA_INT, 0);
        int cqEntries = params.get(JAVA_INT, 4);
        boolean single = (params.get(JAVA_INT, 20) & IORING_FEAT_SINGLE_MMAP) != 0;
        long sqSize = params.get(JAVA_INT, 64) + 4L * sqEntries;
        long cqSize = params.get(JAVA_INT, 100) + (long) CQE_SIZE * cqEntries;
        if (single) {
            sqSize = cqSize = Math.max(sqSize, cqSize);
        }
        long sqesSize = (long) SQE_SIZE * sqEntries;
        long sqRing = mmap(state, sqSize, fd, IORING_OFF_SQ_RING);
        long cqRing = sqRing;
        long sqes = -1;
        if (sqRing != -1 && !single) {
            cqRing = mmap(state, cqSize, fd, IORING_OFF_CQ_RING);
        }
        if (sqRing != -1 && cqRing != -1) {
            sqes = mmap(state, sqesSize, fd, IORING_OFF_SQES);
        }
        if (sqRing == -1 || cqRing == -1 || sqes == -1) {
            int errno = Libc.errno(state);
            unmap(state, sqRing, sqSize);
            if (!single) {
                unmap(state, cqRing, cqSize);
            }
            Libc.close(state, fd);
            throw new NativeCallException("mmap of the io_uring rings", "io_uring", errno);
        }
        return new IoUring(fd, sqEntries, state, params, sqRing, cqRing, sqes, sqSize, cqSize, sqesSize, single);
    }

    /** Whether this process may make a ring, and if not why: null when it may. */
    public static String unavailableReason() {
        try (IoUring probe = open(2)) {
            return null;
        } catch (NativeCallException e) {
            return e.getMessage();
        }
    }

    /** How many operations fit in one submission. */
    public int capacity() {
        return entries;
    }

    /** Operations queued and not yet submitted. */
    public int queued() {
        return queued;
    }

    /** io_uring_enter calls made so far. */
    public long enters() {
        return enters;
    }

    /**
     * Registers {@code count} buffers of {@code length} bytes at {@code addresses} as the ring's
     * fixed buffers (IORING_REGISTER_BUFFERS): {@link #readFixed} into buffer {@code i} then
     * needs no page lookup per operation. Returns 0 or -errno.
     */
    public int registerBuffers(long[] addresses, int length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment iov = arena.allocate(16L * addresses.length, 8);
            for (int i = 0; i < addresses.length; i++) {
                iov.set(JAVA_LONG, 16L * i, addresses[i]);
                iov.set(JAVA_LONG, 16L * i + 8, length);
            }
            long r;
            try {
                r = (long) REGISTER.invokeExact(state, SYS_IO_URING_REGISTER, ringFd, IORING_REGISTER_BUFFERS,
                        iov.address(), addresses.length);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
            return r < 0 ? -Libc.errno(state) : 0;
        }
    }

    /** Queues a read of one frame from {@code fd} into {@code [address, address + length)}: its slot. */
    public int read(int fd, long address, int length) {
        return queue(IORING_OP_READ, fd, address, length, 0, RWF_NOWAIT);
    }

    /** Queues a read into fixed buffer {@code index} (from {@link #registerBuffers}): its slot. */
    public int readFixed(int fd, long address, int length, int index) {
        return queue(IORING_OP_READ_FIXED, fd, address, length, index, RWF_NOWAIT);
    }

    /** Queues a write of one frame from {@code [address, address + length)} to {@code fd}: its slot. */
    public int write(int fd, long address, int length) {
        return queue(IORING_OP_WRITE, fd, address, length, 0, 0);
    }

    private int queue(byte opcode, int fd, long address, int length, int bufIndex, int rwFlags) {
        if (queued == entries) {
            throw new IllegalStateException("io_uring submission queue full (" + entries + ")");
        }
        int slot = queued++;
        long sqe = (long) (sqLocalTail & sqMask) * SQE_SIZE;
        sqes.set(JAVA_BYTE, sqe, opcode);
        sqes.set(JAVA_BYTE, sqe + 1, (byte) 0); // flags
        sqes.set(JAVA_SHORT, sqe + 2, (short) 0); // ioprio
        sqes.set(JAVA_INT, sqe + 4, fd);
        sqes.set(JAVA_LONG, sqe + 8, -1L); // offset: the file position, which a TAP or socket ignores
        sqes.set(JAVA_LONG, sqe + 16, address);
        sqes.set(JAVA_INT, sqe + 24, length);
        sqes.set(JAVA_INT, sqe + 28, rwFlags);
        sqes.set(JAVA_LONG, sqe + 32, slot); // user_data
        sqes.set(JAVA_LONG, sqe + 40, bufIndex & 0xffffL); // buf_index, personality, splice_fd_in
        sqes.set(JAVA_LONG, sqe + 48, 0L);
        sqes.set(JAVA_LONG, sqe + 56, 0L);
        sqLocalTail++;
        return slot;
    }

    /**
     * Submits every queued operation with one io_uring_enter and waits until all have completed;
     * then {@link #result} holds each slot's outcome (bytes, or -errno) until the next submit.
     * Returns how many were submitted (0 without a system call when none were queued).
     */
    public int submit() {
        int n = queued;
        if (n == 0) {
            return 0;
        }
        INT.setRelease(sq, sqTail, sqLocalTail);
        int submitted = 0;
        int completed = 0;
        while (completed < n) {
            int toSubmit = n - submitted;
            long r = enter(toSubmit, n - completed);
            enters++;
            if (r < 0) {
                int errno = Libc.errno(state);
                if (errno == Errno.EINTR || errno == Errno.EAGAIN || errno == EBUSY) {
                    completed += reap();
                    continue;
                }
                // The ring itself failed (no memory): every operation not yet taken fails with it.
                for (int i = submitted; i < n; i++) {
                    results[i] = -errno;
                }
                sqLocalTail -= n - submitted;
                INT.setRelease(sq, sqTail, sqLocalTail);
                completed += reap();
                submitted = n;
                if (completed < n) {
                    continue;
                }
                break;
            }
            submitted += (int) r;
            completed += reap();
        }
        queued = 0;
        return n;
    }

    /** Takes every completion in the queue into {@link #results}; returns how many. */
    private int reap() {
        int head = cq.get(JAVA_INT, cqHead);
        int tail = (int) INT.getAcquire(cq, cqTail);
        int count = 0;
        while (head != tail) {
            long cqe = cqes + (long) (head & cqMask) * CQE_SIZE;
            int slot = (int) cq.get(JAVA_LONG, cqe);
            results[slot] = cq.get(JAVA_INT, cqe + 8);
            head++;
            count++;
        }
        INT.setRelease(cq, cqHead, head);
        return count;
    }

    /** The outcome of the operation queued in {@code slot} by the last {@link #submit}: bytes, or -errno. */
    public int result(int slot) {
        return results[slot];
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        unmap(state, sqes.address(), sqesSize);
        if (!singleMmap) {
            unmap(state, cq.address(), cqRingSize);
        }
        unmap(state, sq.address(), sqRingSize);
        Libc.close(state, ringFd);
    }

    // ---- system calls -----------------------------------------------------------------------
    private static long setup(MemorySegment state, int entries, long params) {
        try {
            return (long) SETUP.invokeExact(state, SYS_IO_URING_SETUP, entries, params);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private long enter(int toSubmit, int minComplete) {
        try {
            return (long) ENTER.invokeExact(state, SYS_IO_URING_ENTER, ringFd, toSubmit, minComplete,
                    IORING_ENTER_GETEVENTS, 0L, 0L);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static long mmap(MemorySegment state, long size, int fd, long offset) {
        try {
            return (long) MMAP.invokeExact(state, 0L, size, PROT_READ_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static void unmap(MemorySegment state, long address, long size) {
        if (address == -1 || address == 0) {
            return;
        }
        try {
            int ignored = (int) MUNMAP.invokeExact(state, address, size);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
