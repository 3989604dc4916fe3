package io.vswitch.wireguard;

/**
 * HMAC-BLAKE2s (RFC 2104 over a 64-byte block) and the HKDF-style KDF of the whitepaper
 * (section 5.4): {@code t0 = HMAC(key, input)}, {@code t1 = HMAC(t0, 0x1)},
 * {@code t2 = HMAC(t0, t1 || 0x2)}, {@code t3 = HMAC(t0, t2 || 0x3)}; KDF_n returns t1..tn.
 * Keys here are at most 32 bytes, so they are never hashed first.
 *
 * <p>Threading: stateless; every call makes its own {@link Blake2s}.
 */
public final class Kdf {
    private static final int IPAD = 0x36;
    private static final int OPAD = 0x5c;

    private Kdf() {
    }

    /** HMAC-BLAKE2s(key, data) into a new 32-byte array. */
    public static byte[] hmac(byte[] key, byte[] data, int offset, int length) {
        byte[] pad = new byte[Blake2s.BLOCK_LENGTH];
        for (int i = 0; i < pad.length; i++) {
            pad[i] = (byte) ((i < key.length ? key[i] : 0) ^ IPAD);
        }
        byte[] inner = new byte[32];
        new Blake2s().init(32).update(pad).update(data, offset, length).doFinal(inner, 0);
        for (int i = 0; i < pad.length; i++) {
            pad[i] = (byte) ((i < key.length ? key[i] : 0) ^ OPAD);
        }
        byte[] out = new byte[32];
        new Blake2s().init(32).update(pad).update(inner).doFinal(out, 0);
        return out;
    }

    public static byte[] hmac(byte[] key, byte[] data) {
        return hmac(key, data, 0, data.length);
    }

    /** KDF_n(key, input): {@code n} (1..3) outputs of 32 bytes. */
    public static byte[][] derive(int n, byte[] key, byte[] input, int offset, int length) {
        byte[] t0 = hmac(key, input, offset, length);
        byte[][] out = new byte[n][];
        byte[] previous = new byte[0];
        for (int i = 0; i < n; i++) {
            byte[] data = new byte[previous.length + 1];
            System.arraycopy(previous, 0, data, 0, previous.length);
            data[previous.length] = (byte) (i + 1);
            out[i] = hmac(t0, data);
            previous = out[i];
        }
        return out;
    }

    public static byte[][] derive(int n, byte[] key, byte[] input) {
        return derive(n, key, input, 0, input.length);
    }
}
