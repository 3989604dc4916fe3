package io.vswitch.wireguard;

/**
 * This interface's static key pair and what follows from it once: the handshake state every
 * initiation to us starts from (HASH(CONSTRUCTION), the identifier, and our public key mixed
 * in), and the mac1 key of messages to us (in {@link CookieChecker}).
 *
 * <p>Threading: immutable.
 */
final class LocalIdentity {
    final byte[] privateKey;
    final byte[] publicKey;
    private final SymmetricState responderStart;

    LocalIdentity(byte[] privateKey) {
        if (privateKey.length != X25519.KEY_LENGTH) {
            throw new IllegalArgumentException("a private key is 32 bytes, not " + privateKey.length);
        }
        this.privateKey = privateKey.clone();
        this.publicKey = X25519.publicKey(privateKey);
        SymmetricState s = SymmetricState.initialize(Protocol.CONSTRUCTION, Protocol.IDENTIFIER);
        s.mixHash(publicKey);
        this.responderStart = s;
    }

    /** A fresh state for an initiation sent to us. */
    SymmetricState responderStart() {
        return responderStart.copy();
    }

    /** A fresh state for an initiation we send to {@code peerPublicKey}. */
    static SymmetricState initiatorStart(byte[] peerPublicKey) {
        SymmetricState s = SymmetricState.initialize(Protocol.CONSTRUCTION, Protocol.IDENTIFIER);
        s.mixHash(peerPublicKey);
        return s;
    }
}
