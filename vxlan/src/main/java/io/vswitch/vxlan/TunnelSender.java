package io.vswitch.vxlan;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.vswitch.core.Counters;
import io.vswitch.core.DropReason;
import io.vswitch.core.Segmenter;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.dataplane.Lane;
import io.vswitch.nativetap.DatagramBatch;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.SegmentedDatagram;
import io.vswitch.nativetap.UdpSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sending half of the VTEP: encapsulates frames for tunnel ports and sends them, batched.
 *
 * <h2>Sockets</h2>
 * A small pool of UDP sockets bound to ephemeral ports of the local address, shared by the
 * loops: the inner flow's hash picks the socket, so its source port follows the flow (RFC 7348
 * section 5), underlay ECMP can spread flows, and the peer's SO_REUSEPORT group hands one flow
 * to one loop whichever of our loops sent it (a source port per loop would reorder a flow whose
 * packets a multi-queue TAP spreads over loops). Each loop queues its datagrams per socket
 * during a batch and sends each queue with one {@code sendmmsg} after it (or when it is full).
 *
 * <h2>Encapsulation without a copy</h2>
 * A datagram is two iovecs: the 8-byte VXLAN header, kept in the send batch's own memory, and
 * the frame where it was read. The frame is neither copied nor written to, so the same buffer
 * can at once be flooded to TAPs (with a virtio-net header in front of it) and to every peer.
 * A 64 KB offload frame is cut without copying its payload either: each segment's headers (and
 * VXLAN header) are built in a scratch, and one UDP GSO {@code sendmsg} gathers every datagram
 * from its headers there and its payload where the TAP read left it. Should the kernel refuse
 * UDP GSO, segments are copied whole and go one datagram each from then on.
 */
