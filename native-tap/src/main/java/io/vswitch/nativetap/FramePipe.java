package io.vswitch.nativetap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Two connected non-blocking file descriptors with a TAP's framing: every read returns exactly
 * one frame and every write sends one ({@code socketpair(AF_UNIX, SOCK_SEQPACKET)}). One end can
 * stand in for a TAP queue in a port, the other for the container, so the data plane's read,
 * forward and write path runs without root and without a device.
 */
public final class FramePipe implements AutoCloseable {
    private final int a;
    private final int b;
    private boolean closedA;
    private boolean closedB;

    private FramePipe(int a, int b) {
        this.a = a;
        this.b = b;
    }

    public static FramePipe open() throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            if (Libc.socketpair(state, Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0, fds) < 0) {
                throw new NativeCallException("socketpair(AF_UNIX, SOCK_SEQPACKET)", "pipe", Libc.errno(state));
            }
            return new FramePipe(fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1));
        }
    }

    /** The end a port reads and writes. */
    public int portEnd() {
        return a;
    }

    /** The end a test sends frames into and reads them from. */
    public int peerEnd() {
        return b;
    }

    /** Closes the port's end (as a port closing its queue would). */
    public synchronized void closePortEnd() {
        if (!closedA) {
            closedA = true;
            close(a);
        }
    }

    /** Closes the peer's end: the port then reads EOF, as from a TAP whose device went away. */
    public synchronized void closePeerEnd() {
        if (!closedB) {
            closedB = true;
            close(b);
        }
    }

    private static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            Libc.close(Libc.errnoState(arena), fd);
        }
    }

    @Override
    public void close() {
        closePortEnd();
        closePeerEnd();
    }
}
