package io.vswitch.wireguard;

import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.Base64;

/**
 * A peer of this interface: its static public key, optional preshared key, endpoint (updated
 * to the source of its latest authentic message: roaming), persistent keepalive, and its
 * session state: handshake, keypairs, timers, cookie, staged packets and statistics.
 *
 * <p>Threading: the public key is final; the endpoint and keypairs are volatile and read
 * lock-free on the data path. Everything a handshake changes (handshake, keypairs, cookie,
 * staged packets, the greatest timestamp) changes under this peer's monitor.
 */
public final class Peer {
    /** wireguard-go's bound on packets held while a handshake is under way; the oldest is dropped. */
    public static final int MAX_STAGED = 128;

    private final byte[] publicKey;
    private final String name;
    private volatile byte[] presharedKey;
    private volatile long endpoint;
    private volatile long persistentKeepaliveNs;

    final Keypairs keypairs = new Keypairs();
    final Handshake handshake = new Handshake(this);
    final CookieGenerator cookies;
    final PeerTimers timers = new PeerTimers();
    final PeerStats stats = new PeerStats();
    /** Packets waiting for a session, each with the header room sealing needs. Guarded by this. */
    final ArrayDeque<ByteBuf> staged = new ArrayDeque<>();
    /** The greatest TAI64N timestamp of an initiation accepted from this peer. Guarded by this. */
    byte[] greatestTimestamp;
    /** When we last consumed an initiation of this peer (flood guard). Guarded by this. */
    long lastInitiationConsumedNs = PeerTimers.UNSET;
    /**
     * When we last sent a handshake message, initiation or response: no new initiation within
     * REKEY_TIMEOUT of it but a retransmission (the kernel's {@code last_sent_handshake}), so a
     * responder does not start its own handshake while the peer's is completing. Guarded by this.
     */
    long lastHandshakeSentNs = PeerTimers.UNSET;

    Peer(byte[] publicKey, byte[] presharedKey, long endpoint, int persistentKeepaliveSeconds) {
        if (publicKey.length != X25519.KEY_LENGTH) {
            throw new IllegalArgumentException("a public key is 32 bytes, not " + publicKey.length);
        }
        this.publicKey = publicKey.clone();
        this.name = Base64.getEncoder().encodeToString(publicKey);
        this.cookies = new CookieGenerator(publicKey);
        presharedKey(presharedKey);
        this.endpoint = endpoint;
        persistentKeepalive(persistentKeepaliveSeconds);
    }

    public byte[] publicKey() {
        return publicKey.clone();
    }

    /** The public key in base64, as {@code wg} prints it. */
    public String name() {
        return name;
    }

    public long endpoint() {
        return endpoint;
    }

    public void endpoint(long endpoint) {
        this.endpoint = endpoint;
    }

    void roamTo(long source) {
        if (source != Endpoint.NONE && source != endpoint) {
            endpoint = source;
        }
    }

    byte[] presharedKey() {
        return presharedKey;
    }

    /** Sets the preshared key (null: none, i.e. 32 zero bytes). */
    public void presharedKey(byte[] key) {
        if (key != null && key.length != 32) {
            throw new IllegalArgumentException("a preshared key is 32 bytes, not " + key.length);
        }
        this.presharedKey = key == null ? new byte[32] : key.clone();
    }

    public int persistentKeepaliveSeconds() {
        return (int) (persistentKeepaliveNs / 1_000_000_000L);
    }

    /** Seconds between keepalives when nothing else passes (0: off). */
    public void persistentKeepalive(int seconds) {
        if (seconds < 0 || seconds > 65535) {
            throw new IllegalArgumentException("persistent keepalive is 0..65535 s, not " + seconds);
        }
        this.persistentKeepaliveNs = seconds * 1_000_000_000L;
    }

    long persistentKeepaliveNs() {
        return persistentKeepaliveNs;
    }

    public PeerStats stats() {
        return stats;
    }

    /** What {@code wg show} calls a session: whether there is a current keypair that may still send. */
    public boolean hasSession(long nowNs) {
        Keypair k = keypairs.current;
        return k != null && !k.expired(nowNs);
    }

    /** The handshake state in words, for show: "established", "handshaking" or "idle". */
    public synchronized String state(long nowNs) {
        if (hasSession(nowNs)) {
            return "established";
        }
        return handshake.initiationSent() ? "handshaking" : "idle";
    }

    synchronized int stagedCount() {
        return staged.size();
    }

    @Override
    public String toString() {
        return "peer " + name;
    }
}
