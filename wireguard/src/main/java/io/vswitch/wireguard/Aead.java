package io.vswitch.wireguard;

import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The AEADs of the handshake and the cookie reply, on byte arrays: ChaCha20-Poly1305
 * (RFC 8439; the whitepaper's AEAD with a 96-bit nonce of 32 zero bits and a 64-bit
 * little-endian counter) and XChaCha20-Poly1305 (its XAEAD). Encryption appends the 16-byte
 * tag; decryption returns false on a bad tag and leaves {@code out} undefined.
 *
 * <p>Threading: stateless; each call takes a fresh JDK Cipher (a handshake uses each key once,
 * and a shared Cipher would refuse the same key and nonce twice). The transport data path does
 * not come here: see {@link TransportCipher}.
 */
public final class Aead {
    public static final int TAG_LENGTH = 16;

    private Aead() {
    }

    public static void seal(byte[] key, long counter, byte[] plain, int offset, int length, byte[] ad, byte[] out, int outOffset) {
        crypt(Cipher.ENCRYPT_MODE, key, nonce(counter), plain, offset, length, ad, out, outOffset);
    }

    public static boolean open(byte[] key, long counter, byte[] sealed, int offset, int length, byte[] ad, byte[] out, int outOffset) {
        return crypt(Cipher.DECRYPT_MODE, key, nonce(counter), sealed, offset, length, ad, out, outOffset);
    }

    /** XChaCha20-Poly1305 with a 24-byte nonce. */
    public static void xseal(byte[] key, byte[] nonce24, byte[] plain, int offset, int length, byte[] ad, byte[] out, int outOffset) {
        crypt(Cipher.ENCRYPT_MODE, HChaCha20.subkey(key, nonce24, 0), xnonce(nonce24), plain, offset, length, ad, out, outOffset);
    }

    public static boolean xopen(byte[] key, byte[] nonce24, byte[] sealed, int offset, int length, byte[] ad, byte[] out, int outOffset) {
        return crypt(Cipher.DECRYPT_MODE, HChaCha20.subkey(key, nonce24, 0), xnonce(nonce24), sealed, offset, length, ad, out, outOffset);
    }

    static byte[] nonce(long counter) {
        byte[] nonce = new byte[12];
        for (int i = 0; i < 8; i++) {
            nonce[4 + i] = (byte) (counter >>> (8 * i));
        }
        return nonce;
    }

    private static byte[] xnonce(byte[] nonce24) {
        byte[] nonce = new byte[12];
        System.arraycopy(nonce24, 16, nonce, 4, 8);
        return nonce;
    }

    private static boolean crypt(int mode, byte[] key, byte[] nonce, byte[] in, int offset, int length, byte[] ad,
                                 byte[] out, int outOffset) {
        if (mode == Cipher.DECRYPT_MODE && length < TAG_LENGTH) {
            return false;
        }
        try {
            Cipher cipher = Cipher.getInstance("ChaCha20-Poly1305");
            cipher.init(mode, new SecretKeySpec(key, "ChaCha20"), new IvParameterSpec(nonce));
            if (ad != null && ad.length > 0) {
                cipher.updateAAD(ad);
            }
            cipher.doFinal(in, offset, length, out, outOffset);
            return true;
        } catch (AEADBadTagException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK's ChaCha20-Poly1305 failed: " + e.getMessage(), e);
        }
    }
}
