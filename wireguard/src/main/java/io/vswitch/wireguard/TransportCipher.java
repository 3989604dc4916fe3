package io.vswitch.wireguard;

import io.netty.buffer.ByteBuf;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * ChaCha20-Poly1305 of transport data, in place in a ByteBuf: the packet is sealed where it
 * lies and the 16-byte tag written behind it; opening checks the tag before a byte is changed.
 *
 * <p>Why the JDK's Cipher and how (bench/jmh TransportCipherBench, figures in the README): on
 * this hardware its ChaCha20 and Poly1305 run as AVX-512 intrinsics and beat a Java
 * implementation at every size. Its ByteBuffer path for direct memory copies each packet into
 * a new array, so a direct buffer goes through a per-thread scratch array here instead (two
 * copies, no allocation for the data). What is left is the Cipher's own per-init garbage (key
 * copy, Poly1305 state, the nonce spec); a bad tag costs an exception inside the JDK, caught
 * here: an attacker who knows a live receiver index makes us pay that per forged datagram.
 *
 * <p>Threading: not thread-safe; one per event loop (it holds a Cipher and a scratch array).
 */
public final class TransportCipher {
    private final Cipher cipher;
    private byte[] scratch = new byte[2048];

    public TransportCipher() {
        try {
            cipher = Cipher.getInstance("ChaCha20-Poly1305");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no ChaCha20-Poly1305", e);
        }
    }

    /**
     * Seals the {@code length} bytes at {@code index} with the key and counter, writing the tag
     * at {@code index + length}; the buffer must have that room (its writer index is not moved).
     */
    public void seal(SecretKeySpec key, long counter, ByteBuf buf, int index, int length) {
        try {
            cipher.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(Aead.nonce(counter)));
            if (buf.hasArray()) {
                int at = buf.arrayOffset() + index;
                cipher.doFinal(buf.array(), at, length, buf.array(), at);
            } else {
                byte[] s = scratch(length + Aead.TAG_LENGTH);
                buf.getBytes(index, s, 0, length);
                cipher.doFinal(s, 0, length, s, 0);
                buf.setBytes(index, s, 0, length + Aead.TAG_LENGTH);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 refused to seal: " + e.getMessage(), e);
        }
    }

    /**
     * Opens the {@code sealedLength} bytes at {@code index} (packet and tag) in place; true with
     * the plaintext at {@code index}, false (buffer unchanged) when the tag does not verify.
     */
    public boolean open(SecretKeySpec key, long counter, ByteBuf buf, int index, int sealedLength) {
        if (sealedLength < Aead.TAG_LENGTH) {
            return false;
        }
        try {
            cipher.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(Aead.nonce(counter)));
            if (buf.hasArray()) {
                int at = buf.arrayOffset() + index;
                cipher.doFinal(buf.array(), at, sealedLength, buf.array(), at);
            } else {
                byte[] s = scratch(sealedLength);
                buf.getBytes(index, s, 0, sealedLength);
                int n = cipher.doFinal(s, 0, sealedLength, s, 0);
                buf.setBytes(index, s, 0, n);
            }
            return true;
        } catch (AEADBadTagException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 refused to open: " + e.getMessage(), e);
        }
    }

    private byte[] scratch(int length) {
        if (scratch.length < length) {
            scratch = new byte[Math.max(length, 2 * scratch.length)];
        }
        return scratch;
    }
}
