package io.vswitch.tapio;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.vswitch.core.GracePeriod;
import io.vswitch.core.Pipeline;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.FrameIo;

/**
 * The state of one data-plane thread: its lane index (for counters), its pipeline, a ring of
 * receive buffers reused from batch to batch, and its errno slot for native calls.
 *
 * <p>Thread confinement: everything here is used only by the event loop that owns the lane;
 * {@link #poll} asserts it.
 *
 * <p>Buffers: {@code budget} pooled direct buffers are taken once. A frame is read into one at a
 * fixed headroom (so an encapsulation can later prepend its header in place), handed through
 * the pipeline as that same memory, and the buffer is reused for the next batch. Should a port
 * keep a frame beyond the batch (it retained it), that buffer is left to the port and a fresh
 * one takes its place in the ring.
 */
public final class Lane {
    /** Bytes kept free in front of every received frame for encapsulation headers. */
    public static final int HEADROOM = 64;

    private final int index;
    private final IoEventLoop loop;
    private final Pipeline pipeline;
    private final GracePeriod grace;
    private final ByteBufAllocator allocator;
    private final ByteBuf[] ring;
    private final int frameCapacity;
    private final FrameIo.ErrnoSlot errno = new FrameIo.ErrnoSlot();
    private Runnable[] afterBatch = new Runnable[0];
    /** Nanoseconds spent forwarding; written by this lane only, read by metrics. */
    private volatile long busyNs;

    Lane(int index, IoEventLoop loop, GracePeriod grace, ByteBufAllocator allocator, int budget, int maxFrame) {
        this.index = index;
        this.loop = loop;
        this.grace = grace;
        this.allocator = allocator;
        this.pipeline = new Pipeline(index, budget);
        this.frameCapacity = maxFrame;
        this.ring = new ByteBuf[budget];
        for (int i = 0; i < budget; i++) {
            ring[i] = allocator.directBuffer(HEADROOM + maxFrame, HEADROOM + maxFrame);
        }
    }

    public int index() {
        return index;
    }

    public IoEventLoop loop() {
        return loop;
    }

    /** Total time this lane spent reading and forwarding, for its busy ratio. */
    public long busyNanos() {
        return busyNs;
    }

    FrameIo.ErrnoSlot errno() {
        return errno;
    }

    /**
     * Adds work to run on this lane's loop after every batch, such as flushing the writes an
     * asynchronous port queued during it ("batch complete is where you flush"). Call from the
     * lane's own loop.
     */
    public void addAfterBatch(Runnable hook) {
        assert loop.inEventLoop();
        Runnable[] next = java.util.Arrays.copyOf(afterBatch, afterBatch.length + 1);
        next[afterBatch.length] = hook;
        afterBatch = next;
    }

    /**
     * Forwards a batch that this lane's loop received from some other source than a TAP (a
     * tunnel socket): the same pipeline, grace period and after-batch work as {@link #poll}.
     */
    public void process(io.vswitch.core.Port ingress, ByteBuf[] frames, int count) {
        assert loop.inEventLoop() : "lane " + index + " used off its loop";
        grace.enter(index);
        long start = System.nanoTime();
        try {
            pipeline.process(ingress, frames, count, start);
            runAfterBatch();
        } finally {
            grace.exit(index);
            busyNs += System.nanoTime() - start;
        }
    }

    private void runAfterBatch() {
        for (Runnable hook : afterBatch) {
            hook.run();
        }
    }

    /**
     * Reads up to one budget of frames from {@code port}, forwards them as one batch, and
     * returns how many were read; stops early at EAGAIN. Level-triggered epoll calls again when
     * frames are left, after the loop's other handles had their turn.
     */
    int poll(TapQueue queue) {
        TapPort port = queue.port();
        assert loop.inEventLoop() : "lane " + index + " polled off its loop";
        grace.enter(index);
        long start = System.nanoTime();
        int count = 0;
        try {
            int fd = queue.fdInt();
            ByteBuf[] frames = ring;
            int error = 0;
            // With offloads the virtio-net header is read into the end of the headroom, so the
            // frame still starts at HEADROOM and the header sits right in front of it.
            int header = port.vnetHeader() ? VirtioNetHeader.LENGTH : 0;
            io.vswitch.core.BridgeDomain domain = port.domain();
            boolean plainInOffloadNetwork = header == 0 && domain != null && domain.settings().offload();
            while (count < frames.length) {
                ByteBuf buf = frames[count];
                int r = FrameIo.read(fd, buf.memoryAddress() + HEADROOM - header, frameCapacity + header, errno);
                if (r <= 0) {
                    if (r == 0) {
                        error = Errno.EBADFD; // EOF: the device is gone
                    } else if (r != -Errno.EAGAIN && r != -Errno.EINTR) {
                        error = -r;
                    }
                    break;
                }
                int n = Math.max(0, r - header); // a read shorter than its header counts as a runt
                buf.setIndex(HEADROOM, HEADROOM + n);
                if (plainInOffloadNetwork) {
                    VirtioNetHeader.clear(buf); // every frame of an offload network carries a header
                }
                count++;
            }
            if (count > 0) {
                pipeline.process(port, frames, count, start);
                runAfterBatch();
                recycle(count);
            }
            if (error != 0) {
                port.failed(error, "read");
            }
        } finally {
            grace.exit(index);
            busyNs += System.nanoTime() - start;
        }
        return count;
    }

    private void recycle(int count) {
        ByteBuf[] frames = ring;
        for (int i = 0; i < count; i++) {
            ByteBuf buf = frames[i];
            if (buf.refCnt() > 1) {
                buf.release();
                frames[i] = allocator.directBuffer(HEADROOM + frameCapacity, HEADROOM + frameCapacity);
            } else {
                buf.clear();
            }
        }
    }

    void releaseBuffers() {
        for (int i = 0; i < ring.length; i++) {
            if (ring[i] != null) {
                ring[i].release();
                ring[i] = null;
            }
        }
    }
}
