package io.vswitch.nativetap;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The ring against SOCK_SEQPACKET pairs, where every read and write is one frame, as on a TAP. */
class IoUringTest {
    private static final FrameIo.ErrnoSlot ERRNO = new FrameIo.ErrnoSlot();

    @BeforeAll
    static void available() {
        assumeTrue(IoUring.unavailableReason() == null, "io_uring: " + IoUring.unavailableReason());
    }

    @Test
    void readsWhatIsQueuedAndFailsTheRestWithEagainWithoutWaiting() throws Exception {
        try (IoUring ring = IoUring.open(16); FramePipe pipe = FramePipe.open(); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(2048);
            for (int i = 0; i < 3; i++) {
                out.fill((byte) (i + 1));
                assertEquals(100 + i, FrameIo.write(pipe.peerEnd(), out.address(), 100 + i, ERRNO));
            }
            MemorySegment in = arena.allocate(5 * 2048);
            int[] slots = new int[5];
            for (int i = 0; i < 5; i++) {
                slots[i] = ring.read(pipe.portEnd(), in.address() + 2048L * i, 2048);
            }
            assertEquals(5, ring.submit());
            for (int i = 0; i < 3; i++) {
                assertEquals(100 + i, ring.result(slots[i]), "frame " + i);
                assertEquals((byte) (i + 1), in.get(JAVA_BYTE, 2048L * i + 99));
            }
            assertEquals(-Errno.EAGAIN, ring.result(slots[3]));
            assertEquals(-Errno.EAGAIN, ring.result(slots[4]));
            assertEquals(1, ring.enters(), "one kernel entry for five reads");
        }
    }

    @Test
    void writesOneFramePerOperationInOrderAndNamesFailuresBySlot() throws Exception {
        try (IoUring ring = IoUring.open(8); FramePipe pipe = FramePipe.open(); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(4 * 256);
            for (int i = 0; i < 4; i++) {
                out.asSlice(256L * i, 256).fill((byte) (10 + i));
                ring.write(pipe.portEnd(), out.address() + 256L * i, 60 + i);
            }
            int bad = ring.write(987654, out.address(), 60);
            assertEquals(5, ring.submit());
            for (int i = 0; i < 4; i++) {
                assertEquals(60 + i, ring.result(i));
            }
            assertEquals(-Errno.EBADF, ring.result(bad));
            MemorySegment in = arena.allocate(256);
            for (int i = 0; i < 4; i++) {
                assertEquals(60 + i, FrameIo.read(pipe.peerEnd(), in.address(), 256, ERRNO), "in order");
                assertEquals((byte) (10 + i), in.get(JAVA_BYTE, 0));
            }
            assertEquals(-Errno.EAGAIN, FrameIo.read(pipe.peerEnd(), in.address(), 256, ERRNO));
            assertEquals(0, ring.submit(), "nothing queued: no system call");
            assertEquals(1, ring.enters());
        }
    }

    @Test
    void manyRoundsReuseTheRingsWithoutLosingAnEntry() throws Exception {
        try (IoUring ring = IoUring.open(4); FramePipe pipe = FramePipe.open(); Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4 * 128);
            for (int round = 0; round < 1000; round++) {
                for (int i = 0; i < 4; i++) {
                    ring.write(pipe.portEnd(), buf.address() + 128L * i, 64);
                }
                ring.submit();
                for (int i = 0; i < 4; i++) {
                    ring.read(pipe.peerEnd(), buf.address() + 128L * i, 128);
                }
                ring.submit();
                for (int i = 0; i < 4; i++) {
                    assertEquals(64, ring.result(i), "round " + round);
                }
            }
        }
    }

    @Test
    void fixedBuffersAreReadInto() throws Exception {
        try (IoUring ring = IoUring.open(4); FramePipe pipe = FramePipe.open(); Arena arena = Arena.ofConfined()) {
            MemorySegment bufs = arena.allocate(2 * 4096, 4096);
            assertEquals(0, ring.registerBuffers(new long[] {bufs.address(), bufs.address() + 4096}, 4096));
            MemorySegment out = arena.allocate(64);
            out.fill((byte) 7);
            FrameIo.write(pipe.peerEnd(), out.address(), 64, ERRNO);
            int slot = ring.readFixed(pipe.portEnd(), bufs.address() + 4096, 4096, 1);
            ring.submit();
            assertEquals(64, ring.result(slot));
            assertEquals((byte) 7, bufs.get(JAVA_BYTE, 4096 + 63));
        }
    }
}
