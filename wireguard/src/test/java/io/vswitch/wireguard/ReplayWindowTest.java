package io.vswitch.wireguard;

import java.util.HashSet;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The replay window: the Linux kernel's counter self-test sequence, and a model of what it must accept. */
class ReplayWindowTest {
    private static final long LIMIT = ReplayWindow.WINDOW + 1;
    private static final long REJECT = Protocol.REJECT_AFTER_MESSAGES;

    @Test
    void followsTheKernelsCounterSelfTest() {
        ReplayWindow w = new ReplayWindow();
        long[][] steps = {
            {0, 1}, {1, 1}, {1, 0}, {9, 1}, {8, 1}, {7, 1}, {7, 0}, {LIMIT, 1}, {LIMIT - 1, 1}, {LIMIT - 1, 0},
            {LIMIT - 2, 1}, {2, 1}, {2, 0}, {LIMIT + 16, 1}, {3, 0}, {LIMIT + 16, 0}, {LIMIT * 4, 1},
            {LIMIT * 4 - (LIMIT - 1), 1}, {10, 0}, {LIMIT * 4 - LIMIT, 0}, {LIMIT * 4 - (LIMIT + 1), 0},
            {LIMIT * 4 - (LIMIT - 2), 1}, {LIMIT * 4 + 1 - LIMIT, 0}, {0, 0}, {REJECT, 0}, {REJECT - 1, 1},
            {REJECT, 0}, {REJECT - 1, 0}, {REJECT - 2, 1}, {REJECT + 1, 0}, {REJECT + 2, 0}, {REJECT - 2, 0},
            {REJECT - 3, 1}, {0, 0},
        };
        for (int i = 0; i < steps.length; i++) {
            assertEquals(steps[i][1] == 1, w.accept(steps[i][0]), "step " + i + ": counter " + Long.toUnsignedString(steps[i][0]));
        }
    }

    @Test
    void acceptsEveryCounterOfAWindowOutOfOrderOnce() {
        ReplayWindow w = new ReplayWindow();
        for (long i = ReplayWindow.WINDOW; i >= 0; i--) {
            assertEquals(true, w.accept(i));
        }
        for (long i = 0; i <= ReplayWindow.WINDOW; i++) {
            assertEquals(false, w.accept(i));
        }
        assertEquals(false, w.accept(-1L), "2^64 - 1 is past REJECT_AFTER_MESSAGES");
    }

    /** Whatever the order: a counter is accepted iff it is new, below the limit, and within 1984 of the highest. */
    @Property(tries = 300)
    void agreesWithAModel(@ForAll @Size(max = 400) long[] offsets, @ForAll @LongRange(min = 0, max = 1L << 40) long base) {
        ReplayWindow w = new ReplayWindow();
        Set<Long> seen = new HashSet<>();
        long highest = -1;
        for (long offset : offsets) {
            long c = base + Math.floorMod(offset, 5000L);
            boolean expected = !seen.contains(c) && (highest < 0 || c + ReplayWindow.WINDOW >= highest);
            assertEquals(expected, w.accept(c), "counter " + c + " after highest " + highest);
            if (expected) {
                seen.add(c);
                highest = Math.max(highest, c);
            }
        }
    }
}
