package io.vswitch.vxlan;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.collection.IntObjectHashMap;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.Counters;
import io.vswitch.core.Coalescer;
import io.vswitch.core.DropReason;
import io.vswitch.core.Segmenter;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.nativetap.DatagramBatch;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.GroSocket;
import io.vswitch.nativetap.SegmentedDatagram;
import io.vswitch.tapio.Dataplane;
import io.vswitch.tapio.Lane;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The host's VXLAN tunnel endpoint (VTEP): UDP sockets on the data-plane loops, and the
 * overlay networks (VNI -> bridge domain, with their peers) they serve.
 *
 * <h2>Sockets</h2>
 * Every loop binds its own receive socket to {@code local:port} with SO_REUSEPORT, so the
 * kernel spreads incoming flows over the loops and each datagram is decapsulated and forwarded
 * by the loop that read it. The receive socket is a handle of the loop itself, read with
 * {@code recvmsg} through FFM and UDP GRO (one read returns a run of datagrams of one flow, cut
 * again by index, nothing allocated per datagram); consecutive TCP segments are then joined
 * again for offload TAPs. GSO frames from offload TAPs leave in one UDP GSO send.
 * For sending there is a small pool of sockets bound to ephemeral ports, shared by the loops:
 * the inner flow's hash picks the socket, so its source port follows the flow (RFC 7348
 * section 5), underlay ECMP can spread flows, and the peer's SO_REUSEPORT group hands one flow
 * to one loop whichever of our loops sent it (a source port per loop would reorder a flow whose
 * packets a multi-queue TAP spreads over loops). Each loop queues its datagrams per socket
 * during a batch and sends each queue with one sendmmsg after it: no copy, no allocation.
 *
 * <h2>Encapsulation without a copy</h2>
 * A datagram is two iovecs: the 8-byte VXLAN header, kept in the send batch's own memory, and
 * the frame where it was read. The frame is neither copied nor written to, so the same buffer
 * can at once be flooded to TAPs (with a virtio-net header in front of it) and to every peer.
 * A 64 KB offload frame is cut without copying its payload either: each segment's headers
 * (and VXLAN header) are built in a scratch, and one UDP GSO send gathers every datagram from
 * its headers there and its payload where the TAP read left it (a copy only when the kernel
 * refuses UDP GSO and datagrams go one by one). Decapsulation moves the reader
 * index past the header and copies the inner frame once, out of the read buffer that the next
 * read reuses, into a buffer with room for a virtio-net header, where the TCP segments that
 * follow it are joined to it.
 *
 * <h2>What is accepted</h2>
 * A datagram is dropped and counted by reason when it is shorter than 8 + 14 bytes, has the I
 * flag clear, names a VNI that no network has, or comes from an address that is not a configured
 * peer of that network: VXLAN has no authentication, so only configured peers are heard. Inner
 * frames then pass the ordinary checks of the pipeline, counted on the tunnel port.
 */
