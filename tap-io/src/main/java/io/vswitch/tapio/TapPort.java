package io.vswitch.tapio;

import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.vswitch.core.DropReason;
import io.vswitch.core.Port;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.FrameIo;
import io.vswitch.nativetap.TapDevice;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A switch port backed by one TAP device. Its fd is registered, level-triggered for EPOLLIN,
 * on the event loop of one lane, which reads and forwards its frames; any lane may transmit
 * to it, with one {@code write(2)} per frame straight from the frame's memory.
 *
 * <p>Faults: when the device disappears (its namespace was deleted: reads and writes fail with
 * EBADFD, epoll reports EPOLLERR) the port goes down once: it is logged, counted, unregistered
 * from its loop and reported to the {@link Dataplane}, and every other port keeps forwarding.
 * A write that fails because the link is down in its namespace (EIO) or would block (EAGAIN)
 * only counts a drop.
 */
public final class TapPort extends Port implements EpollIoHandle {
    private final TapDevice device;
    private final FileDescriptor fd;
    private final int fdInt;
    private final boolean vnetHeader;
    private final Dataplane dataplane;
    private final AtomicBoolean failed = new AtomicBoolean();
    private volatile Lane lane;
    private volatile IoRegistration registration;
    private volatile String failure;

    TapPort(TapDevice device, Dataplane dataplane) {
        super(device.name(), dataplane.lanes());
        this.device = device;
        this.fdInt = device.fd();
        this.vnetHeader = device.options().vnetHeader();
        this.fd = new FileDescriptor(device.fd());
        this.dataplane = dataplane;
    }

    public TapDevice device() {
        return device;
    }

    int fdInt() {
        return fdInt;
    }

    /** Whether frames to and from this port carry a virtio-net header (offloads on). */
    public boolean vnetHeader() {
        return vnetHeader;
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    void bind(Lane lane, IoRegistration registration) {
        this.lane = lane;
        this.registration = registration;
    }

    /** The lane whose loop reads this port, or null before it is attached. */
    public Lane lane() {
        return lane;
    }

    /** Why the port went down by itself, or null. */
    public String failure() {
        return failure;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        Lane owner = lane;
        if (owner == null || failed.get()) {
            return;
        }
        int read = owner.poll(this);
        if (read == 0 && !failed.get() && event instanceof EpollIoEvent e
                && e.ops().contains(EpollIoOps.EPOLLERR)) {
            failed(Errno.EBADFD, "poll");
        }
    }

    @Override
    public void transmit(ByteBuf frame, int laneIndex) {
        int length = frame.readableBytes();
        // An offload network's frames keep their virtio-net header in the headroom in front:
        // it goes out with them, unchanged.
        int header = vnetHeader ? VirtioNetHeader.LENGTH : 0;
        int n = FrameIo.write(fdInt, frame.memoryAddress() + frame.readerIndex() - header, length + header,
                dataplane.errnoSlot(laneIndex));
        if (n >= 0) {
            countTx(laneIndex, length);
            return;
        }
        int errno = -n;
        switch (errno) {
            case Errno.EAGAIN -> countDrop(laneIndex, DropReason.TX_FULL);
            case Errno.EIO -> countDrop(laneIndex, DropReason.LINK_DOWN);
            default -> {
                countDrop(laneIndex, DropReason.TX_ERROR);
                if (isGone(errno) && !failed.get()) {
                    Lane owner = lane;
                    if (owner != null) {
                        owner.loop().execute(() -> failed(errno, "write"));
                    }
                }
            }
        }
    }

    private static boolean isGone(int errno) {
        return errno == Errno.EBADFD || errno == Errno.ENODEV || errno == Errno.ENXIO || errno == Errno.EBADF;
    }

    /** Called on the owning loop when the device failed; takes the port down once. */
    void failed(int errno, String call) {
        if (!failed.compareAndSet(false, true)) {
            return;
        }
        setUp(false);
        failure = call + " failed: " + Errno.name(errno) + " (" + Errno.meaning(errno) + ")";
        IoRegistration reg = registration;
        if (reg != null) {
            reg.cancel();
        }
        dataplane.portFailed(this, failure);
    }

    public boolean hasFailed() {
        return failed.get();
    }

    /** Unregisters from the loop. Safe from any thread; the device is closed by {@link #close}. */
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

    @Override
    public String describe() {
        return "tap " + name();
    }
}
