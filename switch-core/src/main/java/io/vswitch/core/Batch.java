package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

import java.util.Arrays;

/**
 * One lane's batch on its way through a network's {@link FeatureArc}: the frames read from one
 * ingress port, and for each, in parallel primitive arrays, what the stages decided and what was
 * learned of it, so that no frame is parsed twice:
 * <pre>
 *   index i:   frames[i]        the frame (the caller's buffer; never modified but by the egress adapter)
 *              decisions[i]     OPEN, an egress port id, FLOOD, ANSWERED, or a drop (see Forwarder)
 *              sources[i]       source MAC       } read by validate, for every stage after it
 *              destinations[i]  destination MAC  }
 *              layers[i]        Layers.of(frame), parsed on first use (0: not yet)
 *              hashes[i]        FlowHash.of(frame), on first use (-1: not yet)
 * </pre>
 * A GSO frame's layers are parsed by validate (its offload metadata is checked against them) and
 * used again by whatever cuts it into segments at egress; the flow hash is computed once however
 * many tunnels a flood reaches.
 *
 * <p>One per lane, reused for every batch, used only by that lane's thread: nothing here is
 * allocated per batch or frame (the scratch for software segmentation is taken the first time a
 * lane needs it and kept).
 */
public final class Batch {
    /** The decision of a frame no stage has decided yet. */
    public static final int OPEN = Forwarder.VALID;
    /** Room in front of each segment cut in the scratch. */
    static final int SEGMENT_HEADROOM = 64;

    private final int lane;
    private final int[] decisions;
    private final long[] sources;
    private final long[] destinations;
    private final long[] layers;
    private final int[] hashes;
    private final Responder responder;
    private final SegmentOut segmentOut = new SegmentOut();
    /** Per mirror output (by its index in the network's Mirroring): the frame stamp of its last copy. */
    private int[] copiedAt = new int[4];
    private int stamp;
    private ByteBuf segmentScratch;
    /** Whether any frame's layers or flow hash were asked for since the marks were last cleared. */
    private boolean parsed = true;
    /** Whether any frame of this batch was dropped (most batches: none, and finish has nothing to count). */
    private boolean dropped;

    private ByteBuf[] frames;
    private int count;
    private Port ingress;
    private BridgeDomain domain;
    private long nowNs;
    private int tick;
    private boolean offload;

    Batch(int lane, int maxBatch) {
        this.lane = lane;
        this.decisions = new int[maxBatch];
        this.sources = new long[maxBatch];
        this.destinations = new long[maxBatch];
        this.layers = new long[maxBatch];
        this.hashes = new int[maxBatch];
        this.responder = new Responder(lane, maxBatch);
    }

    /** Begins a batch: counts what the ingress received, opens every frame. */
    void start(Port ingress, BridgeDomain domain, ByteBuf[] frames, int count, long nowNs) {
        this.ingress = ingress;
        this.domain = domain;
        this.frames = frames;
        this.count = count;
        this.nowNs = nowNs;
        this.tick = BridgeDomain.tick(nowNs);
        this.offload = domain.settings().offload();
        for (int i = 0; i < count; i++) {
            ingress.countRx(lane, frames[i].readableBytes());
        }
        Arrays.fill(decisions, 0, count, OPEN);
        if (parsed) {
            Arrays.fill(layers, Layers.UNPARSED);
            Arrays.fill(hashes, -1);
            parsed = false;
        }
        dropped = false;
        responder.startBatch();
    }

    /** Ends a batch: counts every drop on the ingress port, and lets go of the caller's frames. */
    void finish() {
        if (dropped) {
            for (int i = 0; i < count; i++) {
                int d = decisions[i];
                if (d < 0) {
                    ingress.countDrop(lane, Forwarder.reason(d));
                }
            }
        }
        frames = null;
        ingress = null;
        domain = null;
    }

    /** Gives back the lane's reply buffers and scratch; the lane is stopping. */
    void release() {
        responder.release();
        if (segmentScratch != null) {
            segmentScratch.release();
            segmentScratch = null;
        }
    }

    public int lane() {
        return lane;
    }

    /** The most frames a batch holds. */
    int capacity() {
        return decisions.length;
    }

    public int count() {
        return count;
    }

