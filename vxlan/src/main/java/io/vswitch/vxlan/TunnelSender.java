package io.vswitch.vxlan;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.vswitch.core.Counters;
import io.vswitch.core.DropReason;
import io.vswitch.core.Segmenter;
import io.vswitch.dataplane.EgressQueue;
import io.vswitch.dataplane.Lane;
import io.vswitch.nativetap.SegmentedDatagram;

/**
 * The sending half of the VTEP: encapsulates frames for tunnel ports ({@link Encapsulation}) and
 * hands them to the {@link Underlay}, batched; the lanes flush it after each batch (it is their
 * {@link EgressQueue}).
 *
 * <h2>Encapsulation without a copy</h2>
 * A datagram is the encapsulation's header, kept in the underlay's send batch, and the frame where
 * it was read. The frame is neither copied nor written to, so the same buffer can at once be
 * flooded to TAPs (with a virtio-net header in front of it) and to every peer. The frame's flow
 * hash, computed once by its batch however many peers a flood reaches, gives the entropy.
 *
 * <h2>GSO frames</h2>
 * A 64 KB offload frame is cut without copying its payload either: each segment's headers (and
 * encapsulation header) are built in a scratch, with the layers the frame's validation parsed, and
 * the whole run goes to the underlay at once ({@link Underlay#sendSegments}, UDP GSO: the kernel's
 * stack and the underlay device handle one packet instead of dozens), its datagrams gathered from
 * their headers there and their payload where the TAP read left it. When the underlay takes no
 * runs, segments are copied whole into the scratch and queued one datagram each, then flushed
 * before the scratch is used again.
 */
public final class TunnelSender implements EgressQueue, AutoCloseable {
    /**
     * Room per segment when only headers are built: Ethernet + VLAN tag, IP and TCP headers with
     * the most options (18 + 60 + 60), the encapsulation header in the headroom in front.
     */
    private static final int HEADER_STRIDE = Lane.HEADROOM + 192;

    private final Encapsulation encapsulation;
    private final Underlay underlay;
    private final Counters counters;
    private final SegmentQueue[] segmentQueues;
    private final int loops;
    private final int segmentStride;

    TunnelSender(Encapsulation encapsulation, Underlay underlay, Counters counters, int loops, int maxFrame) {
        this.encapsulation = encapsulation;
        this.underlay = underlay;
        this.counters = counters;
        this.loops = loops;
        this.segmentStride = Lane.HEADROOM + maxFrame;
        this.segmentQueues = new SegmentQueue[loops];
        for (int i = 0; i < loops; i++) {
            segmentQueues[i] = new SegmentQueue(i);
        }
    }

    Encapsulation encapsulation() {
        return encapsulation;
    }

    /**
     * Queues {@code frame} (of flow {@code flowHash}) for the port's peer; it goes when the lane's
     * batch is done ({@link #flush}) or the underlay's queue is full.
     */
    void send(TunnelPort port, ByteBuf frame, int flowHash, int lane) {
        int length = frame.readableBytes();
        if (!frame.hasMemoryAddress()) {
            port.countDrop(lane, DropReason.TX_ERROR);
            return;
        }
        int dropped = underlay.send(lane, encapsulation.entropy(flowHash), encapsulation.header(port.vni(), flowHash),
                frame.memoryAddress() + frame.readerIndex(), length, port.destination());
        if (dropped > 0) {
            counters.add(lane, TunnelCounter.DROP_TX.ordinal(), dropped);
        }
        counters.increment(lane, TunnelCounter.TX_DATAGRAMS.ordinal());
        counters.add(lane, TunnelCounter.TX_BYTES.ordinal(), length + Encapsulation.HEADER_LENGTH);
        port.sent(lane, length);
    }

