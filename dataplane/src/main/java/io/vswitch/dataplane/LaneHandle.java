package io.vswitch.dataplane;

import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;

/**
 * A file descriptor that one lane's event loop reads: a TAP queue, a tunnel's receive socket.
 * The {@link Dataplane} registers it level-triggered for EPOLLIN with the loop of its lane, and
 * {@link #ready} runs on that loop whenever the fd is readable, to read a budget of frames and
 * forward them through the lane. Level-triggered epoll calls again when frames are left, after
 * the loop's other handles had their turn.
 *
 * <p>Thread confinement: {@link #ready} runs only on the lane's loop. Registration and
 * cancellation happen as tasks on that loop. The fd belongs to whoever made the handle: the
 * data plane never closes it, and Netty's {@link #close} (called when a loop shuts down) does
 * nothing here.
 */
public abstract class LaneHandle implements EpollIoHandle {
    private final FileDescriptor fd;
    private volatile Lane lane;
    private volatile IoRegistration registration;

    protected LaneHandle(int fd) {
        this.fd = new FileDescriptor(fd);
    }

    /** The lane whose loop reads this handle, or null before it is registered. */
    public final Lane lane() {
        return lane;
    }

    final void bind(Lane lane, IoRegistration registration) {
        this.lane = lane;
        this.registration = registration;
    }

    /**
     * Stops the loop from reading this handle; the fd stays open. Idempotent; any thread, also
     * after the loops stopped (their registrations went with them).
     */
    public final void cancel() {
        IoRegistration reg = registration;
        if (reg != null && reg.isValid()) {
            try {
                reg.cancel();
            } catch (java.util.concurrent.RejectedExecutionException loopGone) {
                // The loop has terminated: nothing reads this handle any more.
            }
        }
    }

    /**
     * The fd is readable (or in error: {@code error} is true for EPOLLERR): read and forward
     * through {@code lane}. Runs on the lane's loop.
     */
    protected abstract void ready(Lane lane, boolean error);

    @Override
    public final FileDescriptor fd() {
        return fd;
    }

    @Override
    public final void handle(IoRegistration registration, IoEvent event) {
        Lane owner = lane;
        if (owner == null) {
            return;
        }
        boolean error = event instanceof EpollIoEvent e && e.ops().contains(EpollIoOps.EPOLLERR);
        ready(owner, error);
    }

    @Override
    public void close() {
        // The fd belongs to the port or endpoint that made this handle; it closes it.
    }
}
