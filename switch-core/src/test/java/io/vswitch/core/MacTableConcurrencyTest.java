package io.vswitch.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Several threads learn and look up at once. Each MAC is only ever learned on the port derived
 * from it, so a reader that finds any other port for it has seen a torn entry; at the end every
 * learned MAC must be there (no lost update) and the live count must be exact.
 */
class MacTableConcurrencyTest {
    private static final int THREADS = 4;
    private static final int MACS_PER_THREAD = 3000;

    private static int portFor(long mac) {
        return (int) (mac % 1000) + 1;
    }

    @Test
    void concurrentLearnersAndReadersLoseNothingAndSeeNoTornEntry() throws Exception {
        MacTable table = new MacTable(7, THREADS * MACS_PER_THREAD + 100);
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<String> failure = new AtomicReference<>();
        AtomicLong lookups = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().start(() -> {
                await(start);
                // Interleave: each thread learns its own MACs and also the shared ones, and reads all.
                for (int round = 0; round < 3; round++) {
                    for (int i = 0; i < MACS_PER_THREAD; i++) {
                        long mine = Frames.mac(id * MACS_PER_THREAD + i + 1);
                        table.learn(mine, portFor(mine), 1, round);
                        long shared = Frames.mac(1_000_000 + i % 64);
                        table.learn(shared, portFor(shared), 1, round);
                        long other = Frames.mac(((id + 1) % THREADS) * MACS_PER_THREAD + i + 1);
                        long v = table.lookup(other);
                        lookups.incrementAndGet();
                        if (v != 0 && (MacTable.portId(v) != portFor(other) || MacTable.generation(v) != 1)) {
                            failure.compareAndSet(null, "torn entry for " + MacAddress.toString(other) + ": " + Long.toHexString(v));
                        }
                    }
                }
            }));
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        assertNull(failure.get());
        for (int t = 0; t < THREADS; t++) {
            for (int i = 0; i < MACS_PER_THREAD; i++) {
                long mac = Frames.mac(t * MACS_PER_THREAD + i + 1);
                assertEquals(portFor(mac), MacTable.portId(table.lookup(mac)), "lost " + MacAddress.toString(mac));
            }
        }
        assertEquals(THREADS * MACS_PER_THREAD + 64, table.size());
        int[] counted = {0};
        table.forEach((mac, v) -> counted[0]++);
        assertEquals(table.size(), counted[0], "no duplicate or missing slots");
    }

    @Test
    void concurrentMovesOfOneMacLeaveOneOfTheWrittenPorts() throws Exception {
        MacTable table = new MacTable(1, 8);
        long mac = Frames.mac(5);
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int port = t + 1;
            threads.add(Thread.ofPlatform().start(() -> {
                await(start);
                for (int i = 0; i < 20_000; i++) {
                    table.learn(mac, port, 1, i);
                }
            }));
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        int port = MacTable.portId(table.lookup(mac));
        assertEquals(true, port >= 1 && port <= THREADS);
        assertEquals(1, table.size());
    }

    @Test
    void limitIsExactUnderConcurrentInserts() throws Exception {
        MacTable table = new MacTable(1, 100);
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().start(() -> {
                await(start);
                for (int i = 0; i < 1000; i++) {
                    table.learn(Frames.mac(id * 1000 + i + 1), 1, 1, 0);
                }
            }));
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        assertEquals(100, table.size());
        int[] counted = {0};
        table.forEach((m, v) -> counted[0]++);
        assertEquals(100, counted[0]);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