public final class VxlanSender implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VxlanSender.class);
    /** A 64 KB frame cut at the smallest MSS worth supporting (536) makes at most this many. */
    static final int MAX_SEGMENTS = 128;
    /**
     * Room per segment when only headers are built: Ethernet + VLAN tag, IP and TCP headers with
     * the most options (18 + 60 + 60), the VXLAN header in the headroom in front.
     */
    private static final int HEADER_STRIDE = Lane.HEADROOM + 192;

    private final Counters counters;
    private final UdpSocket[] sockets;
    private final DatagramBatch[][] batches;
    private final DatagramBatch controlBatch = new DatagramBatch(1);
    private final SegmentQueue[] segmentQueues;
    private final int loops;
    private final int segmentStride;

    /** Opens {@code sourceSockets} sockets on {@code local} (an IPv4 address as an int). */
    VxlanSender(Dataplane dataplane, Counters counters, int local, int sourceSockets, int maxFrame)
            throws NativeCallException {
        this.counters = counters;
        this.loops = dataplane.threads();
        this.sockets = new UdpSocket[sourceSockets];
        this.batches = new DatagramBatch[loops][sourceSockets];
        this.segmentQueues = new SegmentQueue[loops];
        this.segmentStride = Lane.HEADROOM + maxFrame;
        try {
            for (int k = 0; k < sourceSockets; k++) {
                sockets[k] = UdpSocket.bind(local, 0, 1 << 16, 4 << 20, false);
            }
        } catch (NativeCallException e) {
            close();
            throw e;
        }
        for (int i = 0; i < loops; i++) {
            for (int k = 0; k < sourceSockets; k++) {
                batches[i][k] = new DatagramBatch(MAX_SEGMENTS);
            }
            segmentQueues[i] = new SegmentQueue(i);
        }
    }

    /**
     * Queues {@code frame} for the port's VTEP on the socket of the frame's flow; every socket's
     * queue goes out with one sendmmsg after the batch ({@link #flush}) or when it is full.
     */
    void send(TunnelPort port, ByteBuf frame, int lane) {
        int length = frame.readableBytes();
        if (!frame.hasMemoryAddress()) {
            port.countDrop(lane, DropReason.TX_ERROR);
            return;
        }
        long header = ((long) VxlanHeader.FLAG_I << 56) | ((long) port.vni() << 8);
        long address = frame.memoryAddress() + frame.readerIndex();
        int socket = FlowHash.of(frame) % sockets.length;
        if (lane < loops) {
            DatagramBatch batch = batches[lane][socket];
            if (batch.isFull()) {
                flush(lane, socket);
            }
            batch.add(header, address, length, port.destination());
        } else {
            synchronized (controlBatch) {
                controlBatch.add(header, address, length, port.destination());
                if (controlBatch.flush(sockets[socket].fd()) == 0) {
                    counters.increment(lane, TunnelCounter.DROP_TX.ordinal());
                }
            }
        }
        counters.increment(lane, TunnelCounter.TX_DATAGRAMS.ordinal());
        counters.add(lane, TunnelCounter.TX_BYTES.ordinal(), length + VxlanHeader.LENGTH);
        port.sent(lane, length);
    }

    /**
     * Sends a frame of an offload network (virtio-net header in front): a GSO frame is cut into
     * MTU-sized frames in this lane's scratch and sent at once (so the scratch is free again when
     * this returns); a frame that only needs its checksum finished gets it in place.
     */
    void sendOffloaded(TunnelPort port, ByteBuf frame, int lane) {
        if (VirtioNetHeader.gsoType(frame) == VirtioNetHeader.GSO_NONE) {
            if ((VirtioNetHeader.flags(frame) & VirtioNetHeader.FLAG_NEEDS_CSUM) != 0) {
                Segmenter.completeChecksum(frame);
            }
            send(port, frame, lane);
            return;
        }
        if (lane >= loops) {
            port.countDrop(lane, DropReason.TX_ERROR);
            return;
        }
        SegmentQueue queue = segmentQueues[lane];
        queue.start(port, FlowHash.of(frame) % sockets.length, frame);
        int cut = queue.gsoRefused || !frame.hasMemoryAddress()
                ? Segmenter.segment(frame, queue.scratch, Lane.HEADROOM, segmentStride, queue)
                : Segmenter.segmentHeaders(frame, queue.scratch, Lane.HEADROOM, HEADER_STRIDE, queue);
        if (cut < 0) {
            port.countDrop(lane, DropReason.TX_ERROR);
        }
        queue.finish();
        queue.frame = null;
    }

    /** Sends what lane {@code lane} queued during its batch: one sendmmsg per socket. */
    void flush(int lane) {
        DatagramBatch[] perSocket = batches[lane];
        for (int k = 0; k < perSocket.length; k++) {
            if (perSocket[k].size() > 0) {
                flush(lane, k);
            }
        }
    }

    private void flush(int lane, int socket) {
        DatagramBatch batch = batches[lane][socket];
        int queued = batch.size();
        int sent = batch.flush(sockets[socket].fd());
        if (sent < queued) {
            counters.add(lane, TunnelCounter.DROP_TX.ordinal(), queued - sent);
        }
    }

    /**
     * The segments of one GSO frame, sent with UDP segmentation offload: each segment gets its
     * VXLAN header in the scratch in front of it, and all of them go in one sendmsg (two when
     * they would pass 64 KB), so the kernel's stack and the underlay device handle one packet
     * instead of dozens. One per loop, used only by that loop's thread.
     */
    private final class SegmentQueue implements Segmenter.SegmentSink, Segmenter.HeaderSink {
        /** The datagrams of one UDP GSO send must stay under the 64 KB an IP packet can hold. */
        private static final int MAX_GSO_BYTES = 65_000;
        final ByteBuf scratch;
        final int lane;
        final SegmentedDatagram gso = new SegmentedDatagram();
        TunnelPort port;
        int socket;
        /** The GSO frame being cut, whose payload the datagrams point into until {@link #finish}. */
        ByteBuf frame;
        int segmentSize;
        int bytes;
        boolean gsoRefused;

        SegmentQueue(int lane) {
            this.lane = lane;
            this.scratch = PooledByteBufAllocator.DEFAULT.directBuffer(MAX_SEGMENTS * segmentStride);
        }

        void start(TunnelPort port, int socket, ByteBuf frame) {
            this.port = port;
            this.socket = socket;
            this.frame = frame;
            this.segmentSize = 0;
            this.bytes = 0;
        }

        /** A whole segment, payload copied behind its headers in the scratch. */
        @Override
        public void accept(ByteBuf segment) {
            if (gsoRefused) {
                send(port, segment, lane);
                return;
            }
            gather(segment, 0, 0);
        }

        /** A segment as headers in the scratch and payload still in the TAP's frame. */
        @Override
        public void accept(ByteBuf headers, int payloadIndex, int payloadLength) {
            if (gsoRefused) { // refused halfway through this frame: the rest of it is lost, once
                port.countDrop(lane, DropReason.TX_ERROR);
                return;
            }
            gather(headers, frame.memoryAddress() + payloadIndex, payloadLength);
        }

        /**
         * Queues one datagram: the VXLAN header goes in the headroom in front of {@code headers},
         * then come the headers' readable bytes and, if {@code payloadLength > 0}, the payload
         * at {@code payloadAddress}. Sends first what is queued if this one would not fit.
         */
        private void gather(ByteBuf headers, long payloadAddress, int payloadLength) {
            int start = headers.readerIndex() - VxlanHeader.LENGTH;
            VxlanHeader.write(headers, start, port.vni());
            int headerLength = headers.readableBytes() + VxlanHeader.LENGTH;
            int length = headerLength + payloadLength;
            if (segmentSize == 0) {
                segmentSize = length;
            }
            if (bytes + length > MAX_GSO_BYTES || gso.size() == SegmentedDatagram.MAX_SEGMENTS) {
                finish();
                segmentSize = length;
            }
            if (payloadLength > 0) {
                gso.add(headers.memoryAddress() + start, headerLength, payloadAddress, payloadLength);
            } else {
                gso.add(headers.memoryAddress() + start, headerLength);
            }
            bytes += length;
            counters.increment(lane, TunnelCounter.TX_DATAGRAMS.ordinal());
            counters.add(lane, TunnelCounter.TX_BYTES.ordinal(), length);
            port.sent(lane, length - VxlanHeader.LENGTH);
        }

        /** Sends what was gathered. */
        void finish() {
            int datagrams = gso.size();
            if (datagrams == 0) {
                return;
            }
            if (!gso.send(sockets[socket].fd(), port.destination(), segmentSize)) {
                int errno = gso.lastErrno();
                // No UDP GSO on this path: EINVAL/EOPNOTSUPP from the socket, EMSGSIZE when the
                // route's MTU is too small for the segment, EIO from a device without it.
                if (errno == Errno.EINVAL || errno == Errno.EOPNOTSUPP || errno == Errno.EMSGSIZE || errno == Errno.EIO) {
                    if (!gsoRefused) {
                        gsoRefused = true;
                        LOG.warn("UDP segmentation offload refused ({}: {}); sending one datagram each from now on",
                                Errno.name(errno), Errno.meaning(errno));
                    }
                }
                counters.add(lane, TunnelCounter.DROP_TX.ordinal(), datagrams);
            }
            bytes = 0;
        }
    }

    @Override
    public void close() {
        for (UdpSocket s : sockets) {
            if (s != null) {
                s.close();
            }
        }
        for (SegmentQueue q : segmentQueues) {
            if (q != null && q.scratch.refCnt() > 0) {
                q.scratch.release();
            }
        }
    }
}
