package io.vswitch.tapio;

import io.netty.buffer.ByteBuf;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.DropReason;
import io.vswitch.core.Port;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.FrameIo;
import io.vswitch.nativetap.TapDevice;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A switch port backed by one TAP device with one or more queues ({@link TapQueue}), each read
 * by the loop of one lane. Any lane may transmit to the port: it writes, with one
 * {@code write(2)} per frame straight from the frame's memory, to its own queue (lane i to
 * queue i mod queues), so with one queue per loop no two threads share a queue.
 *
 * <p>Faults: when the device disappears (its namespace was deleted: reads and writes fail with
 * EBADFD, epoll reports EPOLLERR) the port goes down once: it is logged, counted, unregistered
 * from its loops and reported to the {@link Dataplane}, and every other port keeps forwarding.
 * A write that fails because the link is down in its namespace (EIO) or would block (EAGAIN)
 * only counts a drop.
 */
public final class TapPort extends Port {
    private final TapQueue[] queues;
    private final int[] txFds;
    private final boolean vnetHeader;
    private final Dataplane dataplane;
    private final AtomicBoolean failed = new AtomicBoolean();
    private volatile String failure;

    TapPort(List<TapDevice> devices, Dataplane dataplane) {
        super(devices.get(0).name(), dataplane.lanes());
        this.queues = new TapQueue[devices.size()];
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new TapQueue(this, devices.get(i));
        }
        this.txFds = new int[dataplane.lanes()];
        for (int lane = 0; lane < txFds.length; lane++) {
            txFds[lane] = queues[lane % queues.length].fdInt();
        }
        this.vnetHeader = devices.get(0).options().vnetHeader();
        this.dataplane = dataplane;
    }

    /** The first queue's device: name, options, persistence, where it was found. */
    public TapDevice device() {
        return queues[0].device();
    }

    /** How many queues (fds) the port has. */
    public int queueCount() {
        return queues.length;
    }

    TapQueue queue(int i) {
        return queues[i];
    }

    /** The device (fd) of queue {@code i}. */
    public TapDevice queueDevice(int i) {
        return queues[i].device();
    }

    /** Whether frames to and from this port carry a virtio-net header (offloads on). */
    public boolean vnetHeader() {
        return vnetHeader;
    }

    /** The lane whose loop reads the first queue, or null before the port is attached. */
    public Lane lane() {
        return queues[0].lane();
    }

    /** Why the port went down by itself, or null. */
    public String failure() {
        return failure;
    }

    @Override
    public void transmit(ByteBuf frame, int laneIndex) {
        if (vnetHeader) {
            // An offload network's frames keep their virtio-net header in the headroom in
            // front: it goes out with them, unchanged.
            write(txFds[laneIndex], frame, VirtioNetHeader.LENGTH, laneIndex);
            return;
        }
        BridgeDomain domain = domain();
        if (domain != null && domain.settings().offload()) {
            // This port has no offloads but the frame may: segment it or finish its checksum.
            dataplane.segmentWriter(laneIndex).send(this, txFds[laneIndex], frame);
            return;
        }
        write(txFds[laneIndex], frame, 0, laneIndex);
    }

    /** Writes a finished plain frame (no virtio-net header) from lane {@code laneIndex}. */
    void writePlain(int fd, ByteBuf frame, int laneIndex) {
        write(fd, frame, 0, laneIndex);
    }

    private void write(int fd, ByteBuf frame, int header, int laneIndex) {
        int length = frame.readableBytes();
        int n = FrameIo.write(fd, frame.memoryAddress() + frame.readerIndex() - header, length + header,
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
                    Lane owner = lane();
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

    /** Takes the port down once, when one of its queues failed. */
    void failed(int errno, String call) {
        if (!failed.compareAndSet(false, true)) {
            return;
        }
        setUp(false);
        failure = call + " failed: " + Errno.name(errno) + " (" + Errno.meaning(errno) + ")";
        for (TapQueue q : queues) {
            Lane owner = q.lane();
            if (owner != null) {
                if (owner.loop().inEventLoop()) {
                    q.unregister();
                } else {
                    owner.loop().execute(q::unregister);
                }
            }
        }
        dataplane.portFailed(this, failure);
    }

    public boolean hasFailed() {
        return failed.get();
    }

    /** Closes every queue; a non-persistent device goes away with its last queue. */
    public void close() {
        for (TapQueue q : queues) {
            q.close();
        }
    }

    @Override
    public String describe() {
        return "tap " + name();
    }
}
