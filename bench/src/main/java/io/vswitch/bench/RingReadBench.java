package io.vswitch.bench;

import io.vswitch.nativetap.FrameIo;
import io.vswitch.nativetap.FramePipe;
import io.vswitch.nativetap.IoUring;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * A batch of frame reads through io_uring, the way a loop reads a TAP queue: 32 frames of 60
 * bytes waiting on a SOCK_SEQPACKET pair (one frame per read, as a TAP), 64 or 33 reads queued
 * into 64 KB buffers and submitted with one enter (32 find a frame, the rest fail with EAGAIN). Modes:
 * {@code read} (IORING_OP_READ into plain memory), {@code fixed} (IORING_OP_READ_FIXED into
 * registered buffers), {@code syscalls} (one read(2) per frame until EAGAIN, the epoll path).
 * Reported per frame read. The pipe's writes are outside the measured time only in the sense
 * that they are the same in every mode.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class RingReadBench {
    private static final int FRAMES = 32;
    private static final int MAX_READS = 64;
    private static final int SIZE = 65_600;

    @Param({"read", "fixed", "syscalls"})
    public String mode;

    /** Reads queued per batch: 64 (half fail with EAGAIN) or 33 (one does, as when the estimate is good). */
    @Param({"64", "33"})
    public int reads;

    private IoUring ring;
    private FramePipe pipe;
    private Arena arena;
    private long[] buffers;
    private MemorySegment frame;
    private final FrameIo.ErrnoSlot errno = new FrameIo.ErrnoSlot();

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        ring = IoUring.open(256);
        pipe = FramePipe.open();
        arena = Arena.ofShared();
        MemorySegment memory = arena.allocate((long) MAX_READS * SIZE, 4096);
        buffers = new long[MAX_READS];
        for (int i = 0; i < MAX_READS; i++) {
            buffers[i] = memory.address() + (long) i * SIZE;
        }
        if (ring.registerBuffers(buffers, SIZE) != 0) {
            throw new IllegalStateException("IORING_REGISTER_BUFFERS refused");
        }
        frame = arena.allocate(64);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ring.close();
        pipe.close();
        arena.close();
    }

    @Benchmark
    @OperationsPerInvocation(FRAMES)
    public int batch() {
        for (int i = 0; i < FRAMES; i++) {
            FrameIo.write(pipe.peerEnd(), frame.address(), 60, errno);
        }
        int got = 0;
        switch (mode) {
            case "syscalls" -> {
                for (int i = 0; i < MAX_READS; i++) {
                    if (FrameIo.read(pipe.portEnd(), buffers[i] + 64, SIZE - 64, errno) <= 0) {
                        break;
                    }
                    got++;
                }
            }
            default -> {
                boolean fixed = mode.equals("fixed");
                for (int i = 0; i < reads; i++) {
                    if (fixed) {
                        ring.readFixed(pipe.portEnd(), buffers[i] + 64, SIZE - 64, i);
                    } else {
                        ring.read(pipe.portEnd(), buffers[i] + 64, SIZE - 64);
                    }
                }
                ring.submit();
                for (int i = 0; i < reads; i++) {
                    got += ring.result(i) > 0 ? 1 : 0;
                }
            }
        }
        return got;
    }
}
