package io.vswitch.wireguard;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The timers' decisions as functions of what happened and when, without a device. */
class PeerTimersTest {
    private static final long S = 1_000_000_000L;

    @Test
    void keepaliveIsDueTenSecondsAfterTheFirstUnansweredData() {
        PeerTimers t = new PeerTimers();
        t.dataReceived(0);
        t.dataReceived(9 * S);
        assertFalse(t.keepaliveDue(10 * S - 1));
        assertTrue(t.keepaliveDue(10 * S), "counted from the first unanswered packet, not the last");
        t.anyAuthenticatedSent(10 * S);
        assertFalse(t.keepaliveDue(100 * S));
    }

    @Test
    void newHandshakeIsDueFifteenSecondsAfterUnansweredData() {
        PeerTimers t = new PeerTimers();
        t.dataSent(0);
        assertFalse(t.newHandshakeDue(15 * S - 1));
        assertTrue(t.newHandshakeDue(15 * S));
        t.anyAuthenticatedReceived(15 * S);
        assertFalse(t.newHandshakeDue(60 * S));
    }

    @Test
    void retransmissionFollowsTheJitteredTimeoutAndTheAttemptEndsAfterNinetySeconds() {
        PeerTimers t = new PeerTimers();
        t.initiationSent(0, 200_000_000L);
        assertFalse(t.retransmitDue(5 * S + 199_999_999L));
        assertTrue(t.retransmitDue(5 * S + 200_000_000L));
        t.initiationSent(5 * S, 0);
        assertFalse(t.attemptExhausted(90 * S - 1), "the attempt counts from its first initiation");
        assertTrue(t.attemptExhausted(90 * S));
        t.sessionDerived(6 * S);
        assertFalse(t.retransmitDue(100 * S));
        assertFalse(t.attemptExhausted(100 * S));
    }

    @Test
    void persistentKeepaliveIsDueWhenNothingPassedForTheInterval() {
        PeerTimers t = new PeerTimers();
        assertTrue(t.persistentKeepaliveDue(0, 25 * S), "at once when nothing ever passed");
        assertFalse(t.persistentKeepaliveDue(0, 0), "off");
        t.anyAuthenticatedReceived(S);
        assertFalse(t.persistentKeepaliveDue(26 * S - 1, 25 * S));
        assertTrue(t.persistentKeepaliveDue(26 * S, 25 * S));
    }

    @Test
    void keysAreErasedNineMinutesAfterTheLastSession() {
        PeerTimers t = new PeerTimers();
        assertFalse(t.zeroKeysDue(1000 * S));
        t.sessionDerived(0);
        assertFalse(t.zeroKeysDue(540 * S - 1));
        assertTrue(t.zeroKeysDue(540 * S));
    }
}
