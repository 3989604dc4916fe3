package io.vswitch.control;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A deadline counts from when its call started, not from when it is asked. Pure. */
class DeadlineTest {
    @Test
    void whatIsLeftIsCountedFromTheStartOfTheCall() {
        long start = System.nanoTime() - Duration.ofSeconds(20).toNanos();
        Deadline d = Deadline.from(start, Duration.ofSeconds(30));
        assertTrue(d.remainingNs() <= Duration.ofSeconds(10).toNanos(), "20 of 30 s were spent before it was asked");
        assertFalse(d.passed());
        Deadline gone = Deadline.from(start, Duration.ofSeconds(5));
        assertEquals(0, gone.remainingNs());
        assertTrue(gone.passed());
    }

    @Test
    void itsBudgetReadsAsPeopleWriteIt() {
        assertEquals("30 s", Deadline.in(Duration.ofSeconds(30)).budget());
        assertEquals("250 ms", Deadline.in(Duration.ofMillis(250)).budget());
    }
}
