package io.vswitch.wireguard;

import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * Our side of the DoS defence (whitepaper 5.3, 5.4.7) for handshake messages sent to us:
 * <ul>
 *   <li>mac1 = MAC(HASH("mac1----" || our public key), message up to mac1): proves the sender
 *       knows our public key. Checked on every handshake message before any DH.</li>
 *   <li>mac2 = MAC(cookie, message up to mac2), cookie = MAC(secret, source IP || port), the
 *       secret renewed every two minutes: proves the sender receives at its source address.
 *       Required only while we are under load; a message without a valid one then gets a
 *       cookie reply instead of an answer.</li>
 * </ul>
 * The cookie reply seals the cookie with XChaCha20-Poly1305 under HASH("cookie--" || our
 * public key), a random 24-byte nonce, and the message's mac1 as associated data.
 *
 * <p>Threading: the mac1 key is final; the secret is guarded by this object's monitor.
 */
final class CookieChecker {
    private final byte[] mac1Key;
    private final byte[] cookieKey;
    private final SecureRandom random;
    private final byte[] secret = new byte[32];
    private long secretSetNs;
    private boolean secretSet;

    CookieChecker(byte[] localPublicKey, SecureRandom random) {
        this.mac1Key = Blake2s.hash(Protocol.LABEL_MAC1, localPublicKey);
        this.cookieKey = Blake2s.hash(Protocol.LABEL_COOKIE, localPublicKey);
        this.random = random;
    }

    /** Whether the message of {@code length} bytes carries a valid mac1 (mac1 then mac2 are its last 32 bytes). */
    boolean mac1Valid(byte[] message, int length) {
        int mac1 = length - 2 * MessageType.MAC_LENGTH;
        byte[] expected = new byte[MessageType.MAC_LENGTH];
        Blake2s.mac(mac1Key, message, 0, mac1, expected, 0);
        return MessageDigest.isEqual(expected, java.util.Arrays.copyOfRange(message, mac1, mac1 + MessageType.MAC_LENGTH));
    }

    /** Whether the message carries the mac2 that a cookie for {@code source} gives. */
    boolean mac2Valid(byte[] message, int length, long source, long nowNs) {
        int mac2 = length - MessageType.MAC_LENGTH;
        byte[] cookie = cookie(source, nowNs);
        byte[] expected = new byte[MessageType.MAC_LENGTH];
        Blake2s.mac(cookie, message, 0, mac2, expected, 0);
        return MessageDigest.isEqual(expected, java.util.Arrays.copyOfRange(message, mac2, mac2 + MessageType.MAC_LENGTH));
    }

    /** The 64-byte cookie reply to a message of {@code length} bytes from {@code source}. */
    byte[] reply(byte[] message, int length, int senderIndex, long source, long nowNs) {
        byte[] reply = new byte[MessageType.COOKIE_REPLY_LENGTH];
        reply[0] = MessageType.COOKIE_REPLY;
        putIntLE(reply, MessageType.COOKIE_REPLY_RECEIVER, senderIndex);
        byte[] nonce = new byte[24];
        random.nextBytes(nonce);
        System.arraycopy(nonce, 0, reply, MessageType.COOKIE_REPLY_NONCE, 24);
        int mac1 = length - 2 * MessageType.MAC_LENGTH;
        byte[] ad = java.util.Arrays.copyOfRange(message, mac1, mac1 + MessageType.MAC_LENGTH);
        byte[] cookie = cookie(source, nowNs);
        Aead.xseal(cookieKey, nonce, cookie, 0, cookie.length, ad, reply, MessageType.COOKIE_REPLY_COOKIE);
        return reply;
    }

    private synchronized byte[] cookie(long source, long nowNs) {
        if (!secretSet || nowNs - secretSetNs >= Protocol.COOKIE_SECRET_MAX_AGE_NS) {
            random.nextBytes(secret);
            secretSetNs = nowNs;
            secretSet = true;
        }
        byte[] out = new byte[MessageType.MAC_LENGTH];
        byte[] address = Endpoint.bytes(source);
        Blake2s.mac(secret, address, 0, address.length, out, 0);
        return out;
    }

    static void putIntLE(byte[] b, int offset, int value) {
        b[offset] = (byte) value;
        b[offset + 1] = (byte) (value >>> 8);
        b[offset + 2] = (byte) (value >>> 16);
        b[offset + 3] = (byte) (value >>> 24);
    }

    static int getIntLE(byte[] b, int offset) {
        return (b[offset] & 0xFF) | (b[offset + 1] & 0xFF) << 8 | (b[offset + 2] & 0xFF) << 16 | (b[offset + 3] & 0xFF) << 24;
    }
}