    /**
     * Sends a GSO frame of an offload network (virtio-net header in front, {@code layers} parsed
     * by its validation): cut into MTU-sized frames in this lane's scratch and sent at once, so the
     * scratch is free again when this returns.
     */
    void sendGso(TunnelPort port, ByteBuf frame, long layers, int flowHash, int lane) {
        if (lane >= loops) {
            port.countDrop(lane, DropReason.TX_ERROR);
            return;
        }
        SegmentQueue queue = segmentQueues[lane];
        boolean whole = !underlay.takesSegments() || !frame.hasMemoryAddress();
        queue.start(port, flowHash, frame, whole);
        int cut = whole
                ? Segmenter.segment(frame, layers, queue.scratch, Lane.HEADROOM, segmentStride, queue)
                : Segmenter.segmentHeaders(frame, layers, queue.scratch, Lane.HEADROOM, HEADER_STRIDE, queue);
        if (cut < 0) {
            port.countDrop(lane, DropReason.TX_ERROR);
        }
        queue.finish();
        queue.frame = null;
        if (whole) {
            flush(lane); // the queued segments lie in the scratch, which the next GSO frame reuses
        }
    }

    /** Sends what lane {@code lane} queued during its batch. */
    @Override
    public void flush(int lane) {
        int dropped = underlay.flush(lane);
        if (dropped > 0) {
            counters.add(lane, TunnelCounter.DROP_TX.ordinal(), dropped);
        }
    }

    /**
     * The segments of one GSO frame: each gets its encapsulation header in the scratch in front of
     * it, and all go to the underlay in one run (two when they would pass 64 KB). One per loop,
     * used only by that loop's thread.
     */
    private final class SegmentQueue implements Segmenter.SegmentSink, Segmenter.HeaderSink {
        /** The datagrams of one UDP GSO send must stay under the 64 KB an IP packet can hold. */
        private static final int MAX_GSO_BYTES = 65_000;
        final ByteBuf scratch;
        final int lane;
        final SegmentedDatagram run = new SegmentedDatagram();
        TunnelPort port;
        int flowHash;
        boolean whole;
        /** The GSO frame being cut, whose payload the datagrams point into until {@link #finish}. */
        ByteBuf frame;
        int segmentSize;
        int bytes;

        SegmentQueue(int lane) {
            this.lane = lane;
            this.scratch = PooledByteBufAllocator.DEFAULT.directBuffer(UdpUnderlay.MAX_SEGMENTS * segmentStride);
        }

        void start(TunnelPort port, int flowHash, ByteBuf frame, boolean whole) {
            this.port = port;
            this.flowHash = flowHash;
            this.frame = frame;
            this.whole = whole;
            this.segmentSize = 0;
            this.bytes = 0;
        }

        /** A whole segment, payload copied behind its headers in the scratch: one datagram of its own. */
        @Override
        public void accept(ByteBuf segment) {
            send(port, segment, flowHash, lane);
        }

        /** A segment as headers in the scratch and payload still in the TAP's frame. */
        @Override
        public void accept(ByteBuf headers, int payloadIndex, int payloadLength) {
            if (!underlay.takesSegments()) { // refused halfway through this frame: the rest of it is lost, once
                port.countDrop(lane, DropReason.TX_ERROR);
                return;
            }
            int start = headers.readerIndex() - Encapsulation.HEADER_LENGTH;
            encapsulation.writeHeader(headers, start, port.vni(), flowHash);
            int headerLength = headers.readableBytes() + Encapsulation.HEADER_LENGTH;
            int length = headerLength + payloadLength;
            if (segmentSize == 0) {
                segmentSize = length;
            }
            if (bytes + length > MAX_GSO_BYTES || run.size() == SegmentedDatagram.MAX_SEGMENTS) {
                finish();
                segmentSize = length;
            }
            run.add(headers.memoryAddress() + start, headerLength, frame.memoryAddress() + payloadIndex, payloadLength);
            bytes += length;
            counters.increment(lane, TunnelCounter.TX_DATAGRAMS.ordinal());
            counters.add(lane, TunnelCounter.TX_BYTES.ordinal(), length);
            port.sent(lane, length - Encapsulation.HEADER_LENGTH);
        }

        /** Sends what was gathered. */
        void finish() {
            int datagrams = run.size();
            if (datagrams == 0) {
                return;
            }
            if (!underlay.sendSegments(lane, encapsulation.entropy(flowHash), run, port.destination(), segmentSize)) {
                counters.add(lane, TunnelCounter.DROP_TX.ordinal(), datagrams);
            }
            bytes = 0;
        }
    }

    @Override
    public void close() {
        underlay.close();
        for (SegmentQueue q : segmentQueues) {
            if (q != null && q.scratch.refCnt() > 0) {
                q.scratch.release();
            }
        }
    }
}
