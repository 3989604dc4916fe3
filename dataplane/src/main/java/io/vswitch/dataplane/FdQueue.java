package io.vswitch.dataplane;

import io.netty.buffer.ByteBuf;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.FrameIo;

/**
 * One queue of an {@link FdPort}: one fd from which every read returns one frame, read by the
 * loop of one lane. With IFF_MULTI_QUEUE a TAP has one queue per loop and the kernel spreads the
 * container's flows over them by flow hash, so every loop reads its own queue of every port and
 * writes to its own queue of the egress port: a frame is handled start to finish by one thread.
 */
final class FdQueue extends LaneHandle {
    private final FdPort port;
    private final int fd;

    FdQueue(FdPort port, int fd) {
        super(fd);
        this.port = port;
        this.fd = fd;
    }

    int fdInt() {
        return fd;
    }

    @Override
    protected void ready(Lane lane, boolean error) {
        if (port.hasFailed()) {
            return;
        }
        int read = poll(lane);
        if (read == 0 && error && !port.hasFailed()) {
            port.failed(Errno.EBADFD, "poll");
        }
    }

    /**
     * Reads up to one ring of frames, forwards them as one batch, and returns how many were read;
     * stops early at EAGAIN. With offloads the virtio-net header is read into the end of the
     * headroom, so the frame still starts at {@link Lane#HEADROOM} with its header right in front.
     */
    private int poll(Lane lane) {
        long start = lane.enter();
        int count = 0;
        try {
            ByteBuf[] frames = lane.ring();
            int capacity = lane.frameCapacity();
            FrameIo.ErrnoSlot errno = lane.errno();
            int error = 0;
            int header = port.offloads() ? VirtioNetHeader.LENGTH : 0;
            boolean plainInOffloadNetwork = header == 0 && port.inOffloadNetwork();
            while (count < frames.length) {
                ByteBuf buf = frames[count];
                int r = FrameIo.read(fd, buf.memoryAddress() + Lane.HEADROOM - header, capacity + header, errno);
                if (r <= 0) {
                    if (r == 0) {
                        error = Errno.EBADFD; // EOF: the device is gone
                    } else if (r != -Errno.EAGAIN && r != -Errno.EINTR) {
                        error = -r;
                    }
                    break;
                }
                int n = Math.max(0, r - header); // a read shorter than its header counts as a runt
                buf.setIndex(Lane.HEADROOM, Lane.HEADROOM + n);
                if (plainInOffloadNetwork) {
                    VirtioNetHeader.clear(buf); // every frame of an offload network carries a header
                }
                count++;
            }
            if (count > 0) {
                port.received(lane, frames, count, start);
                lane.recycle(count);
            }
            if (error != 0) {
                port.failed(error, "read");
            }
        } finally {
            lane.exit(start);
        }
        return count;
    }
}
