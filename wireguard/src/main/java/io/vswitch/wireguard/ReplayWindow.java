package io.vswitch.wireguard;

/**
 * The receive side's replay guard for one keypair: the highest counter seen and a 2048-bit
 * window of counters below it, as the Linux kernel's {@code counter_validate} (RFC 6479's
 * block-based window). The window is 32 longs used as a ring; moving ahead clears only the
 * blocks passed over, so a jump costs at most 32 stores whatever its size. 64 counters (one
 * block) behind the highest are given up to the ring, so the usable window is 1984 counters.
 *
 * <p>Counters are unsigned 64-bit. The window remembers {@code counter + 1} so that counter 0
 * of a fresh window is not mistaken for seen. A counter at or past
 * {@link Protocol#REJECT_AFTER_MESSAGES} is refused outright.
 *
 * <p>Threading: not thread-safe. A keypair's receivers take its lock around {@link #accept}
 * (see {@link Keypair#acceptCounter}); the check comes after decryption, so only authentic
 * counters ever move the window.
 */
public final class ReplayWindow {
    public static final int BITS = 2048;
    private static final int BLOCKS = BITS / 64;
    /** How far behind the highest counter one is still accepted. */
    public static final int WINDOW = BITS - 64;

    private final long[] blocks = new long[BLOCKS];
    /** The highest accepted counter plus one; 0 before any. */
    private long greatest;

    /** Whether {@code counter} is new (and remembers it), false for a replay or one too old or too large. */
    public boolean accept(long counter) {
        if (Long.compareUnsigned(counter, Protocol.REJECT_AFTER_MESSAGES) >= 0) {
            return false;
        }
        long shifted = counter + 1;
        if (Long.compareUnsigned(shifted + WINDOW, greatest) < 0) {
            return false;
        }
        long block = shifted >>> 6;
        if (Long.compareUnsigned(shifted, greatest) > 0) {
            long current = greatest >>> 6;
            long top = Math.min(block - current, BLOCKS);
            for (long i = 1; i <= top; i++) {
                blocks[(int) ((current + i) & (BLOCKS - 1))] = 0;
            }
            greatest = shifted;
        }
        int index = (int) (block & (BLOCKS - 1));
        long bit = 1L << (shifted & 63);
        if ((blocks[index] & bit) != 0) {
            return false;
        }
        blocks[index] |= bit;
        return true;
    }

    /** The highest counter accepted so far, or -1 (as unsigned: none). */
    public long highest() {
        return greatest - 1;
    }
}
