package io.vswitch.wireguard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * A WireGuard interface without its socket: our static key, the peers, the index table, the
 * cookie checker, cryptokey routing and the counters. Datagrams come in and packets go out
 * through {@link DataPath}s (one per loop); datagrams the core makes itself (handshakes,
 * cookie replies, keepalives, staged packets) go to an {@link Outbox}; {@link #tick} runs the
 * timers. Time is always a parameter ({@code nowNs}, monotonic); the wall clock is asked only
 * for the TAI64N timestamp of an initiation.
 *
 * <p>Threading: peers are added and removed by a control thread; {@link DataPath}s run on any
 * number of loops at once; {@link #tick} runs on one thread at a time (any). Per-peer handshake
 * state is guarded by the peer's monitor, the index table and allowed IPs are copy-on-write,
 * counters are adders. No lock is taken on the transport path except a keypair's replay
 * window check.
 */
public final class Device implements AutoCloseable {
    /** How the device gets randomness, the wall clock and buffers, and when it is under load. */
    public record Options(SecureRandom random, LongSupplier epochNs, ByteBufAllocator allocator, int handshakesPerSecondUnderLoad) {
        public static Options defaults() {
            return new Options(new SecureRandom(), () -> System.currentTimeMillis() * 1_000_000L, PooledByteBufAllocator.DEFAULT, 256);
        }

        public Options withUnderLoadThreshold(int handshakesPerSecond) {
            return new Options(random, epochNs, allocator, handshakesPerSecond);
        }

        public Options withEpochNs(LongSupplier clock) {
            return new Options(random, clock, allocator, handshakesPerSecondUnderLoad);
        }
    }

    /** Reserves an index while the keypair it will name is being made. */
    private static final Object RESERVED = new Object();

    private final LocalIdentity local;
    private final Options options;
    private final CookieChecker cookieChecker;
    private final IndexTable indices = new IndexTable();
    private final Map<String, Peer> peers = new ConcurrentHashMap<>();
    private final AllowedIps allowedIps = new AllowedIps();
    private final LoadMeter load;
    private final LongAdder[] drops = newAdders(DropReason.values().length);
    private final LongAdder[] counts = newAdders(DeviceCounter.values().length);
    private final DataPath timerPath;

    public Device(byte[] privateKey, Options options) {
        this.local = new LocalIdentity(privateKey);
        this.options = options;
        this.cookieChecker = new CookieChecker(local.publicKey, options.random());
        this.load = new LoadMeter(options.handshakesPerSecondUnderLoad());
        this.timerPath = new DataPath(this);
    }

    public byte[] publicKey() {
        return local.publicKey.clone();
    }

    /** A data path for one loop. */
    public DataPath newDataPath() {
        return new DataPath(this);
    }

    public AllowedIps allowedIps() {
        return allowedIps;
    }

    /**
     * Adds a peer. {@code presharedKey} may be null, {@code endpoint} {@link Endpoint#NONE}
     * (then the peer can only reach us first). Refuses our own key and a key already added.
     */
    public Peer addPeer(byte[] publicKey, byte[] presharedKey, long endpoint, int persistentKeepaliveSeconds) {
        Peer peer = new Peer(publicKey, presharedKey, endpoint, persistentKeepaliveSeconds);
        if (java.util.Arrays.equals(publicKey, local.publicKey)) {
            throw new IllegalArgumentException("peer " + peer.name() + " is this interface's own public key");
        }
        if (peers.putIfAbsent(peer.name(), peer) != null) {
            throw new IllegalArgumentException("peer " + peer.name() + " is already a peer");
        }
        return peer;
    }

    /** Removes a peer: its sessions end, its allowed IPs go, its staged packets are released. */
    public void removePeer(Peer peer) {
        if (!peers.remove(peer.name(), peer)) {
            return;
        }
        allowedIps.removePeer(peer);
        synchronized (peer) {
            retire(peer.keypairs.clear());
            if (peer.handshake.initiationSent()) {
                indices.remove(peer.handshake.localIndex(), peer.handshake);
                peer.handshake.clear();
            }
            releaseStaged(peer, null);
        }
    }

    public Peer peer(byte[] publicKey) {
        return peers.get(Keys.encode(publicKey));
    }

    public Collection<Peer> peers() {
        return List.copyOf(peers.values());
    }

    public long dropped(DropReason reason) {
        return drops[reason.ordinal()].sum();
    }

    public long count(DeviceCounter counter) {
        return counts[counter.ordinal()].sum();
    }

    /** Starts a handshake with {@code peer} now, unless one is in flight (at most one per REKEY_TIMEOUT). */
    public void initiate(Peer peer, long nowNs, Outbox out) {
        initiate(peer, nowNs, out, false);
    }

    /**
     * Runs the timers of every peer (see {@link PeerTimers}): retransmissions, giving up,
     * keepalives, new handshakes, rekeying, erasing old keys. Call it every 100 ms or so (the
     * retransmission jitter is 0..333 ms); each call costs a few reads per peer when nothing is due.
     */
    public void tick(long nowNs, Outbox out) {
        for (Peer peer : peers.values()) {
            tick(peer, nowNs, out);
        }
    }

    private void tick(Peer peer, long nowNs, Outbox out) {
        PeerTimers timers = peer.timers;
        boolean retransmit = false;
        synchronized (peer) {
            if (timers.zeroKeysDue(nowNs)) {
                retire(peer.keypairs.clear());
                timers.sessionDerivedNs = PeerTimers.UNSET;
                increment(DeviceCounter.KEYS_ZEROED);
            }
            if (peer.handshake.initiationSent() && timers.retransmitDue(nowNs)) {
                if (timers.attemptExhausted(nowNs)) {
                    indices.remove(peer.handshake.localIndex(), peer.handshake);
                    peer.handshake.clear();
                    timers.attemptAbandoned();
                    releaseStaged(peer, DropReason.HANDSHAKE_GAVE_UP);
                } else {
                    retransmit = true;
                }
            }
        }
        if (retransmit) {
            initiate(peer, nowNs, out, true);
        }
        if (timers.newHandshakeDue(nowNs)) {
            timers.dataSentUnansweredNs = PeerTimers.UNSET;
            initiate(peer, nowNs, out, false);
        }
        if (timers.rekeyWanted) {
            timers.rekeyWanted = false;
            initiate(peer, nowNs, out, false);
        }
        boolean keepalive = timers.keepaliveDue(nowNs);
        if (keepalive || timers.persistentKeepaliveDue(nowNs, peer.persistentKeepaliveNs())) {
            if (keepalive) {
                timers.dataReceivedUnansweredNs = PeerTimers.UNSET;
            }
            sendKeepalive(peer, nowNs, out, timerPath);
        }
    }

    /** Sends an empty transport message, or starts a handshake when there is no session. */
    void sendKeepalive(Peer peer, long nowNs, Outbox out, DataPath path) {
        Keypair keypair = peer.keypairs.current;
        long to = peer.endpoint();
        if (keypair == null || keypair.expired(nowNs) || to == Endpoint.NONE) {
            initiate(peer, nowNs, out, false);
            return;
        }
        ByteBuf buf = options.allocator().directBuffer(MessageType.TRANSPORT_MIN_LENGTH);
        buf.writerIndex(MessageType.TRANSPORT_HEADER_LENGTH).readerIndex(MessageType.TRANSPORT_HEADER_LENGTH);
        if (path.sealWith(keypair, buf, nowNs)) {
            out.send(to, buf);
        } else {
            buf.release();
            initiate(peer, nowNs, out, false);
        }
    }

    private void initiate(Peer peer, long nowNs, Outbox out, boolean retransmit) {
        byte[] msg;
        long to;
        synchronized (peer) {
            to = peer.endpoint();
            Handshake hs = peer.handshake;
            if (to == Endpoint.NONE) {
                return;
            }
            if (!retransmit && peer.lastHandshakeSentNs != PeerTimers.UNSET
                    && nowNs - peer.lastHandshakeSentNs < Protocol.REKEY_TIMEOUT_NS) {
                return;
            }
            if (hs.initiationSent()) {
                indices.remove(hs.localIndex(), hs);
            }
            int index = indices.add(hs, options.random());
            msg = hs.createInitiation(local, index, Tai64n.of(options.epochNs().getAsLong()), options.random(), nowNs);
            if (msg == null) {
                indices.remove(index, hs);
                return;
            }
            peer.cookies.stamp(msg, msg.length, nowNs);
            peer.timers.initiationSent(nowNs, options.random().nextLong(Protocol.REKEY_TIMEOUT_JITTER_MAX_NS + 1));
            peer.lastHandshakeSentNs = nowNs;
        }
        peer.timers.anyAuthenticatedSent(nowNs);
        increment(DeviceCounter.INITIATIONS_SENT);
        out.send(to, wrap(msg));
    }

    /** Holds a packet until a session exists, and starts a handshake for it. */
    void stage(Peer peer, ByteBuf packet, long nowNs, Outbox out, DataPath path) {
        synchronized (peer) {
            if (peer.staged.size() >= Peer.MAX_STAGED) {
                peer.staged.poll().release();
                noteDrop(DropReason.STAGED_OVERFLOW);
            }
            peer.staged.add(packet);
        }
        increment(DeviceCounter.STAGED);
        initiate(peer, nowNs, out, false);
    }

    /** Seals and sends the peer's staged packets under its current keypair; if none, a keepalive when we initiated. */
    private void flushStaged(Peer peer, long nowNs, Outbox out, DataPath path, boolean keepaliveIfEmpty) {
        List<ByteBuf> packets;
        synchronized (peer) {
            packets = new ArrayList<>(peer.staged);
            peer.staged.clear();
        }
        if (packets.isEmpty()) {
            if (keepaliveIfEmpty) {
                sendKeepalive(peer, nowNs, out, path);
            }
            return;
        }
        for (ByteBuf packet : packets) {
            Keypair keypair = peer.keypairs.current;
            long to = peer.endpoint();
            if (keypair != null && to != Endpoint.NONE && path.sealWith(keypair, packet, nowNs)) {
                out.send(to, packet);
            } else {
                packet.release();
                noteDrop(DropReason.NO_ENDPOINT);
            }
        }
    }

    /** The first authentic message under a responder's next keypair: it becomes current. */
    void confirm(Peer peer, Keypair keypair, long nowNs, Outbox out, DataPath path) {
        synchronized (peer) {
            if (peer.keypairs.next != keypair) {
                return;
            }
            Keypair retired = peer.keypairs.confirm(keypair);
            if (retired != null) {
                indices.remove(retired.localIndex(), retired);
            }
            peer.stats.handshakes.increment();
            peer.stats.lastHandshakeEpochNs = options.epochNs().getAsLong();
        }
        flushStaged(peer, nowNs, out, path, false);
    }

    /** A handshake message or cookie reply; null when consumed, else why it was dropped. */
    DropReason receiveHandshake(int type, ByteBuf datagram, long source, long nowNs, Outbox out, DataPath path) {
        int expected = switch (type) {
            case MessageType.INITIATION -> MessageType.INITIATION_LENGTH;
            case MessageType.RESPONSE -> MessageType.RESPONSE_LENGTH;
            default -> MessageType.COOKIE_REPLY_LENGTH;
        };
        int length = datagram.readableBytes();
        if (length != expected) {
            return length < expected ? DropReason.SHORT : DropReason.BAD_LENGTH;
        }
        byte[] msg = new byte[length];
        datagram.getBytes(datagram.readerIndex(), msg);
        if (type == MessageType.COOKIE_REPLY) {
            return receiveCookieReply(msg, nowNs);
        }
        if (!cookieChecker.mac1Valid(msg, length)) {
            return DropReason.BAD_MAC1;
        }
        if (load.note(nowNs) && !cookieChecker.mac2Valid(msg, length, source, nowNs)) {
            int sender = CookieChecker.getIntLE(msg, MessageType.INITIATION_SENDER);
            out.send(source, wrap(cookieChecker.reply(msg, length, sender, source, nowNs)));
            increment(DeviceCounter.COOKIE_REPLIES_SENT);
            return DropReason.UNDER_LOAD;
        }
        return type == MessageType.INITIATION
                ? receiveInitiation(msg, source, nowNs, out, path)
                : receiveResponse(msg, source, nowNs, out, path);
    }

    private DropReason receiveInitiation(byte[] msg, long source, long nowNs, Outbox out, DataPath path) {
        Handshake.Initiation initiation = Handshake.consumeInitiation(local, msg);
        if (initiation == null) {
            return DropReason.HANDSHAKE_FAILED;
        }
        Peer peer = peers.get(Keys.encode(initiation.staticKey()));
        if (peer == null) {
            return DropReason.UNKNOWN_PEER;
        }
        byte[] response;
        synchronized (peer) {
            if (!Tai64n.after(initiation.timestamp(), peer.greatestTimestamp)) {
                return DropReason.STALE_TIMESTAMP;
            }
            if (peer.lastInitiationConsumedNs != PeerTimers.UNSET
                    && nowNs - peer.lastInitiationConsumedNs < Protocol.INITIATIONS_MIN_INTERVAL_NS) {
                return DropReason.FLOOD;
            }
            int index = indices.add(RESERVED, options.random());
            Handshake.Response r = Handshake.createResponse(initiation, index, peer.presharedKey(), options.random());
            if (r == null) {
                indices.remove(index, RESERVED);
                return DropReason.HANDSHAKE_FAILED;
            }
            peer.greatestTimestamp = initiation.timestamp();
            peer.lastInitiationConsumedNs = nowNs;
            Keypair keypair = new Keypair(peer, index, initiation.senderIndex(), false, nowNs, r.sendKey(), r.receiveKey());
            indices.replace(index, keypair);
            retire(peer.keypairs.installAsResponder(keypair));
            peer.timers.sessionDerivedNs = nowNs;
            response = r.message();
            peer.cookies.stamp(response, response.length, nowNs);
            peer.lastHandshakeSentNs = nowNs;
        }
        peer.roamTo(source);
        peer.timers.anyAuthenticatedReceived(nowNs);
        peer.timers.anyAuthenticatedSent(nowNs);
        increment(DeviceCounter.INITIATIONS_RECEIVED);
        out.send(peer.endpoint(), wrap(response));
        return null;
    }

    private DropReason receiveResponse(byte[] msg, long source, long nowNs, Outbox out, DataPath path) {
        int receiver = CookieChecker.getIntLE(msg, MessageType.RESPONSE_RECEIVER);
        if (!(indices.get(receiver) instanceof Handshake hs)) {
            return DropReason.UNKNOWN_INDEX;
        }
        Peer peer = hs.peer();
        synchronized (peer) {
            if (!hs.initiationSent() || hs.localIndex() != receiver) {
                return DropReason.UNKNOWN_INDEX;
            }
            byte[][] keys = hs.consumeResponse(local, msg, peer.presharedKey());
            if (keys == null) {
                return DropReason.HANDSHAKE_FAILED;
            }
            int sender = CookieChecker.getIntLE(msg, MessageType.RESPONSE_SENDER);
            Keypair keypair = new Keypair(peer, receiver, sender, true, nowNs, keys[0], keys[1]);
            indices.replace(receiver, keypair);
            retire(peer.keypairs.installAsInitiator(keypair));
            peer.timers.sessionDerived(nowNs);
            peer.stats.handshakes.increment();
            peer.stats.lastHandshakeEpochNs = options.epochNs().getAsLong();
        }
        peer.roamTo(source);
        peer.timers.anyAuthenticatedReceived(nowNs);
        increment(DeviceCounter.RESPONSES_RECEIVED);
        flushStaged(peer, nowNs, out, path, true);
        return null;
    }

    private DropReason receiveCookieReply(byte[] msg, long nowNs) {
        Object named = indices.get(CookieChecker.getIntLE(msg, MessageType.COOKIE_REPLY_RECEIVER));
        Peer peer = named instanceof Handshake hs ? hs.peer() : named instanceof Keypair k ? k.peer() : null;
        if (peer == null) {
            return DropReason.UNKNOWN_INDEX;
        }
        synchronized (peer) {
            if (!peer.cookies.consume(msg, nowNs)) {
                return DropReason.BAD_COOKIE;
            }
        }
        increment(DeviceCounter.COOKIE_REPLIES_RECEIVED);
        return null;
    }

    Object index(int index) {
        return indices.get(index);
    }

    int indexCount() {
        return indices.size();
    }

    void noteDrop(DropReason reason) {
        drops[reason.ordinal()].increment();
    }

    void increment(DeviceCounter counter) {
        counts[counter.ordinal()].increment();
    }

    private void retire(Keypair... keypairs) {
        for (Keypair k : keypairs) {
            if (k != null) {
                indices.remove(k.localIndex(), k);
            }
        }
    }

    private void releaseStaged(Peer peer, DropReason reason) {
        ByteBuf b;
        while ((b = peer.staged.poll()) != null) {
            b.release();
            if (reason != null) {
                noteDrop(reason);
            }
        }
    }

    private ByteBuf wrap(byte[] msg) {
        ByteBuf buf = options.allocator().directBuffer(msg.length);
        buf.writeBytes(msg);
        return buf;
    }

    /** Releases every staged packet of every peer. */
    @Override
    public void close() {
        for (Peer peer : peers.values()) {
            synchronized (peer) {
                releaseStaged(peer, null);
            }
        }
    }

    private static LongAdder[] newAdders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }
}
