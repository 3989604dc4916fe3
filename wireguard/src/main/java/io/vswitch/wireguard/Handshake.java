package io.vswitch.wireguard;

import java.security.SecureRandom;

/**
 * One peer's handshake (whitepaper 5.4.2-5.4.4), as initiator: the initiation we sent and the
 * state to read its response with. As responder nothing is kept between messages: an
 * initiation is consumed and answered in one step ({@link #consumeInitiation},
 * {@link #createResponse}), and the session's keys go straight to a keypair.
 *
 * <p>Messages are built and read as byte arrays (148 and 92 bytes, rare); every read works on a
 * copy of the state, so a message that fails leaves the handshake as it was.
 *
 * <p>Threading: guarded by the owning peer's lock.
 */
final class Handshake {
    private final Peer peer;
    private SymmetricState state;
    private byte[] ephemeralPrivate;
    private int localIndex;
    private boolean initiationSent;
    private long sentNs;

    Handshake(Peer peer) {
        this.peer = peer;
    }

    Peer peer() {
        return peer;
    }

    boolean initiationSent() {
        return initiationSent;
    }

    int localIndex() {
        return localIndex;
    }

    long sentNs() {
        return sentNs;
    }

    /** Builds an initiation (macs left zero, see {@link CookieGenerator#stamp}); null if a DH fails. */
    byte[] createInitiation(LocalIdentity local, int index, byte[] timestamp, SecureRandom random, long nowNs) {
        byte[] ePriv = X25519.generatePrivate(random);
        SymmetricState ss = LocalIdentity.initiatorStart(peer.publicKey());
        byte[] msg = new byte[MessageType.INITIATION_LENGTH];
        msg[0] = MessageType.INITIATION;
        CookieChecker.putIntLE(msg, MessageType.INITIATION_SENDER, index);
        if (!IkPsk2.writeFirst(ss, ePriv, X25519.publicKey(ePriv), local.privateKey, local.publicKey, peer.publicKey(),
                timestamp, msg, MessageType.INITIATION_EPHEMERAL)) {
            return null;
        }
        state = ss;
        ephemeralPrivate = ePriv;
        localIndex = index;
        initiationSent = true;
        sentNs = nowNs;
        return msg;
    }

    /** What reading an initiation gave: who sent it and the state to answer from. */
    record Initiation(int senderIndex, byte[] ephemeral, byte[] staticKey, byte[] timestamp, SymmetricState state) {
    }

    /** Reads an initiation to us; null if it does not authenticate (the sender's static key is not checked here). */
    static Initiation consumeInitiation(LocalIdentity local, byte[] msg) {
        SymmetricState ss = local.responderStart();
        IkPsk2.First first = IkPsk2.readFirst(ss, local.privateKey, msg, MessageType.INITIATION_EPHEMERAL, Tai64n.LENGTH);
        if (first == null) {
            return null;
        }
        return new Initiation(CookieChecker.getIntLE(msg, MessageType.INITIATION_SENDER), first.ephemeral(),
                first.staticKey(), first.payload(), ss);
    }

    /** A response and the session keys ({send, receive}); null if a DH fails. */
    record Response(byte[] message, byte[] sendKey, byte[] receiveKey) {
    }

    static Response createResponse(Initiation initiation, int index, byte[] psk, SecureRandom random) {
        SymmetricState ss = initiation.state().copy();
        byte[] ePriv = X25519.generatePrivate(random);
        byte[] msg = new byte[MessageType.RESPONSE_LENGTH];
        msg[0] = MessageType.RESPONSE;
        CookieChecker.putIntLE(msg, MessageType.RESPONSE_SENDER, index);
        CookieChecker.putIntLE(msg, MessageType.RESPONSE_RECEIVER, initiation.senderIndex());
        if (!IkPsk2.writeSecond(ss, ePriv, X25519.publicKey(ePriv), initiation.ephemeral(), initiation.staticKey(), psk,
                new byte[0], msg, MessageType.RESPONSE_EPHEMERAL)) {
            return null;
        }
        byte[][] keys = ss.split();
        return new Response(msg, keys[1], keys[0]);
    }

    /**
     * Reads the response to our initiation; the keys ({send, receive}) or null if it does not
     * authenticate. On success the handshake is over (idle again).
     */
    byte[][] consumeResponse(LocalIdentity local, byte[] msg, byte[] psk) {
        if (!initiationSent) {
            return null;
        }
        SymmetricState ss = state.copy();
        if (IkPsk2.readSecond(ss, ephemeralPrivate, local.privateKey, psk, msg, MessageType.RESPONSE_EPHEMERAL, 0) == null) {
            return null;
        }
        byte[][] keys = ss.split();
        clear();
        return keys;
    }

    void clear() {
        state = null;
        ephemeralPrivate = null;
        initiationSent = false;
    }
}
