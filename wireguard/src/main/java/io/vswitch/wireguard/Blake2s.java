package io.vswitch.wireguard;

/**
 * BLAKE2s (RFC 7693): the hash of WireGuard's HASH, MAC (keyed, 16-byte output) and, through
 * {@link Kdf}, of HMAC and HKDF. The JDK has no BLAKE2.
 *
 * <p>32-bit words, 64-byte blocks, 10 rounds of the G function with rotations 16, 12, 8, 7. The
 * last block is compressed with the final flag, so {@link #update} keeps a full block buffered
 * until it knows more input follows. A key (up to 32 bytes) is padded to a block and compressed
 * first, which is the whole of keyed mode.
 *
 * <p>Threading: an instance is a running computation, confined to one thread; the static
 * helpers make their own.
 */
public final class Blake2s {
    public static final int BLOCK_LENGTH = 64;
    public static final int MAX_OUT_LENGTH = 32;

    private static final int[] IV = {
        0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
    };
    private static final byte[][] SIGMA = {
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
        {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
        {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
        {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
        {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
        {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
        {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
        {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
        {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
        {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    };

    private final int[] h = new int[8];
    private final int[] v = new int[16];
    private final int[] m = new int[16];
    private final byte[] buffer = new byte[BLOCK_LENGTH];
    private int buffered;
    private long counter;
    private int outLength;

    /** Starts a hash of {@code outLength} bytes (1..32), keyed by the first {@code keyLength} bytes of {@code key}. */
    public Blake2s init(int outLength, byte[] key, int keyLength) {
        if (outLength < 1 || outLength > MAX_OUT_LENGTH || keyLength < 0 || keyLength > MAX_OUT_LENGTH) {
            throw new IllegalArgumentException("BLAKE2s output 1..32 and key 0..32 bytes, not " + outLength + "/" + keyLength);
        }
        System.arraycopy(IV, 0, h, 0, 8);
        h[0] ^= 0x01010000 ^ (keyLength << 8) ^ outLength;
        this.outLength = outLength;
        counter = 0;
        buffered = 0;
        java.util.Arrays.fill(buffer, (byte) 0);
        if (keyLength > 0) {
            System.arraycopy(key, 0, buffer, 0, keyLength);
            buffered = BLOCK_LENGTH;
        }
        return this;
    }

    public Blake2s init(int outLength) {
        return init(outLength, null, 0);
    }

    public Blake2s update(byte[] in, int offset, int length) {
        while (length > 0) {
            if (buffered == BLOCK_LENGTH) {
                counter += BLOCK_LENGTH;
                compress(buffer, 0, false);
                buffered = 0;
            }
            int n = Math.min(length, BLOCK_LENGTH - buffered);
            System.arraycopy(in, offset, buffer, buffered, n);
            buffered += n;
            offset += n;
            length -= n;
        }
        return this;
    }

    public Blake2s update(byte[] in) {
        return update(in, 0, in.length);
    }

    /** Finishes: writes the output length's bytes to {@code out} at {@code offset}. */
    public void doFinal(byte[] out, int offset) {
        counter += buffered;
        java.util.Arrays.fill(buffer, buffered, BLOCK_LENGTH, (byte) 0);
        compress(buffer, 0, true);
        for (int i = 0; i < outLength; i++) {
            out[offset + i] = (byte) (h[i >>> 2] >>> (8 * (i & 3)));
        }
    }

    /** HASH(a || b || ...): the 32-byte unkeyed hash of the parts. */
    public static byte[] hash(byte[]... parts) {
        Blake2s b = new Blake2s().init(32);
        for (byte[] p : parts) {
            b.update(p);
        }
        byte[] out = new byte[32];
        b.doFinal(out, 0);
        return out;
    }

    /** MAC(key, data): the 16-byte keyed hash WireGuard's mac1, mac2 and cookies use. */
    public static void mac(byte[] key, byte[] data, int offset, int length, byte[] out, int outOffset) {
        new Blake2s().init(16, key, key.length).update(data, offset, length).doFinal(out, outOffset);
    }

    private void compress(byte[] block, int offset, boolean last) {
        for (int i = 0; i < 16; i++) {
            int o = offset + 4 * i;
            m[i] = (block[o] & 0xFF) | (block[o + 1] & 0xFF) << 8 | (block[o + 2] & 0xFF) << 16 | (block[o + 3] & 0xFF) << 24;
        }
        System.arraycopy(h, 0, v, 0, 8);
        System.arraycopy(IV, 0, v, 8, 8);
        v[12] ^= (int) counter;
        v[13] ^= (int) (counter >>> 32);
        if (last) {
            v[14] = ~v[14];
        }
        for (byte[] s : SIGMA) {
            g(0, 4, 8, 12, m[s[0]], m[s[1]]);
            g(1, 5, 9, 13, m[s[2]], m[s[3]]);
            g(2, 6, 10, 14, m[s[4]], m[s[5]]);
            g(3, 7, 11, 15, m[s[6]], m[s[7]]);
            g(0, 5, 10, 15, m[s[8]], m[s[9]]);
            g(1, 6, 11, 12, m[s[10]], m[s[11]]);
            g(2, 7, 8, 13, m[s[12]], m[s[13]]);
            g(3, 4, 9, 14, m[s[14]], m[s[15]]);
        }
        for (int i = 0; i < 8; i++) {
            h[i] ^= v[i] ^ v[i + 8];
        }
    }

    private void g(int a, int b, int c, int d, int x, int y) {
        v[a] += v[b] + x;
        v[d] = Integer.rotateRight(v[d] ^ v[a], 16);
        v[c] += v[d];
        v[b] = Integer.rotateRight(v[b] ^ v[c], 12);
        v[a] += v[b] + y;
        v[d] = Integer.rotateRight(v[d] ^ v[a], 8);
        v[c] += v[d];
        v[b] = Integer.rotateRight(v[b] ^ v[c], 7);
    }
}