public final class VxlanEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VxlanEndpoint.class);

    /** Start-up settings. {@code maxFrame} is the largest inner frame of any overlay network. */
    public record Options(InetAddress local, int port, int sourceSockets, int maxFrame) {
        public Options {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port must be 1..65535");
            }
            if (sourceSockets < 1) {
                throw new IllegalArgumentException("sourceSockets must be at least 1");
            }
        }
    }

    /** One overlay network: its bridge domain, VNI and peers (copy-on-write). */
    private static final class Overlay {
        final BridgeDomain domain;
        final int vni;
        volatile Map<InetAddress, TunnelPort> peers = Map.of();
        /** The same ports by IPv4 address as an int, for the receive path (no boxing, no lookup object). */
        volatile IntObjectHashMap<TunnelPort> byAddress = new IntObjectHashMap<>();

        Overlay(BridgeDomain domain, int vni) {
            this.domain = domain;
            this.vni = vni;
        }
    }

    private final Dataplane dataplane;
    private final Options options;
    private final GroReader[] receivers;
    private final Channel[] senders;
    private final int[] senderFds;
    private final DatagramBatch[][] batches;
    private final DatagramBatch controlBatch = new DatagramBatch(1);
    /** A 64 KB frame cut at the smallest MSS worth supporting (536) makes at most this many. */
    private static final int MAX_SEGMENTS = 128;
    /**
     * Room per segment when only headers are built: Ethernet + VLAN tag, IP and TCP headers with
     * the most options (18 + 60 + 60), the VXLAN header in the headroom in front.
     */
    private static final int HEADER_STRIDE = Lane.HEADROOM + 192;
    /**
     * Receive with UDP GRO (the kernel hands over runs of equal datagrams of one flow in one
     * read). -Dvswitch.vxlan.noGro=true reads one datagram per recvmsg instead,
     * -Dvswitch.vxlan.noCoalesce=true turns off joining TCP segments for the TAPs: both for
     * measuring what each step is worth.
     */
    private static final boolean GRO = !Boolean.getBoolean("vswitch.vxlan.noGro");
    private static final boolean COALESCE = !Boolean.getBoolean("vswitch.vxlan.noCoalesce");
    private final int segmentStride;
    private final SegmentQueue[] segmentQueues;
    private final Counters counters;
    private final Object changes = new Object();
    private volatile IntObjectHashMap<Overlay> byVni = new IntObjectHashMap<>();

    private VxlanEndpoint(Dataplane dataplane, Options options) {
        this.dataplane = dataplane;
        this.options = options;
        int loops = dataplane.threads();
        this.receivers = new GroReader[loops];
        this.senders = new Channel[options.sourceSockets()];
        this.senderFds = new int[options.sourceSockets()];
        this.batches = new DatagramBatch[loops][options.sourceSockets()];
        this.segmentStride = Lane.HEADROOM + options.maxFrame();
        this.segmentQueues = new SegmentQueue[loops];
        for (int i = 0; i < loops; i++) {
            segmentQueues[i] = new SegmentQueue(i);
        }
        this.counters = new Counters(dataplane.lanes(), TunnelCounter.values().length);
    }

    /** Binds the sockets on every loop; fails (and closes what it opened) if any bind fails. */
    public static VxlanEndpoint start(Dataplane dataplane, Options options) throws Exception {
        VxlanEndpoint endpoint = new VxlanEndpoint(dataplane, options);
        try {
            endpoint.bind();
        } catch (Exception e) {
            endpoint.close();
            throw e;
        }
        LOG.info("vxlan endpoint on {}:{} ({} loops, {} source sockets each)", options.local().getHostAddress(),
                options.port(), dataplane.threads(), options.sourceSockets());
        return endpoint;
    }

    private void bind() throws Exception {
        if (!(options.local() instanceof Inet4Address local)) {
            throw new IllegalArgumentException("the VXLAN underlay is IPv4: local address "
                    + options.local().getHostAddress() + " is not");
        }
        for (int i = 0; i < receivers.length; i++) {
            Lane lane = dataplane.lane(i);
            GroSocket socket = GroSocket.bind(ipv4(local), options.port(), 4 << 20, GRO);
            GroReader reader = new GroReader(lane, socket, 64);
            receivers[i] = reader;
            IoRegistration registration = lane.loop().register(reader).sync().getNow();
            lane.loop().submit(() -> {
                reader.registration = registration;
                registration.submit(EpollIoOps.EPOLLIN);
            }).sync();
            for (int k = 0; k < senders.length; k++) {
                batches[i][k] = new DatagramBatch(MAX_SEGMENTS);
                if (i == 0) {
                    Bootstrap tx = new Bootstrap().group(lane.loop()).channel(EpollDatagramChannel.class)
                            .option(ChannelOption.AUTO_READ, false)
                            .option(ChannelOption.SO_SNDBUF, 4 << 20)
                            .handler(new ChannelInboundHandlerAdapter());
                    senders[k] = tx.bind(new InetSocketAddress(options.local(), 0)).sync().channel();
                    senderFds[k] = ((EpollDatagramChannel) senders[k]).fd().intValue();
                }
            }
            int loopIndex = i;
            lane.loop().submit(() -> lane.addAfterBatch(() -> flush(loopIndex))).sync();
        }
    }

    public int port() {
        return options.port();
    }

    public InetAddress local() {
        return options.local();
    }

    public Counters counters() {
        return counters;
    }

    public long count(TunnelCounter counter) {
        return counters.get(counter.ordinal());
    }

    /** Makes {@code domain} an overlay network with {@code vni}. */
    public void addNetwork(BridgeDomain domain, int vni) {
        synchronized (changes) {
            if (byVni.containsKey(vni)) {
                throw new IllegalArgumentException("vni " + vni + " is already used by network "
                        + byVni.get(vni).domain.name());
            }
            IntObjectHashMap<Overlay> next = new IntObjectHashMap<>();
            next.putAll(byVni);
            next.put(vni, new Overlay(domain, vni));
            byVni = next;
        }
    }

    /** Removes an overlay network: its tunnel ports leave the domain, its VNI is no longer heard. */
    public void removeNetwork(int vni) {
        synchronized (changes) {
            Overlay overlay = byVni.get(vni);
            if (overlay == null) {
                return;
            }
            IntObjectHashMap<Overlay> next = new IntObjectHashMap<>();
            next.putAll(byVni);
            next.remove(vni);
            byVni = next;
            for (TunnelPort port : overlay.peers.values()) {
                overlay.domain.removePort(port);
            }
        }
    }

    /** Adds a remote VTEP to an overlay network: a new tunnel port of its domain. */
    public TunnelPort addPeer(int vni, InetAddress peer) {
        synchronized (changes) {
            Overlay overlay = byVni.get(vni);
            if (overlay == null) {
                throw new IllegalArgumentException("no overlay network with vni " + vni);
            }
            if (overlay.peers.containsKey(peer)) {
                throw new IllegalArgumentException("network " + overlay.domain.name() + " already has peer "
                        + peer.getHostAddress());
            }
            TunnelPort port = new TunnelPort(this, vni, peer, dataplane.lanes());
            overlay.domain.addPort(port);
            Map<InetAddress, TunnelPort> next = new HashMap<>(overlay.peers);
            next.put(peer, port);
            overlay.peers = Map.copyOf(next);
            IntObjectHashMap<TunnelPort> byAddress = new IntObjectHashMap<>();
            for (Map.Entry<InetAddress, TunnelPort> e : next.entrySet()) {
                byAddress.put(ipv4(e.getKey()), e.getValue());
            }
            overlay.byAddress = byAddress;
            return port;
        }
    }

    /** The tunnel ports of an overlay network. */
    public List<TunnelPort> peers(int vni) {
        Overlay overlay = byVni.get(vni);
        return overlay == null ? List.of() : List.copyOf(overlay.peers.values());
    }

    /**
     * Queues {@code frame} for the port's VTEP on the socket of the frame's flow; every socket's
     * queue goes out with one sendmmsg after the batch (or when it is full). Each datagram is the
     * 8-byte VXLAN header (in the batch's own memory) and the frame's own memory, two iovecs: the
     * frame is not copied, and not written to either, so the same buffer can at once be flooded
     * to TAPs (with its virtio-net header in front) and to every peer.
     */
    void send(TunnelPort port, ByteBuf frame, int lane) {
        int length = frame.readableBytes();
        if (!frame.hasMemoryAddress()) {
            port.countDrop(lane, DropReason.TX_ERROR);
            return;
        }
        long header = ((long) VxlanHeader.FLAG_I << 56) | ((long) port.vni() << 8);
        long address = frame.memoryAddress() + frame.readerIndex();
        int socket = FlowHash.of(frame) % senders.length;
        if (lane < receivers.length) {
            DatagramBatch batch = batches[lane][socket];
            if (batch.isFull()) {
                flush(lane, socket);
            }
            batch.add(header, address, length, port.destination());
        } else {
            synchronized (controlBatch) {
                controlBatch.add(header, address, length, port.destination());
                if (controlBatch.flush(senderFds[socket]) == 0) {
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
     * MTU-sized frames laid side by side in this lane's scratch, all queued and sent at once
     * (so the scratch is free again when this returns); a frame that only needs its checksum
     * finished gets it in place. Lane threads only.
     */
    void sendOffloaded(TunnelPort port, ByteBuf frame, int lane) {
        if (VirtioNetHeader.gsoType(frame) == VirtioNetHeader.GSO_NONE) {
            if ((VirtioNetHeader.flags(frame) & VirtioNetHeader.FLAG_NEEDS_CSUM) != 0) {
                Segmenter.completeChecksum(frame);
            }
            send(port, frame, lane);
            return;
        }
        if (lane >= receivers.length) {
            port.countDrop(lane, DropReason.TX_ERROR);
            return;
        }
        SegmentQueue queue = segmentQueues[lane];
        queue.start(port, FlowHash.of(frame) % senders.length, frame);
        int cut = queue.gsoRefused || !frame.hasMemoryAddress()
                ? Segmenter.segment(frame, queue.scratch, Lane.HEADROOM, segmentStride, queue)
                : Segmenter.segmentHeaders(frame, queue.scratch, Lane.HEADROOM, HEADER_STRIDE, queue);
        if (cut < 0) {
            port.countDrop(lane, DropReason.TX_ERROR);
        }
        queue.finish();
        queue.frame = null;
    }

    /**
     * Sends the segments of one GSO frame with UDP segmentation offload: each segment gets its
     * VXLAN header in the scratch headroom in front of it, and all of them go in one sendmsg
     * (two when they would pass 64 KB), so the kernel's stack and the underlay device handle one
     * packet instead of dozens. Falls back to one datagram each (sendmmsg) if the kernel refuses.
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
            this.scratch = io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(MAX_SEGMENTS * segmentStride);
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

        /**
         * A segment as headers in the scratch and payload still in the TAP's frame: the datagram
         * is gathered from both places.
         */
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
            if (!gso.send(senderFds[socket], port.destination(), segmentSize)) {
                int errno = gso.lastErrno();
                if (errno == io.vswitch.nativetap.Errno.EINVAL || errno == io.vswitch.nativetap.Errno.EOPNOTSUPP
                        || errno == 90 /* EMSGSIZE */ || errno == 5 /* EIO: no UDP GSO here */) {
                    if (!gsoRefused) {
                        gsoRefused = true;
                        LOG.warn("UDP segmentation offload refused ({}); sending one datagram each from now on",
                                io.vswitch.nativetap.Errno.name(errno));
                    }
                }
                counters.add(lane, TunnelCounter.DROP_TX.ordinal(), datagrams);
            }
            bytes = 0;
        }
    }

    private void flush(int lane) {
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
        int sent = batch.flush(senderFds[socket]);
        if (sent < queued) {
            counters.add(lane, TunnelCounter.DROP_TX.ordinal(), queued - sent);
        }
    }

    /**
     * Reads datagrams on one loop, checks and decapsulates them, and forwards them in batches:
     * consecutive frames from the same peer form one batch, which ends when the peer changes,
     * the batch is full, or the read is complete.
     */
    /**
     * A loop's receive socket as a handle of that loop: reads with UDP GRO into one buffer (each
     * read a run of datagrams of one flow, up to {@link #READ_BUDGET} reads per wake-up), checks
     * and decapsulates every datagram in place, and hands the inner frames to the lane in
     * batches. Nothing is allocated per datagram: the source address is an int, the datagram is
     * a reader/writer index range of the read buffer. Every frame is copied once, into a buffer
     * of this reader's with headroom (and, in an offload network, an empty virtio-net header),
     * where the TCP segments of the same flow that follow it are joined to it ({@link Coalescer}),
     * also across reads of one wake-up.
     */
    private final class GroReader implements EpollIoHandle {
        private static final int READ_BUDGET = 16;
        private static final int READ_CAPACITY = 65536;
        private final Lane lane;
        private final int laneIndex;
        private final GroSocket socket;
        private final FileDescriptor fd;
        private final ByteBuf read;
        private final long readAddress;
        private final ByteBuf[] frames;
        private final ByteBuf[] copies;
        private final boolean[] offloaded;
        private int pending;
        private TunnelPort pendingPort;
        private boolean errorLogged;
        volatile IoRegistration registration;

        GroReader(Lane lane, GroSocket socket, int batch) {
            this.lane = lane;
            this.laneIndex = lane.index();
            this.socket = socket;
            this.fd = new FileDescriptor(socket.fd());
            this.read = io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(READ_CAPACITY, READ_CAPACITY);
            this.readAddress = read.memoryAddress();
            this.frames = new ByteBuf[batch];
            this.copies = new ByteBuf[batch];
            this.offloaded = new boolean[batch];
        }

        @Override
        public FileDescriptor fd() {
            return fd;
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            for (int reads = 0; reads < READ_BUDGET; reads++) {
                int n = socket.receive(readAddress, READ_CAPACITY);
                if (n < 0) {
                    if (n != -Errno.EAGAIN && n != -Errno.EINTR && !errorLogged) {
                        errorLogged = true;
                        LOG.warn("vxlan receive error on loop {}: {}", laneIndex, Errno.name(-n));
                    }
                    break;
                }
                int size = socket.segmentSize();
                int source = socket.sourceAddress();
                if (socket.truncated() || size <= 0) {
                    counters.increment(laneIndex, TunnelCounter.RX_DATAGRAMS.ordinal());
                    counters.increment(laneIndex, TunnelCounter.DROP_TRUNCATED.ordinal());
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

        /** Copies the inner frame into this reader's buffer for {@code slot}, behind an empty virtio-net header. */
        private ByteBuf copy(ByteBuf content, int slot) {
            ByteBuf copy = copies[slot];
            if (copy == null) {
                copy = copies[slot] = io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(
                        Lane.HEADROOM + VirtioNetHeader.MAX_GSO_FRAME);
            }
            int length = Math.min(content.readableBytes(), options.maxFrame());
            copy.setIndex(Lane.HEADROOM, Lane.HEADROOM);
            copy.writeBytes(content, content.readerIndex(), length);
            VirtioNetHeader.clear(copy);
            return copy;
        }

        private TunnelPort accept(ByteBuf content, int source) {
            int start = content.readerIndex();
            if (content.readableBytes() < VxlanHeader.LENGTH + 14) {
                counters.increment(laneIndex, TunnelCounter.DROP_SHORT.ordinal());
                return null;
            }
            if (!VxlanHeader.hasVni(content, start)) {
                counters.increment(laneIndex, TunnelCounter.DROP_NO_VNI_FLAG.ordinal());
                return null;
            }
            Overlay overlay = byVni.get(VxlanHeader.vni(content, start));
            if (overlay == null) {
                counters.increment(laneIndex, TunnelCounter.DROP_UNKNOWN_VNI.ordinal());
                return null;
            }
            TunnelPort peer = overlay.byAddress.get(source);
            if (peer == null) {
                counters.increment(laneIndex, TunnelCounter.DROP_UNKNOWN_PEER.ordinal());
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

        @Override
        public void close() {
            IoRegistration reg = registration;
            if (reg != null && reg.isValid()) {
                reg.cancel();
            }
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

    static int ipv4(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: " + address.getHostAddress());
        }
        return ((a[0] & 0xFF) << 24) | ((a[1] & 0xFF) << 16) | ((a[2] & 0xFF) << 8) | (a[3] & 0xFF);
    }

    @Override
    public void close() {
        for (int i = 0; i < receivers.length; i++) {
            GroReader reader = receivers[i];
            if (reader != null) {
                // On its own loop: no read can be running while the socket and buffers go.
                try {
                    dataplane.lane(i).loop().submit(reader::close).awaitUninterruptibly(1000);
                } catch (java.util.concurrent.RejectedExecutionException loopGone) {
                    reader.close(); // the loop has stopped: nothing reads any more
                }
            }
        }
        for (Channel c : senders) {
            if (c != null) {
                c.close().awaitUninterruptibly(1000);
            }
        }
        for (SegmentQueue q : segmentQueues) {
            if (q.scratch.refCnt() > 0) {
                q.scratch.release();
            }
        }
    }
}
