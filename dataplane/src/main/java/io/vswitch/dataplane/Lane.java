package io.vswitch.dataplane;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.vswitch.core.Pipeline;
import io.vswitch.core.Port;
import io.vswitch.nativetap.FrameIo;

import java.util.Arrays;

/**
 * The state of one data-plane thread: its lane index (for counters), its pipeline, a ring of
 * receive buffers reused from batch to batch, and its errno slot for native calls.
 *
 * <p>Thread confinement: everything here is used only by the event loop that owns the lane;
 * {@link #enter} asserts it. A handle's read follows one shape:
 * <pre>
 *   long start = lane.enter();               // grace period entered, clock read once
 *   ... read up to ring().length frames into ring() ...
 *   lane.forward(port, lane.ring(), n, start); // the network's stages, then every EgressQueue flushed
 *   lane.recycle(n);
 *   lane.exit(start);                        // grace period left, busy time counted
 * </pre>
 *
 * <p>Buffers: {@code budget} pooled direct buffers are taken once, each with {@link #HEADROOM}
 * in front of the frame (so an encapsulation can prepend its header in place, and a virtio-net
 * header can be read right in front of the frame), handed through the pipeline as that same
 * memory and reused for the next batch. Should a port keep a frame beyond the batch (it retained
 * it), that buffer is left to the port and a fresh one takes its place in the ring.
 */
public final class Lane {
    /** Bytes kept free in front of every received frame for encapsulation and virtio-net headers. */
    public static final int HEADROOM = 64;

    private final int index;
    private final IoEventLoop loop;
    private final Pipeline pipeline;
    private final GracePeriod grace;
    private final ByteBufAllocator allocator;
    private final ByteBuf[] ring;
    private final int[] fixed;
    private final int frameCapacity;
    private final FrameIo.ErrnoSlot errno;
    /** What queues this lane's writes during a batch, flushed after it: the io_uring first. */
    private EgressQueue[] egress = new EgressQueue[0];
    private boolean inBatch;
    /** The lane's io_uring for TAP reads and writes, or null with epoll I/O. */
    private final TapRing tapRing;
    /** Nanoseconds spent reading and forwarding; written by this lane only, read by metrics. */
    private volatile long busyNs;

    Lane(int index, IoEventLoop loop, GracePeriod grace, ByteBufAllocator allocator, int budget, int maxFrame,
            FrameIo.ErrnoSlot errno, TapRing tapRing) {
        this.index = index;
        this.tapRing = tapRing;
        this.loop = loop;
        this.grace = grace;
        this.allocator = allocator;
        this.pipeline = new Pipeline(index, budget);
        this.frameCapacity = maxFrame;
        this.errno = errno;
        this.ring = new ByteBuf[budget];
        for (int i = 0; i < budget; i++) {
            ring[i] = allocator.directBuffer(HEADROOM + maxFrame, HEADROOM + maxFrame);
        }
        this.fixed = new int[budget];
        Arrays.fill(fixed, -1);
        if (tapRing != null) {
            tapRing.attach(this);
            egress = new EgressQueue[] {tapRing};
            long[] addresses = new long[budget];
            for (int i = 0; i < budget; i++) {
                addresses[i] = ring[i].memoryAddress();
            }
            // Registered, a read into ring buffer i needs no page lookup of its own. Refused (no
            // CAP_IPC_LOCK and a low RLIMIT_MEMLOCK), reads go to plain memory: the same frames.
            if (tapRing.ring().registerBuffers(addresses, HEADROOM + maxFrame) == 0) {
                for (int i = 0; i < budget; i++) {
                    fixed[i] = i;
                }
            }
        }
    }

    /**
     * For each ring buffer, its index among the io_uring's registered buffers, or -1 (no
     * io_uring, registration refused, or a buffer that replaced one a port kept). Moves with
     * its buffer: swap both with {@link #swap}.
     */
    int fixedIndex(int slot) {
        return fixed[slot];
    }

