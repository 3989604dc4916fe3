package io.vswitch.dataplane;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.vswitch.core.DropReason;
import io.vswitch.core.Segmenter;
import io.vswitch.core.VirtioNetHeader;

/**
 * One lane's way out for offload frames to a frame port without offloads (a TAP without them in
 * a network whose other ports have them): a 64 KB GSO frame is cut into MTU-sized frames in a
 * scratch buffer, each written as it is finished; a frame that only needs its checksum finished
 * gets it in place.
 * One per lane, used only by that lane's thread; allocation-free after construction.
 */
final class SegmentWriter implements Segmenter.SegmentSink {
    private final ByteBuf scratch;
    private final int lane;
    private FdPort port;
    private int fd;

    SegmentWriter(ByteBufAllocator allocator, int lane) {
        this.scratch = allocator.directBuffer(Lane.HEADROOM + VirtioNetHeader.MAX_GSO_FRAME);
        this.lane = lane;
    }

    /** Sends {@code frame} (with its virtio-net header in front) to a port that takes plain frames. */
    void send(FdPort port, int fd, ByteBuf frame) {
        if (VirtioNetHeader.gsoType(frame) == VirtioNetHeader.GSO_NONE) {
            if ((VirtioNetHeader.flags(frame) & VirtioNetHeader.FLAG_NEEDS_CSUM) != 0) {
                Segmenter.completeChecksum(frame);
            }
            port.writePlain(fd, frame, lane);
            return;
        }
        this.port = port;
        this.fd = fd;
        if (Segmenter.segment(frame, scratch, Lane.HEADROOM, this) < 0) {
            port.countDrop(lane, DropReason.TX_ERROR);
        }
    }

    @Override
    public void accept(ByteBuf segment) {
        port.writeSegment(fd, segment, lane);
    }

    void release() {
        scratch.release();
    }
}
