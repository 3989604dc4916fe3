package io.vswitch.wireguard;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.SecureRandom;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import javax.crypto.KeyAgreement;

/**
 * Curve25519 Diffie-Hellman (RFC 7748) over the JDK's XDH with raw 32-byte keys, as WireGuard
 * keeps them. A private key is any 32 bytes (the scalar is clamped on use); a public key is the
 * little-endian u-coordinate, its top bit ignored. A result of all zeros (a small-order public
 * key) is refused, as the whitepaper's DH requires: {@link #agree} returns false then.
 *
 * <p>Threading: stateless; each call makes its own JDK objects (handshakes only, never per packet).
 */
public final class X25519 {
    public static final int KEY_LENGTH = 32;
    private static final byte[] BASE_POINT = new byte[KEY_LENGTH];

    static {
        BASE_POINT[0] = 9;
    }

    private X25519() {
    }

    /** A new private key: 32 random bytes, clamped as {@code wg genkey} writes them. */
    public static byte[] generatePrivate(SecureRandom random) {
        byte[] key = new byte[KEY_LENGTH];
        random.nextBytes(key);
        key[0] &= (byte) 248;
        key[31] &= 127;
        key[31] |= 64;
        return key;
    }

    public static byte[] publicKey(byte[] privateKey) {
        byte[] out = new byte[KEY_LENGTH];
        if (!agree(privateKey, BASE_POINT, out)) {
            throw new IllegalStateException("X25519 with the base point cannot be zero");
        }
        return out;
    }

    /** DH(privateKey, publicKey) into {@code out}; false (out untouched) for a small-order public key. */
    public static boolean agree(byte[] privateKey, byte[] publicKey, byte[] out) {
        try {
            KeyFactory factory = KeyFactory.getInstance("XDH");
            var priv = factory.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, privateKey));
            byte[] reversed = new byte[KEY_LENGTH];
            for (int i = 0; i < KEY_LENGTH; i++) {
                reversed[i] = publicKey[KEY_LENGTH - 1 - i];
            }
            reversed[0] &= 0x7F;
            var pub = factory.generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(1, reversed)));
            KeyAgreement agreement = KeyAgreement.getInstance("XDH");
            agreement.init(priv);
            agreement.doPhase(pub, true);
            byte[] secret = agreement.generateSecret();
            int any = 0;
            for (byte b : secret) {
                any |= b;
            }
            if (any == 0) {
                return false;
            }
            System.arraycopy(secret, 0, out, 0, KEY_LENGTH);
            return true;
        } catch (java.security.InvalidKeyException e) {
            // The JDK refuses a shared secret of all zeros ("point has small order").
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK's XDH (X25519) is unavailable", e);
        }
    }
}
