package io.vswitch.vxlan;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.Coalescer;
import io.vswitch.core.Counters;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.dataplane.Lane;
import io.vswitch.dataplane.LaneHandle;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.UdpSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving half of the VTEP on one loop: that loop's UDP socket (bound to {@code local:port}
 * with SO_REUSEPORT, so the kernel spreads incoming flows over the loops) as a handle of the
 * loop, read with {@code recvmsg} and UDP GRO.
 *
 * <p>One read returns a run of datagrams of one flow, cut again by index (up to
 * {@link #READ_BUDGET} reads per wake-up). Every datagram is checked and decapsulated in place,
 * and its inner frame handed to the lane in batches: consecutive frames from the same peer form
 * one batch, which ends when the peer changes, the batch is full, or the wake-up's reads are
 * done. Nothing is allocated per datagram: the source address is an int, the datagram is a
 * reader/writer index range of the read buffer. Every inner frame is copied once, out of the
 * read buffer that the next read reuses, into a buffer of this receiver's with headroom (and an
 * empty virtio-net header), where the TCP segments of the same flow that follow it are joined to
 * it ({@link Coalescer}), also across reads of one wake-up.
 *
 * <h2>What is accepted</h2>
 * A datagram is dropped and counted by reason when it is shorter than 8 + 14 bytes, has the I
 * flag clear, names a VNI that no network has, comes from an address that is not a peer of that
 * network (VXLAN has no authentication, so only configured peers are heard), or carries an inner
 * frame longer than any overlay network's frames may be. A truncated read and a socket error are
 * counted too. Inner frames then pass the ordinary checks of the pipeline, counted on the tunnel
 * port.
 */
final class VxlanReceiver extends LaneHandle {
    private static final Logger LOG = LoggerFactory.getLogger(VxlanReceiver.class);
    private static final int READ_BUDGET = 16;
    private static final int READ_CAPACITY = 65536;
    /**
     * Receive with UDP GRO (the kernel hands over runs of equal datagrams of one flow in one
     * read). -Dvswitch.vxlan.noCoalesce=true turns off joining TCP segments for the TAPs, for
     * measuring what that step is worth.
     */
    private static final boolean COALESCE = !Boolean.getBoolean("vswitch.vxlan.noCoalesce");

    private final Overlays overlays;
    private final Counters counters;
    private final UdpSocket socket;
    private final int maxFrame;
    private final ByteBuf read;
    private final long readAddress;
    private final ByteBuf[] frames;
    private final ByteBuf[] copies;
    private final boolean[] offloaded;
    private Lane lane;
    private int laneIndex;
    private int pending;
    private TunnelPort pendingPort;
    /** Socket errors already logged, by errno; each is logged once. */
    private final java.util.BitSet logged = new java.util.BitSet();

    VxlanReceiver(UdpSocket socket, Overlays overlays, Counters counters, int batch, int maxFrame) {
        super(socket.fd());
        this.socket = socket;
        this.overlays = overlays;
        this.counters = counters;
        this.maxFrame = maxFrame;
        this.read = PooledByteBufAllocator.DEFAULT.directBuffer(READ_CAPACITY, READ_CAPACITY);
        this.readAddress = read.memoryAddress();
        this.frames = new ByteBuf[batch];
        this.copies = new ByteBuf[batch];
        this.offloaded = new boolean[batch];
    }

    @Override
    protected void ready(Lane owner, boolean error) {
        lane = owner;
        laneIndex = owner.index();
        for (int reads = 0; reads < READ_BUDGET; reads++) {
            int n = socket.receive(readAddress, READ_CAPACITY);
            if (n < 0) {
                if (n != -Errno.EAGAIN && n != -Errno.EINTR) {
                    socketError(-n);
                    continue; // the error is consumed; datagrams may follow it
                }
                break;
            }
            int source = socket.sourceAddress();
            if (socket.truncated()) {
                counters.increment(laneIndex, TunnelCounter.RX_DATAGRAMS.ordinal());
                counters.increment(laneIndex, TunnelCounter.DROP_TRUNCATED.ordinal());
                continue;
            }
            int size = socket.segmentSize();
            if (n == 0 || size <= 0) {
                counters.increment(laneIndex, TunnelCounter.RX_DATAGRAMS.ordinal());
                counters.increment(laneIndex, TunnelCounter.DROP_SHORT.ordinal());
                continue;
            }
            for (int at = 0; at < n; at += size) {
                datagram(at, Math.min(size, n - at), source);
            }
        }
        if (pending > 0) {
            forward();
        }
    }

    private void socketError(int errno) {
        counters.increment(laneIndex, TunnelCounter.DROP_RX_ERROR.ordinal());
        if (errno < 4096 && !logged.get(errno)) {
            logged.set(errno);
            LOG.warn("vxlan receive socket on loop {}: {} ({}); counted as drop_rx_error, logged once",
                    laneIndex, Errno.name(errno), Errno.meaning(errno));
        }
    }

    private void datagram(int at, int length, int source) {
        counters.increment(laneIndex, TunnelCounter.RX_DATAGRAMS.ordinal());
        counters.add(laneIndex, TunnelCounter.RX_BYTES.ordinal(), length);
        ByteBuf content = read.setIndex(at, at + length);
        TunnelPort peer = accept(content, source);
        if (peer == null) {
            return;
        }
        content.skipBytes(VxlanHeader.LENGTH);
        if (pending > 0 && (peer != pendingPort || pending == frames.length)) {
            forward();
        }
        BridgeDomain domain = peer.domain();
        boolean offload = domain != null && domain.settings().offload();
        if (COALESCE && offload && pending > 0 && offloaded[pending - 1]
                && Coalescer.tryAppend(frames[pending - 1], content)) {
            return; // joined the TCP segments before it: one TAP write for all
        }
        offloaded[pending] = offload;
        frames[pending] = copy(content, pending);
        pending++;
        pendingPort = peer;
    }

    /** Copies the inner frame into this receiver's buffer for {@code slot}, behind an empty virtio-net header. */
    private ByteBuf copy(ByteBuf content, int slot) {
        ByteBuf copy = copies[slot];
        if (copy == null) {
            copy = copies[slot] = PooledByteBufAllocator.DEFAULT.directBuffer(Lane.HEADROOM + VirtioNetHeader.MAX_GSO_FRAME);
        }
        copy.setIndex(Lane.HEADROOM, Lane.HEADROOM);
        copy.writeBytes(content, content.readerIndex(), content.readableBytes());
        VirtioNetHeader.clear(copy);
        return copy;
    }

    /** The tunnel port the datagram in {@code content} came through, or null when it is dropped (counted). */
    private TunnelPort accept(ByteBuf content, int source) {
        int start = content.readerIndex();
        if (content.readableBytes() < VxlanHeader.LENGTH + EthernetFrame.HEADER_LENGTH) {
            counters.increment(laneIndex, TunnelCounter.DROP_SHORT.ordinal());
            return null;
        }
        if (!VxlanHeader.hasVni(content, start)) {
            counters.increment(laneIndex, TunnelCounter.DROP_NO_VNI_FLAG.ordinal());
            return null;
        }
        Overlays.Overlay overlay = overlays.overlay(VxlanHeader.vni(content, start));
        if (overlay == null) {
            counters.increment(laneIndex, TunnelCounter.DROP_UNKNOWN_VNI.ordinal());
            return null;
        }
        TunnelPort peer = overlay.peer(source);
        if (peer == null) {
            counters.increment(laneIndex, TunnelCounter.DROP_UNKNOWN_PEER.ordinal());
            return null;
        }
        if (content.readableBytes() - VxlanHeader.LENGTH > maxFrame) {
            counters.increment(laneIndex, TunnelCounter.DROP_OVERSIZE.ordinal());
            return null;
        }
        return peer;
    }

    private void forward() {
        int count = pending;
        pending = 0;
        for (int i = 0; i < count; i++) {
            if (offloaded[i]) {
                Coalescer.finish(frames[i]);
            }
        }
        try {
            lane.process(pendingPort, frames, count);
        } finally {
            for (int i = 0; i < count; i++) {
                if (frames[i].refCnt() > 1) { // kept by someone: this slot gets a new buffer
                    frames[i].release();
                    copies[i] = null;
                }
                frames[i] = null;
            }
        }
    }

    /** Closes the socket and releases the buffers; on this receiver's loop, or after it stopped. */
    void release() {
        socket.close();
        for (int i = 0; i < copies.length; i++) {
            if (copies[i] != null) {
                copies[i].release();
                copies[i] = null;
            }
        }
        if (read.refCnt() > 0) {
            read.release();
        }
    }
}
