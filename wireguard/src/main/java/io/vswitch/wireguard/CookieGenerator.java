package io.vswitch.wireguard;

/**
 * The macs on handshake messages we send to one peer, and the cookie that peer may give us
 * (whitepaper 5.4.7): mac1 under HASH("mac1----" || their public key) always; mac2 under the
 * last cookie they sent, while it is younger than two minutes less five seconds of latency,
 * else zeros. A cookie reply opens only with the mac1 of the message it answers, so we keep
 * the last mac1 we sent.
 *
 * <p>Threading: guarded by the owning peer's lock.
 */
final class CookieGenerator {
    private final byte[] mac1Key;
    private final byte[] cookieKey;
    private final byte[] lastMac1 = new byte[MessageType.MAC_LENGTH];
    private boolean sentMac1;
    private byte[] cookie;
    private long cookieSetNs;

    CookieGenerator(byte[] peerPublicKey) {
        this.mac1Key = Blake2s.hash(Protocol.LABEL_MAC1, peerPublicKey);
        this.cookieKey = Blake2s.hash(Protocol.LABEL_COOKIE, peerPublicKey);
    }

    /** Writes mac1 and mac2 into the last 32 bytes of a message of {@code length} bytes. */
    void stamp(byte[] message, int length, long nowNs) {
        int mac1 = length - 2 * MessageType.MAC_LENGTH;
        Blake2s.mac(mac1Key, message, 0, mac1, message, mac1);
        System.arraycopy(message, mac1, lastMac1, 0, MessageType.MAC_LENGTH);
        sentMac1 = true;
        int mac2 = length - MessageType.MAC_LENGTH;
        if (cookie != null && nowNs - cookieSetNs < Protocol.COOKIE_SECRET_MAX_AGE_NS - Protocol.COOKIE_SECRET_LATENCY_NS) {
            Blake2s.mac(cookie, message, 0, mac2, message, mac2);
        } else {
            java.util.Arrays.fill(message, mac2, length, (byte) 0);
        }
    }

    /** Takes the cookie from a 64-byte cookie reply; false if it does not open (wrong key or mac1). */
    boolean consume(byte[] reply, long nowNs) {
        if (!sentMac1) {
            return false;
        }
        byte[] nonce = java.util.Arrays.copyOfRange(reply, MessageType.COOKIE_REPLY_NONCE, MessageType.COOKIE_REPLY_NONCE + 24);
        byte[] opened = new byte[MessageType.MAC_LENGTH];
        if (!Aead.xopen(cookieKey, nonce, reply, MessageType.COOKIE_REPLY_COOKIE, 32, lastMac1, opened, 0)) {
            return false;
        }
        cookie = opened;
        cookieSetNs = nowNs;
        return true;
    }

    boolean hasCookie() {
        return cookie != null;
    }
}
