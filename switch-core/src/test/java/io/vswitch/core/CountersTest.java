package io.vswitch.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CountersTest {
    @Test
    void sumsEveryLanesStripe() throws Exception {
        Counters counters = new Counters(4, 3);
        Thread[] threads = new Thread[4];
        for (int lane = 0; lane < 4; lane++) {
            int l = lane;
            threads[lane] = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 100_000; i++) {
                    counters.increment(l, 1);
                    counters.add(l, 2, 3);
                }
            });
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(0, counters.get(0));
        assertEquals(400_000, counters.get(1));
        assertEquals(1_200_000, counters.get(2));
    }
}
