package io.vswitch.wireguard;

import java.nio.charset.StandardCharsets;

/**
 * The protocol's constants (whitepaper sections 5.4 and 6.1), times in nanoseconds.
 *
 * <p>{@link #REJECT_AFTER_MESSAGES} is the whitepaper's 2^64 - 2^13 - 1 (as wireguard-go); the
 * receive window ({@link ReplayWindow}) is the kernel's 2048 bits. Counters are unsigned 64-bit
 * and compared as such.
 */
public final class Protocol {
    public static final byte[] CONSTRUCTION = ascii("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s");
    public static final byte[] IDENTIFIER = ascii("WireGuard v1 zx2c4 Jason@zx2c4.com");
    public static final byte[] LABEL_MAC1 = ascii("mac1----");
    public static final byte[] LABEL_COOKIE = ascii("cookie--");

    public static final long REKEY_AFTER_MESSAGES = 1L << 60;
    /** 2^64 - 2^13 - 1 as an unsigned long. */
    public static final long REJECT_AFTER_MESSAGES = -(1L << 13) - 1;
    public static final long REKEY_AFTER_TIME_NS = 120_000_000_000L;
    public static final long REJECT_AFTER_TIME_NS = 180_000_000_000L;
    public static final long REKEY_ATTEMPT_TIME_NS = 90_000_000_000L;
    public static final long REKEY_TIMEOUT_NS = 5_000_000_000L;
    /** The random extra of each handshake retransmission (the kernel's and wireguard-go's 0..333 ms). */
    public static final long REKEY_TIMEOUT_JITTER_MAX_NS = 333_000_000L;
    public static final long KEEPALIVE_TIMEOUT_NS = 10_000_000_000L;
    /** A receiver that initiated the current session renews it this long after it began (180 - 10 - 5 s). */
    public static final long REKEY_AFTER_TIME_RECEIVING_NS = REJECT_AFTER_TIME_NS - KEEPALIVE_TIMEOUT_NS - REKEY_TIMEOUT_NS;
    /** All key material is erased this long after the last session was derived. */
    public static final long ZERO_KEYS_AFTER_NS = 3 * REJECT_AFTER_TIME_NS;
    /** A cookie secret (responder) and a received cookie (initiator) live this long. */
    public static final long COOKIE_SECRET_MAX_AGE_NS = 120_000_000_000L;
    /** A received cookie is used only this long, so it never outlives the secret it came from in flight. */
    public static final long COOKIE_SECRET_LATENCY_NS = 5_000_000_000L;
    /** At most one initiation per peer is consumed in this interval (wireguard-go's 20 ms flood guard). */
    public static final long INITIATIONS_MIN_INTERVAL_NS = 20_000_000L;

    private Protocol() {
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
