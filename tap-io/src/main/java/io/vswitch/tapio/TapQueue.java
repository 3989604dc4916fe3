package io.vswitch.tapio;

import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.TapDevice;

/**
 * One queue of a {@link TapPort}: one fd, registered level-triggered for EPOLLIN on the event
 * loop of one lane, which reads it and forwards what it reads. With IFF_MULTI_QUEUE a port has
 * one queue per loop and the kernel spreads the container's flows over them by flow hash, so
 * every loop reads its own queue of every port and writes to its own queue of the egress port:
 * a frame is handled start to finish by one thread.
 */
final class TapQueue implements EpollIoHandle {
    private final TapPort port;
    private final TapDevice device;
    private final FileDescriptor fd;
    private final int fdInt;
    private volatile Lane lane;
    private volatile IoRegistration registration;

    TapQueue(TapPort port, TapDevice device) {
        this.port = port;
        this.device = device;
        this.fdInt = device.fd();
        this.fd = new FileDescriptor(device.fd());
    }

    TapPort port() {
        return port;
    }

    TapDevice device() {
        return device;
    }

    int fdInt() {
        return fdInt;
    }

    Lane lane() {
        return lane;
    }

    void bind(Lane lane, IoRegistration registration) {
        this.lane = lane;
        this.registration = registration;
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        Lane owner = lane;
        if (owner == null || port.hasFailed()) {
            return;
        }
        int read = owner.poll(this);
        if (read == 0 && !port.hasFailed() && event instanceof EpollIoEvent e && e.ops().contains(EpollIoOps.EPOLLERR)) {
            port.failed(Errno.EBADFD, "poll");
        }
    }

    /** Unregisters from the loop; the fd stays open until {@link TapPort#close}. */
    void unregister() {
        IoRegistration reg = registration;
        if (reg != null && reg.isValid()) {
            reg.cancel();
        }
    }

    @Override
    public void close() {
        device.close();
    }
}
