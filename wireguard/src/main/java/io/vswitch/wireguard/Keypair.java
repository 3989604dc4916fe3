package io.vswitch.wireguard;

import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.spec.SecretKeySpec;

/**
 * One session's keys (whitepaper 5.4.5): a sending and a receiving ChaCha20-Poly1305 key, our
 * index (what the peer writes as receiver) and theirs, the send counter and the receive window.
 * Made by a completed handshake, then current, previous or next in its peer's {@link Keypairs}.
 *
 * <p>Threading: keys and indices are final. The send counter is atomic (any loop may send). The
 * {@link ReplayWindow} is guarded by this keypair's monitor, held only for the window check.
 */
public final class Keypair {
    private final Peer peer;
    private final int localIndex;
    private final int remoteIndex;
    private final boolean initiator;
    private final long createdNs;
    private final SecretKeySpec sendKey;
    private final SecretKeySpec receiveKey;
    private final AtomicLong sendCounter = new AtomicLong();
    private final ReplayWindow window = new ReplayWindow();

    Keypair(Peer peer, int localIndex, int remoteIndex, boolean initiator, long createdNs, byte[] sendKey, byte[] receiveKey) {
        this.peer = peer;
        this.localIndex = localIndex;
        this.remoteIndex = remoteIndex;
        this.initiator = initiator;
        this.createdNs = createdNs;
        this.sendKey = new SecretKeySpec(sendKey, "ChaCha20");
        this.receiveKey = new SecretKeySpec(receiveKey, "ChaCha20");
    }

    public Peer peer() {
        return peer;
    }

    public int localIndex() {
        return localIndex;
    }

    public int remoteIndex() {
        return remoteIndex;
    }

    /** Whether we initiated the handshake that made it: only the initiator renews by age. */
    public boolean initiator() {
        return initiator;
    }

    public long createdNs() {
        return createdNs;
    }

    SecretKeySpec sendKey() {
        return sendKey;
    }

    SecretKeySpec receiveKey() {
        return receiveKey;
    }

    /** The next send counter; at or past {@link Protocol#REJECT_AFTER_MESSAGES} the keypair must not send. */
    long nextSendCounter() {
        return sendCounter.getAndIncrement();
    }

    long sentCount() {
        return sendCounter.get();
    }

    /** Whether this authentic counter is new; remembers it. */
    boolean acceptCounter(long counter) {
        synchronized (this) {
            return window.accept(counter);
        }
    }

    /** Past {@link Protocol#REJECT_AFTER_TIME_NS}: neither sends nor receives any more. */
    boolean expired(long nowNs) {
        return nowNs - createdNs >= Protocol.REJECT_AFTER_TIME_NS;
    }
}
