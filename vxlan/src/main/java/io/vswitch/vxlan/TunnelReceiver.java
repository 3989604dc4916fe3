package io.vswitch.vxlan;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.vswitch.core.Coalescer;
import io.vswitch.core.Counters;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.dataplane.Lane;
import io.vswitch.dataplane.LaneHandle;
import io.vswitch.nativetap.Errno;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving half of the VTEP on one loop: that loop's end of the {@link Underlay} (a UDP
 * socket bound to {@code local:port} with SO_REUSEPORT, so the kernel spreads incoming flows over
 * the loops, read with {@code recvmsg} and UDP GRO) as a handle of the loop, each datagram
 * unwrapped by the {@link Encapsulation}.
 *
 * <p>One read returns a run of datagrams of one flow, cut again by index (up to
 * {@link #READ_BUDGET} reads per wake-up). Every datagram is checked and decapsulated in place,
 * and its inner frame handed to the lane in batches: consecutive frames from the same peer form
 * one batch, which ends when the peer changes, the batch is full, or the wake-up's reads are
 * done. Nothing is allocated per datagram: the source address is an int, the datagram is a
 * reader/writer index range of the read buffer.
 *
 * <h2>Frames stay where the kernel put them</h2>
 * Each read of a wake-up has a buffer of its own, and a run is read into it
 * {@link Lane#HEADROOM} bytes in, so the buffer the kernel copied the datagrams into is the one
 * the TAP writes take them from:
 * <pre>
 *   read buffer r:  | headroom | encap | inner frame 1 | encap | inner frame 2 | ...
 *                          [virtio-net]^                  ^ 8 bytes in front only
 * </pre>
 * An inner frame is handed on as a view of that buffer, its outer header stripped by moving the
 * reader index. In an offload network its virtio-net header (10 bytes) is written in place in
 * front of it, over the encapsulation header just read and what was before it: room there is
 * for the first frame of a run (the headroom) and for any frame behind bytes that are no longer
 * part of a frame (datagrams that were dropped, copied away, or whose payload was joined to the
 * frame before them). A frame of a network without offloads needs nothing in front (no port of
 * such a network has a virtio-net header) and is always left in place. Only a frame of an
 * offload network that directly follows another frame left in place is copied, into a buffer of
 * this receiver's with headroom (counted as {@code rx_copied}): its 8 bytes of encapsulation
 * header are too few for the header, and writing it would overwrite the end of the frame before.
 * In a run of segments that cannot be joined (UDP, fragments) that is every second frame.
 *
 * <p>The TCP segments of one flow that follow a frame are joined to it ({@link Coalescer}), so
 * an offload TAP takes them with one write, its virtio-net header describing the whole as GSO;
 * within one read that moves each joined payload back over the headers of the segments in
 * between ({@code memmove} within the buffer, the bytes still in cache), across reads of one
 * wake-up it copies the payload to the frame's buffer.
 *
 * <p>Buffer lifetime: frames are written by the TAPs before {@link Lane#process} returns, so a
 * read buffer is free again at the next wake-up, unless a port kept a frame of it (retained
 * it): then that buffer is left to the port and a fresh one takes its place.
 *
 * <h2>What is accepted</h2>
 * A datagram is dropped and counted by reason when it is shorter than 8 + 14 bytes, is not the
 * encapsulation's (VXLAN: the I flag clear), names a VNI that no network has, comes from an address that is not a peer of that
 * network (VXLAN has no authentication, so only configured peers are heard), or carries an inner
 * frame longer than any overlay network's frames may be. A truncated read and a socket error are
 * counted too. Inner frames then pass the ordinary checks of the pipeline, counted on the tunnel
 * port.
 */
final class TunnelReceiver extends LaneHandle {
    private static final Logger LOG = LoggerFactory.getLogger(TunnelReceiver.class);
    private static final int READ_BUDGET = 16;
    private static final int READ_CAPACITY = 65536;
    /**
     * Receive with UDP GRO (the kernel hands over runs of equal datagrams of one flow in one
     * read). -Dvswitch.vxlan.noCoalesce=true turns off joining TCP segments for the TAPs, for
     * measuring what that step is worth.
     */
    private static final boolean COALESCE = !Boolean.getBoolean("vswitch.vxlan.noCoalesce");

    private final Overlays overlays;
    private final Encapsulation encapsulation;
    private final Counters counters;
    private final DatagramSource socket;
    private final int maxFrame;
    /** Frames one read buffer can be cut into as views (UDP GRO joins at most 64 datagrams). */
    private static final int VIEWS_PER_READ = 64;

    /** One buffer per read of a wake-up, {@link Lane#HEADROOM} + {@link #READ_CAPACITY} bytes. */
    private final ByteBuf[] reads = new ByteBuf[READ_BUDGET];
    /** Per read buffer, the views its frames are handed on as; made on first use, then reused. */
    private final ByteBuf[][] views = new ByteBuf[READ_BUDGET][VIEWS_PER_READ];
    private final ByteBuf[] frames;
    private final ByteBuf[] copies;
    private final boolean[] copied;
    private final boolean[] offloaded;
    /** The read buffer being cut, its views handed out so far, and the last frame left in it. */
    private int current;
    private int viewsUsed;
    private ByteBuf lastPlaced;
    private Lane lane;
    private int laneIndex;
    private int pending;
    private TunnelPort pendingPort;
    /** Socket errors already logged, by errno; each is logged once. */
    private final java.util.BitSet logged = new java.util.BitSet();

    TunnelReceiver(DatagramSource socket, Overlays overlays, Encapsulation encapsulation, Counters counters, int batch,
            int maxFrame) {
        super(socket.fd());
        this.socket = socket;
        this.overlays = overlays;
        this.encapsulation = encapsulation;
        this.counters = counters;
        this.maxFrame = maxFrame;
        for (int r = 0; r < READ_BUDGET; r++) {
            reads[r] = newReadBuffer();
        }
        this.frames = new ByteBuf[batch];
        this.copies = new ByteBuf[batch];
        this.copied = new boolean[batch];
        this.offloaded = new boolean[batch];
    }

    private static ByteBuf newReadBuffer() {
        return PooledByteBufAllocator.DEFAULT.directBuffer(Lane.HEADROOM + READ_CAPACITY, Lane.HEADROOM + READ_CAPACITY);
    }

    @Override
    protected void ready(Lane owner, boolean error) {
        lane = owner;
        laneIndex = owner.index();
        int used = 0;
        for (int r = 0; r < READ_BUDGET; r++) {
            ByteBuf buffer = reads[r];
            int n = socket.receive(buffer.memoryAddress() + Lane.HEADROOM, READ_CAPACITY);
            if (n < 0) {
                if (n != -Errno.EAGAIN && n != -Errno.EINTR) {
                    socketError(-n);
                    continue; // the error is consumed; datagrams may follow it
                }
                break;
            }
            used = r + 1;
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
            current = r;
            viewsUsed = 0;
            lastPlaced = null;
            int end = Lane.HEADROOM + n;
            for (int at = Lane.HEADROOM; at < end; at += size) {
                datagram(buffer, at, Math.min(size, end - at), source);
            }
        }
        if (pending > 0) {
            forward();
        }
        lastPlaced = null;
        for (int r = 0; r < used; r++) {
            if (reads[r].refCnt() > 1) { // a port kept a frame of it: leave it to that port
                reads[r].release();
                reads[r] = newReadBuffer();
                java.util.Arrays.fill(views[r], null);
            }
        }
    }

    private void socketError(int errno) {
        counters.increment(laneIndex, TunnelCounter.DROP_RX_ERROR.ordinal());
        if (errno < 4096 && !logged.get(errno)) {
            logged.set(errno);
            LOG.warn("{} receive socket on loop {}: {} ({}); counted as drop_rx_error, logged once",
                    encapsulation.kind(), laneIndex, Errno.name(errno), Errno.meaning(errno));
        }
    }

    private void datagram(ByteBuf buffer, int at, int length, int source) {
        counters.increment(laneIndex, TunnelCounter.RX_DATAGRAMS.ordinal());
        counters.add(laneIndex, TunnelCounter.RX_BYTES.ordinal(), length);
        ByteBuf content = buffer.setIndex(at, at + length);
        TunnelPort peer = accept(content, source);
        if (peer == null) {
            return;
        }
        content.skipBytes(Encapsulation.HEADER_LENGTH);
        if (pending > 0 && (peer != pendingPort || pending == frames.length)) {
            forward();
        }
        boolean offload = peer.inOffloadNetwork();
        if (COALESCE && offload && pending > 0 && offloaded[pending - 1]
                && Coalescer.tryAppend(frames[pending - 1], content)) {
            return; // joined the TCP segments before it: one TAP write for all
        }
        offloaded[pending] = offload;
        frames[pending] = place(content, offload, pending);
        pending++;
        pendingPort = peer;
    }

    /**
     * The inner frame in {@code content} (a range of the current read buffer) as a frame to hand
     * on: a view of the read buffer when there is room in front of it for what its network needs
     * there (see the class comment), else a copy.
     */
    private ByteBuf place(ByteBuf content, boolean offload, int slot) {
        int start = content.readerIndex();
        int floor = lastPlaced == null ? 0 : lastPlaced.writerIndex();
        if (viewsUsed < VIEWS_PER_READ && fitsInPlace(start, floor, offload)) {
            ByteBuf view = views[current][viewsUsed];
            if (view == null) {
                view = views[current][viewsUsed] = reads[current].duplicate();
            }
            viewsUsed++;
            view.setIndex(start, content.writerIndex());
            if (offload) {
                VirtioNetHeader.clear(view);
            }
            lastPlaced = view;
            copied[slot] = false;
            return view;
        }
        counters.increment(laneIndex, TunnelCounter.RX_COPIED.ordinal());
        copied[slot] = true;
        return copy(content, slot);
    }

    /**
     * Whether an inner frame starting at {@code start} of a read buffer can be handed on where it
     * lies: a frame of an offload network needs a virtio-net header in front of it, written over
     * bytes from {@code floor} on (the first byte after every frame already cut from the buffer);
     * other frames need nothing in front.
     */
    static boolean fitsInPlace(int start, int floor, boolean offload) {
        return !offload || start - VirtioNetHeader.LENGTH >= floor;
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
        if (content.readableBytes() < Encapsulation.HEADER_LENGTH + EthernetFrame.HEADER_LENGTH) {
            counters.increment(laneIndex, TunnelCounter.DROP_SHORT.ordinal());
            return null;
        }
        int vni = encapsulation.decapsulate(content, start);
        if (vni == Encapsulation.NOT_OURS) {
            counters.increment(laneIndex, TunnelCounter.DROP_NO_VNI_FLAG.ordinal());
            return null;
        }
        Overlays.Overlay overlay = overlays.overlay(vni);
        if (overlay == null) {
            counters.increment(laneIndex, TunnelCounter.DROP_UNKNOWN_VNI.ordinal());
            return null;
        }
        TunnelPort peer = overlay.peer(source);
        if (peer == null) {
            counters.increment(laneIndex, TunnelCounter.DROP_UNKNOWN_PEER.ordinal());
            return null;
        }
        if (content.readableBytes() - Encapsulation.HEADER_LENGTH > maxFrame) {
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
                // A copy kept by someone: this slot gets a new buffer. (A read buffer kept is
                // replaced once the wake-up is done with it, in ready.)
                if (copied[i] && frames[i].refCnt() > 1) {
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
        for (int r = 0; r < reads.length; r++) {
            if (reads[r] != null) {
                reads[r].release();
                reads[r] = null;
            }
        }
    }
}
