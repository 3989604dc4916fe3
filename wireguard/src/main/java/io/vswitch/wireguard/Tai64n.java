package io.vswitch.wireguard;

import java.util.Arrays;

/**
 * TAI64N timestamps (12 bytes: big-endian seconds since 1970 plus 2^62 + 10, then big-endian
 * nanoseconds), the initiation's replay guard: a responder accepts an initiation only with a
 * timestamp greater than every one it accepted from that peer before. Nanoseconds are rounded
 * down to 2^24 ns (~16.8 ms), as wireguard-go does, so the timestamp reveals little of the clock.
 * From the wall clock, not the monotonic one: it must grow across restarts.
 */
public final class Tai64n {
    public static final int LENGTH = 12;
    private static final long BASE = 0x400000000000000AL;
    private static final int WHITENER_MASK = (1 << 24) - 1;

    private Tai64n() {
    }

    public static byte[] of(long epochNs) {
        long seconds = Math.floorDiv(epochNs, 1_000_000_000L) + BASE;
        int nanos = (int) Math.floorMod(epochNs, 1_000_000_000L) & ~WHITENER_MASK;
        byte[] out = new byte[LENGTH];
        for (int i = 0; i < 8; i++) {
            out[i] = (byte) (seconds >>> (56 - 8 * i));
        }
        for (int i = 0; i < 4; i++) {
            out[8 + i] = (byte) (nanos >>> (24 - 8 * i));
        }
        return out;
    }

    /** Whether {@code candidate} is strictly after {@code previous} (null: nothing seen yet). */
    public static boolean after(byte[] candidate, byte[] previous) {
        return previous == null || Arrays.compareUnsigned(candidate, previous) > 0;
    }
}