    /** Exchanges ring buffers {@code a} and {@code b} (and what is known of them). */
    void swap(int a, int b) {
        ByteBuf t = ring[a];
        ring[a] = ring[b];
        ring[b] = t;
        int f = fixed[a];
        fixed[a] = fixed[b];
        fixed[b] = f;
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

    /** This lane's errno slot, for native calls made on its loop. */
    public FrameIo.ErrnoSlot errno() {
        return errno;
    }

    /** The receive buffers: a handle reads at most this many frames per batch into them. */
    public ByteBuf[] ring() {
        return ring;
    }

    /** The largest frame a ring buffer holds after its headroom. */
    public int frameCapacity() {
        return frameCapacity;
    }

    /** Flushes {@code queue} after every batch of this lane from now on. Call from the lane's own loop. */
    void addEgressQueue(EgressQueue queue) {
        assert loop.inEventLoop();
        EgressQueue[] next = Arrays.copyOf(egress, egress.length + 1);
        next[egress.length] = queue;
        egress = next;
    }

    /** Stops flushing {@code queue}. Call from the lane's own loop. */
    void removeEgressQueue(EgressQueue queue) {
        assert loop.inEventLoop();
        egress = Arrays.stream(egress).filter(q -> q != queue).toArray(EgressQueue[]::new);
    }

    /** Whether the lane is forwarding a batch: its writes may be queued until the batch is done. */
    boolean inBatch() {
        return inBatch;
    }

    /** Starts a batch: enters the grace period and returns the batch's clock reading. */
    public long enter() {
        assert loop.inEventLoop() : "lane " + index + " used off its loop";
        grace.enter(index);
        return System.nanoTime();
    }

    /** Ends a batch begun at {@code startNs}: leaves the grace period and counts the busy time. */
    public void exit(long startNs) {
        grace.exit(index);
        busyNs += System.nanoTime() - startNs;
    }

    /**
     * Forwards {@code frames[0..count)} received on {@code ingress}, then flushes what every
     * {@link EgressQueue} queued for it. Between {@link #enter} and {@link #exit}.
     */
    public void forward(Port ingress, ByteBuf[] frames, int count, long nowNs) {
        inBatch = true;
        try {
            pipeline.process(ingress, frames, count, nowNs);
        } finally {
            inBatch = false;
            flush();
        }
    }

    /** The lane's io_uring, or null when the data plane uses epoll I/O. */
    TapRing tapRing() {
        return tapRing;
    }

    /** A whole batch from a source that read into buffers of its own (a tunnel socket). */
    public void process(Port ingress, ByteBuf[] frames, int count) {
        long start = enter();
        try {
            forward(ingress, frames, count, start);
        } finally {
            exit(start);
        }
    }

    /**
     * Flushes what asynchronous ports queued after frames were written outside a batch, by a
     * task run on this lane's loop. Call from the lane's own loop.
     */
    public void afterWork() {
        assert loop.inEventLoop();
        flush();
    }

    private void flush() {
        for (EgressQueue q : egress) {
            q.flush(index);
        }
    }

    /** Makes the first {@code count} ring buffers ready for the next batch. */
    public void recycle(int count) {
        ByteBuf[] frames = ring;
        for (int i = 0; i < count; i++) {
            ByteBuf buf = frames[i];
            if (buf.refCnt() > 1) {
                buf.release();
                frames[i] = allocator.directBuffer(HEADROOM + frameCapacity, HEADROOM + frameCapacity);
                fixed[i] = -1;
            } else {
                buf.clear();
            }
        }
    }

    void releaseBuffers() {
        if (tapRing != null) {
            tapRing.close();
        }
        pipeline.release();
        for (int i = 0; i < ring.length; i++) {
            if (ring[i] != null) {
                ring[i].release();
                ring[i] = null;
            }
        }
    }
}
