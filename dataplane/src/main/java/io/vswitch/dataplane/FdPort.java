package io.vswitch.dataplane;

import io.netty.buffer.ByteBuf;
import io.vswitch.core.DropReason;
import io.vswitch.core.Port;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.FrameIo;

import java.util.List;

/**
 * A port backed by file descriptors on which every read returns one Ethernet frame and every
 * write sends one: the queues of a TAP device, or in tests one end of a SOCK_SEQPACKET socket
 * pair. Each queue is a {@link LaneHandle} read by one lane's loop. Any lane may transmit to the
 * port: it writes straight from the frame's memory to its own queue (lane i to queue i mod
 * queues), so with one queue per loop no two threads share one. With io_uring the writes of a
 * batch are queued on the lane's {@link TapRing} and go out together; with epoll (or outside a
 * batch) each is one {@code write(2)}.
 *
 * <p>Faults: when the device disappears (its namespace was deleted: reads and writes fail with
 * EBADFD, epoll reports EPOLLERR) the port fails once: it goes down, its queues stop being read,
 * and the {@link Dataplane} counts it and tells its listener; every other port keeps forwarding.
 * A write that fails because the link is down in its namespace (EIO) or would block (EAGAIN)
 * only counts a drop.
 */
public abstract class FdPort extends Port {
    private final FdQueue[] queues;
    private final int[] txFds;
    private final boolean vnetHeader;
    private final Dataplane dataplane;

    /** {@code fds}: the queues' file descriptors, which this port closes in {@link #closeQueues}. */
    protected FdPort(String name, List<Integer> fds, boolean vnetHeader, Dataplane dataplane) {
        super(name, dataplane.lanes());
        this.queues = new FdQueue[fds.size()];
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new FdQueue(this, fds.get(i));
        }
        this.txFds = new int[dataplane.lanes()];
        for (int lane = 0; lane < txFds.length; lane++) {
            txFds[lane] = queues[lane % queues.length].fdInt();
        }
        this.vnetHeader = vnetHeader;
        this.dataplane = dataplane;
    }

    /** Set when this port's device is a VLAN trunk: its frames go to the trunk's VLAN ports. */
    private volatile VlanTrunk trunk;

    /** Makes this port the carrier of a VLAN trunk (it is then attached to no network itself). */
    final void carry(VlanTrunk trunk) {
        this.trunk = trunk;
    }

    /** Frames read from one of this port's queues: to its network, or through its trunk to theirs. */
    final void received(Lane lane, io.netty.buffer.ByteBuf[] frames, int count, long start) {
        VlanTrunk t = trunk;
        if (t != null) {
            t.received(lane, frames, count, start);
        } else {
            lane.forward(this, frames, count, start);
        }
    }

    /** The fd lane {@code lane} writes to. */
    final int txFd(int lane) {
        return txFds[lane];
    }

    final Dataplane dataplane() {
        return dataplane;
    }

    /** Counts a failed write the way {@link #transmit} does, on {@code port}. */
    final void writeFailed(Port port, int errno, int lane) {
        switch (errno) {
            case Errno.EAGAIN -> port.countDrop(lane, DropReason.TX_FULL);
            case Errno.EIO -> port.countDrop(lane, DropReason.LINK_DOWN);
            default -> port.countDrop(lane, DropReason.TX_ERROR);
        }
    }

    /** The handles the data plane reads: one per queue. */
    public final List<LaneHandle> handles() {
        return List.of(queues);
    }

    @Override
    public final int queueCount() {
        return queues.length;
    }

    @Override
    public final boolean offloads() {
        return vnetHeader;
    }

    /** The lane whose loop reads the first queue, or null before the port is attached. */
    public final Lane lane() {
        return queues[0].lane();
    }

    /**
     * Writes a frame in this port's form: with offloads its virtio-net header, in the headroom in
     * front, goes out with it unchanged; without, the frame alone (the egress adapter has cut or
     * finished an offload network's frame for it already).
     */
    @Override
    public final void transmit(ByteBuf frame, int laneIndex) {
        write(txFds[laneIndex], frame, vnetHeader ? VirtioNetHeader.LENGTH : 0, laneIndex);
    }

    /**
     * Writes a segment cut into scratch memory that is reused as soon as this returns: at once,
     * after the writes the lane has queued (so the frames of a flow stay in order).
     */
    @Override
    protected final void transmitSegment(ByteBuf segment, int laneIndex) {
        TapRing ring = dataplane.tapRing(laneIndex);
        if (ring != null) {
            ring.flush(laneIndex);
        }
        int length = segment.readableBytes();
        written(FrameIo.write(txFds[laneIndex], segment.memoryAddress() + segment.readerIndex(), length,
                dataplane.errnoSlot(laneIndex)), length, laneIndex);
    }

    private void write(int fd, ByteBuf frame, int header, int laneIndex) {
        TapRing ring = dataplane.tapRing(laneIndex);
        if (ring != null && ring.batching()) {
            ring.write(this, fd, frame, header, laneIndex);
            return;
        }
        int length = frame.readableBytes();
        written(FrameIo.write(fd, frame.memoryAddress() + frame.readerIndex() - header, length + header,
                dataplane.errnoSlot(laneIndex)), length, laneIndex);
    }

    /** Counts the outcome {@code n} (bytes, or -errno) of a write of a {@code length}-byte frame. */
    final void written(int n, int length, int laneIndex) {
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
                if (isGone(errno) && !hasFailed()) {
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

    /** Takes the port down once, when one of its queues failed with {@code errno} in {@code call}. */
    final void failed(int errno, String call) {
        if (fail(call + " failed: " + Errno.name(errno) + " (" + Errno.meaning(errno) + ")")) {
            dataplane.portFailed(this);
        }
    }

    /** Closes the queues' file descriptors. */
    protected abstract void closeQueues();

    @Override
    public final void close() {
        closeQueues();
    }
}