    public ByteBuf frame(int i) {
        return frames[i];
    }

    public Port ingress() {
        return ingress;
    }

    public BridgeDomain domain() {
        return domain;
    }

    /** The batch's clock reading (read once by the caller). */
    public long nowNs() {
        return nowNs;
    }

    /** {@link #nowNs} as the MAC table's one-second tick. */
    public int tick() {
        return tick;
    }

    /** Whether the network's frames carry a virtio-net header (checksum and segmentation offloads pass). */
    public boolean offload() {
        return offload;
    }

    public int decision(int i) {
        return decisions[i];
    }

    public void decide(int i, int decision) {
        decisions[i] = decision;
        if (decision < 0) {
            dropped = true;
        }
    }

    /** Drops frame {@code i}; counted under {@code reason} on the ingress port when the arc is done. */
    public void drop(int i, DropReason reason) {
        decisions[i] = Forwarder.drop(reason);
        dropped = true;
    }

    /** Whether no stage has decided frame {@code i} yet (it passed every check so far). */
    public boolean isOpen(int i) {
        return decisions[i] == OPEN;
    }

    /** Whether frame {@code i} is on its way out: to one egress port or flooded. */
    public boolean isForwarded(int i) {
        int d = decisions[i];
        return d >= 0 && d < Forwarder.ANSWERED;
    }

    /** Source MAC of frame {@code i}, as validate read it. */
    public long source(int i) {
        return sources[i];
    }

    /** Destination MAC of frame {@code i}, as validate read it. */
    public long destination(int i) {
        return destinations[i];
    }

    /** Reads frame {@code i}'s addresses for the stages after validate (it has an Ethernet header). */
    void readAddresses(int i) {
        ByteBuf f = frames[i];
        destinations[i] = EthernetFrame.destination(f);
        sources[i] = EthernetFrame.source(f);
    }

    /** Where frame {@code i}'s layers start ({@link Layers}), parsed the first time anyone asks. */
    public long layers(int i) {
        long l = layers[i];
        if (l == Layers.UNPARSED) {
            l = layers[i] = Layers.of(frames[i]);
            parsed = true;
        }
        return l;
    }

    /** Frame {@code i}'s flow hash ({@link FlowHash}), computed the first time anyone asks. */
    public int flowHash(int i) {
        int h = hashes[i];
        if (h < 0) {
            h = hashes[i] = FlowHash.of(frames[i]);
            parsed = true;
        }
        return h;
    }

    /** The lane's responder (its reply buffers are the lane's). */
    Responder responder() {
        return responder;
    }

    /** A new stamp for one frame's mirror copies: no output has had this frame yet. */
    int newCopyStamp(int outputs) {
        if (copiedAt.length < outputs) {
            copiedAt = new int[Math.max(outputs, copiedAt.length * 2)];
        }
        if (++stamp == 0) {
            Arrays.fill(copiedAt, 0);
            stamp = 1;
        }
        return stamp;
    }

    /** Marks mirror output {@code index} as having this frame's copy; false when it had it already. */
    boolean takeCopy(int index, int frameStamp) {
        if (copiedAt[index] == frameStamp) {
            return false;
        }
        copiedAt[index] = frameStamp;
        return true;
    }

    /**
     * Cuts GSO frame {@code i} into segments in the lane's scratch and hands each, finished, to
     * {@code port}'s {@link Port#transmitSegment}. Returns the number of segments, or -1.
     */
    int segment(int i, Port port) {
        ByteBuf scratch = segmentScratch;
        if (scratch == null) {
            scratch = segmentScratch = PooledByteBufAllocator.DEFAULT.directBuffer(
                    SEGMENT_HEADROOM + VirtioNetHeader.MAX_GSO_FRAME);
        }
        segmentOut.port = port;
        int n = Segmenter.segment(frames[i], layers(i), scratch, SEGMENT_HEADROOM, 0, segmentOut);
        segmentOut.port = null;
        return n;
    }

    /** Where the segments of {@link #segment} go. */
    private final class SegmentOut implements Segmenter.SegmentSink {
        Port port;

        @Override
        public void accept(ByteBuf segment) {
            port.transmitSegment(segment, lane);
        }
    }
}
