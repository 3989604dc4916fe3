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
    /** With io_uring: how many reads the next batch queues (see {@link TapRing}). */
    private int reads = TapRing.MIN_READS;

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
        TapRing ring = lane.tapRing();
        int read = ring != null ? pollRing(lane, ring) : poll(lane);
        if (read == 0 && error && !port.hasFailed()) {
            port.failed(Errno.EBADFD, "poll");
        }
    }

    /**
     * As {@link #poll}, with the batch's reads queued on the lane's io_uring and submitted with
     * one enter: those that found no frame fail with EAGAIN; the frames that came are moved to
     * the front of the ring, in the order they were read.
     */
    private int pollRing(Lane lane, TapRing tapRing) {
        long start = lane.enter();
        int count = 0;
        try {
            ByteBuf[] frames = lane.ring();
            int capacity = lane.frameCapacity();
            int header = port.offloads() ? VirtioNetHeader.LENGTH : 0;
            boolean plainInOffloadNetwork = header == 0 && port.inOffloadNetwork();
            io.vswitch.nativetap.IoUring ring = tapRing.ring();
            int want = Math.min(reads, frames.length);
            for (int i = 0; i < want; i++) {
                long address = frames[i].memoryAddress() + Lane.HEADROOM - header;
                int index = lane.fixedIndex(i);
                if (index >= 0) {
                    ring.readFixed(fd, address, capacity + header, index);
                } else {
                    ring.read(fd, address, capacity + header);
                }
            }
            ring.submit();
            int error = 0;
            for (int i = 0; i < want; i++) {
                int r = ring.result(i);
                if (r <= 0) {
                    error = readError(r, error);
                    continue;
                }
                if (i != count) {
                    lane.swap(i, count);
                }
                frameRead(frames[count++], r, header, plainInOffloadNetwork);
            }
            // The next batch asks for what this one found and a quarter more (a read that finds
            // nothing costs about as much as one that finds a frame), or twice as many when
            // every read found one: level-triggered epoll calls again for what is left.
            reads = count == want ? Math.min(want * 2, frames.length)
                    : Math.max(TapRing.MIN_READS, Math.min(count + count / 4 + 1, frames.length));
            tapRing.countReads(count);
            deliver(lane, frames, count, start, error);
        } finally {
            lane.exit(start);
        }
        return count;
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
                    error = readError(r, error);
                    break;
                }
                frameRead(buf, r, header, plainInOffloadNetwork);
                count++;
            }
            deliver(lane, frames, count, start, error);
        } finally {
            lane.exit(start);
        }
        return count;
    }

    /** The error a read's result {@code r} (0: EOF, or -errno) stands for, or {@code error} for EAGAIN and EINTR. */
    private static int readError(int r, int error) {
        if (r == 0) {
            return Errno.EBADFD; // EOF: the device is gone
        }
        return r != -Errno.EAGAIN && r != -Errno.EINTR ? -r : error;
    }

    /** Sets {@code buf} to the frame of a read of {@code r} bytes, {@code header} of them its virtio-net header. */
    private static void frameRead(ByteBuf buf, int r, int header, boolean plainInOffloadNetwork) {
        int n = Math.max(0, r - header); // a read shorter than its header counts as a runt
        buf.setIndex(Lane.HEADROOM, Lane.HEADROOM + n);
        if (plainInOffloadNetwork) {
            VirtioNetHeader.clear(buf); // every frame of an offload network carries a header
        }
    }

    /** Forwards the batch's frames, makes the ring ready again, and fails the port on a read error. */
    private void deliver(Lane lane, ByteBuf[] frames, int count, long start, int error) {
        if (count > 0) {
            port.received(lane, frames, count, start);
            lane.recycle(count);
        }
        if (error != 0) {
            port.failed(error, "read");
        }
    }
}
