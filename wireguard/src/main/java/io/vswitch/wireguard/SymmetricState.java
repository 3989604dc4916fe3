package io.vswitch.wireguard;

import java.util.Arrays;

/**
 * Noise's SymmetricState (Noise spec, section 5.2) over BLAKE2s and ChaCha20-Poly1305: the
 * chaining key {@code ck}, the handshake hash {@code h} and the current cipher key with its
 * nonce. WireGuard's handshake (whitepaper 5.4) is exactly these operations in the IKpsk2
 * order, which is why the Noise test vectors exercise it (see {@link IkPsk2}).
 *
 * <p>Threading: one handshake's state, confined to whoever holds the peer's lock.
 */
final class SymmetricState {
    private byte[] ck;
    private byte[] h;
    private byte[] k;
    private long n;

    private SymmetricState(byte[] ck, byte[] h) {
        this.ck = ck;
        this.h = h;
    }

    /** InitializeSymmetric(protocolName) then MixHash(prologue). */
    static SymmetricState initialize(byte[] protocolName, byte[] prologue) {
        byte[] h;
        if (protocolName.length <= 32) {
            h = Arrays.copyOf(protocolName, 32);
        } else {
            h = Blake2s.hash(protocolName);
        }
        SymmetricState state = new SymmetricState(h.clone(), h);
        state.mixHash(prologue, 0, prologue.length);
        return state;
    }

    SymmetricState copy() {
        SymmetricState c = new SymmetricState(ck.clone(), h.clone());
        c.k = k == null ? null : k.clone();
        c.n = n;
        return c;
    }

    byte[] chainingKey() {
        return ck;
    }

    byte[] hash() {
        return h;
    }

    void mixHash(byte[] data, int offset, int length) {
        byte[] next = new byte[32];
        new Blake2s().init(32).update(h).update(data, offset, length).doFinal(next, 0);
        h = next;
    }

    void mixHash(byte[] data) {
        mixHash(data, 0, data.length);
    }

    void mixKey(byte[] input) {
        byte[][] out = Kdf.derive(2, ck, input);
        ck = out[0];
        k = out[1];
        n = 0;
    }

    void mixKeyAndHash(byte[] input) {
        byte[][] out = Kdf.derive(3, ck, input);
        ck = out[0];
        mixHash(out[1]);
        k = out[2];
        n = 0;
    }

    /** Writes {@code length + 16} bytes to {@code out}: the sealed plaintext, then mixes it into h. */
    void encryptAndHash(byte[] plain, int offset, int length, byte[] out, int outOffset) {
        Aead.seal(k, n, plain, offset, length, h, out, outOffset);
        n++;
        mixHash(out, outOffset, length + Aead.TAG_LENGTH);
    }

    /** Opens {@code length} sealed bytes into {@code out}; false if they do not authenticate. */
    boolean decryptAndHash(byte[] sealed, int offset, int length, byte[] out, int outOffset) {
        if (!Aead.open(k, n, sealed, offset, length, h, out, outOffset)) {
            return false;
        }
        n++;
        mixHash(sealed, offset, length);
        return true;
    }

    /** Split(): the initiator's sending key first, then the responder's. */
    byte[][] split() {
        return Kdf.derive(2, ck, new byte[0]);
    }
}
