package io.vswitch.resolver;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** A port's share of the forwarder, with a clock the test moves. */
class PortShareTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void atMostPendingQuestionsAreOutAndAReleaseMakesRoom() {
        PortShare s = new PortShare();
        PortShare.Limits limits = new PortShare.Limits(3, 0);
        for (int i = 0; i < 3; i++) {
            assertNull(s.admit(limits, 0));
        }
        assertEquals(PortShare.Refusal.PENDING, s.admit(limits, 0));
        assertEquals(3, s.pending(), "a refusal takes no place");
        s.release();
        assertNull(s.admit(limits, 0));
    }

    @Test
    void aSecondsWorthComesAtOnceThenOneEachIntervalAndAQuietSecondRefills() {
        PortShare s = new PortShare();
        PortShare.Limits limits = new PortShare.Limits(0, 10);
        long t = 123 * SECOND;
        for (int i = 0; i < 10; i++) {
            assertNull(s.admit(limits, t), "burst " + i);
        }
        assertEquals(PortShare.Refusal.RATE, s.admit(limits, t));
        assertEquals(PortShare.Refusal.RATE, s.admit(limits, t + SECOND / 10 - 1));
        assertNull(s.admit(limits, t + SECOND / 10), "one more after an interval");
        assertEquals(PortShare.Refusal.RATE, s.admit(limits, t + SECOND / 10));
        long later = t + 3 * SECOND;
        for (int i = 0; i < 10; i++) {
            assertNull(s.admit(limits, later), "refilled " + i);
        }
        assertEquals(PortShare.Refusal.RATE, s.admit(limits, later));
    }

    @Test
    void withBothBoundsOffEverythingIsTaken() {
        PortShare s = new PortShare();
        PortShare.Limits off = new PortShare.Limits(0, 0);
        for (int i = 0; i < 100_000; i++) {
            assertNull(s.admit(off, 0));
        }
    }
}
