package io.vswitch.wireguard;

/**
 * The Noise IKpsk2 pattern, its two messages, on a {@link SymmetricState}:
 * <pre>
 *   &lt;- s
 *   ...
 *   -&gt; e, es, s, ss      (payload: WireGuard's TAI64N timestamp)
 *   &lt;- e, ee, se, psk    (payload: empty)
 * </pre>
 * In a PSK handshake the {@code e} token also mixes the ephemeral key into the chaining key
 * (Noise spec 9.2), which is the whitepaper's {@code C = KDF1(C, E_pub)}. Payload lengths are
 * free here so the published Noise vectors (cacophony) can run through the same code as
 * WireGuard's fixed messages. A DH that yields zero (small-order key) fails the message.
 *
 * <p>Threading: stateless.
 */
final class IkPsk2 {
    static final int KEY = X25519.KEY_LENGTH;
    static final int SEALED_KEY = KEY + Aead.TAG_LENGTH;

    private IkPsk2() {
    }

    /** What a responder learns from a first message: the initiator's keys and the payload. */
    record First(byte[] ephemeral, byte[] staticKey, byte[] payload) {
    }

    /** The initiator's first message into {@code out} at {@code offset}; false if a DH fails. */
    static boolean writeFirst(SymmetricState ss, byte[] ePriv, byte[] ePub, byte[] sPriv, byte[] sPub, byte[] rs,
                              byte[] payload, byte[] out, int offset) {
        byte[] dh = new byte[KEY];
        System.arraycopy(ePub, 0, out, offset, KEY);
        ss.mixHash(ePub);
        ss.mixKey(ePub);
        if (!X25519.agree(ePriv, rs, dh)) {
            return false;
        }
        ss.mixKey(dh);
        ss.encryptAndHash(sPub, 0, KEY, out, offset + KEY);
        if (!X25519.agree(sPriv, rs, dh)) {
            return false;
        }
        ss.mixKey(dh);
        ss.encryptAndHash(payload, 0, payload.length, out, offset + KEY + SEALED_KEY);
        return true;
    }

    /** The responder reads a first message of {@code payloadLength}; null if it does not authenticate. */
    static First readFirst(SymmetricState ss, byte[] sPriv, byte[] in, int offset, int payloadLength) {
        byte[] re = new byte[KEY];
        System.arraycopy(in, offset, re, 0, KEY);
        byte[] dh = new byte[KEY];
        ss.mixHash(re);
        ss.mixKey(re);
        if (!X25519.agree(sPriv, re, dh)) {
            return null;
        }
        ss.mixKey(dh);
        byte[] rs = new byte[KEY];
        if (!ss.decryptAndHash(in, offset + KEY, SEALED_KEY, rs, 0)) {
            return null;
        }
        if (!X25519.agree(sPriv, rs, dh)) {
            return null;
        }
        ss.mixKey(dh);
        byte[] payload = new byte[payloadLength];
        if (!ss.decryptAndHash(in, offset + KEY + SEALED_KEY, payloadLength + Aead.TAG_LENGTH, payload, 0)) {
            return null;
        }
        return new First(re, rs, payload);
    }

    /** The responder's answer into {@code out}; false if a DH fails. */
    static boolean writeSecond(SymmetricState ss, byte[] ePriv, byte[] ePub, byte[] re, byte[] rs, byte[] psk,
                               byte[] payload, byte[] out, int offset) {
        byte[] dh = new byte[KEY];
        System.arraycopy(ePub, 0, out, offset, KEY);
        ss.mixHash(ePub);
        ss.mixKey(ePub);
        if (!X25519.agree(ePriv, re, dh)) {
            return false;
        }
        ss.mixKey(dh);
        if (!X25519.agree(ePriv, rs, dh)) {
            return false;
        }
        ss.mixKey(dh);
        ss.mixKeyAndHash(psk);
        ss.encryptAndHash(payload, 0, payload.length, out, offset + KEY);
        return true;
    }

    /** The initiator reads the answer; null if it does not authenticate, else its payload. */
    static byte[] readSecond(SymmetricState ss, byte[] ePriv, byte[] sPriv, byte[] psk, byte[] in, int offset,
                             int payloadLength) {
        byte[] re = new byte[KEY];
        System.arraycopy(in, offset, re, 0, KEY);
        byte[] dh = new byte[KEY];
        ss.mixHash(re);
        ss.mixKey(re);
        if (!X25519.agree(ePriv, re, dh)) {
            return null;
        }
        ss.mixKey(dh);
        if (!X25519.agree(sPriv, re, dh)) {
            return null;
        }
        ss.mixKey(dh);
        ss.mixKeyAndHash(psk);
        byte[] payload = new byte[payloadLength];
        if (!ss.decryptAndHash(in, offset + KEY, payloadLength + Aead.TAG_LENGTH, payload, 0)) {
            return null;
        }
        return payload;
    }
}
