package io.vswitch.dataplane;

import io.netty.channel.SelectStrategy;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BusyPollTest {
    private static final long US = 1000;

    @Test
    void adaptivePollingPollsThroughCloseGapsAndSleepsThroughSparseOnes() {
        BusyPoll poll = new BusyPoll(BusyPoll.ADAPTIVE);
        long now = 1_000_000_000L;
        assertEquals(0, poll.adaptiveWindowForTest(now), "the first frame after idle time: no polling");
        for (int i = 0; i < 100; i++) {
            now += 50 * US;
            poll.adaptiveWindowForTest(now);
        }
        long window = poll.adaptiveWindowForTest(now + 50 * US);
        assertTrue(window >= 90 * US && window <= 110 * US, "twice a 50 us gap: " + window);
        now += 50 * US;
        for (int i = 0; i < 40; i++) {
            now += 10_000 * US; // a ping every 10 ms
            window = poll.adaptiveWindowForTest(now);
        }
        assertEquals(0, window, "10 ms gaps are idle time");
        for (int i = 0; i < 40; i++) {
            now += 800 * US;
            window = poll.adaptiveWindowForTest(now);
        }
        assertEquals(BusyPoll.ADAPTIVE_MAX_NS, window, "capped");
    }

    @Test
    void withoutPollingTheLoopBlocksWhenThereIsNothingToDo() throws Exception {
        BusyPoll off = new BusyPoll(0);
        assertEquals(SelectStrategy.SELECT, off.calculateStrategy(() -> 0, false));
        BusyPoll adaptive = new BusyPoll(BusyPoll.ADAPTIVE);
        assertEquals(SelectStrategy.SELECT, adaptive.calculateStrategy(() -> 0, false), "idle: sleeps at once");
        assertEquals(2, adaptive.calculateStrategy(() -> 2, false));
    }
}
