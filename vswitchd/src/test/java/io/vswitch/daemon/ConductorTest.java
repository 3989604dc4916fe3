package io.vswitch.daemon;

import io.vswitch.control.Deadline;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The conductor's contract: one thread, one queue, deadlines that cancel only what has not started. Pure. */
class ConductorTest {
    private final Conductor conductor = new Conductor();
    private static final Deadline LONG = Deadline.in(Duration.ofSeconds(30));

    @AfterEach
    void stop() {
        conductor.close();
    }

    private void await(CountDownLatch latch) throws InterruptedException {
        assertTrue(latch.await(10, TimeUnit.SECONDS));
    }

    @Test
    void commandsFromManyThreadsRunOneAtATimeOnTheConductor() throws Exception {
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        List<String> threads = new CopyOnWriteArrayList<>();
        List<CompletableFuture<Integer>> calls = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            int n = i;
            calls.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return conductor.call("n" + n, LONG, () -> {
                        most.accumulateAndGet(inside.incrementAndGet(), Math::max);
                        threads.add(Thread.currentThread().getName());
                        inside.decrementAndGet();
                        return n;
                    });
                } catch (PortFactory.OpenException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (int i = 0; i < calls.size(); i++) {
            assertEquals(i, calls.get(i).get(10, TimeUnit.SECONDS));
        }
        assertEquals(1, most.get(), "never two at once");
        assertTrue(threads.stream().allMatch("vswitch-conductor"::equals), threads.toString());
    }

    @Test
    void aCommandStillQueuedAtItsDeadlineNeverRuns() throws Exception {
        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        conductor.execute("occupy", () -> {
            busy.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        await(busy);
        AtomicBoolean ran = new AtomicBoolean();
        Deadline.Exceeded e = assertThrows(Deadline.Exceeded.class,
                () -> conductor.call("late", Deadline.in(Duration.ofMillis(50)), () -> ran.getAndSet(true)));
        assertTrue(e.getMessage().startsWith("late did not get its turn within 50 ms; nothing was changed"), e.getMessage());
        release.countDown();
        assertEquals("after", conductor.call("after", LONG, () -> "after"), "commands queued after it still run");
        assertFalse(ran.get(), "the cancelled command never ran");
    }

    @Test
    void aCommandThatStartedBeforeItsDeadlineIsTheCallersWhateverTheClockSays() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Deadline deadline = Deadline.in(Duration.ofMillis(100));
        CompletableFuture<String> call = CompletableFuture.supplyAsync(() -> {
            try {
                return conductor.call("long", deadline, () -> {
                    started.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return "done";
                });
            } catch (PortFactory.OpenException e) {
                throw new IllegalStateException(e);
            }
        });
        await(started);
        while (!deadline.passed()) {
            Thread.onSpinWait();
        }
        release.countDown();
        assertEquals("done", call.get(10, TimeUnit.SECONDS), "its caller learns it was done, not that it failed");
    }

    @Test
    void whatACommandThrowsIsThrownToItsCaller() {
        SpecException refused = new SpecException("mtu", "no");
        assertSame(refused, assertThrows(SpecException.class, () -> conductor.call("x", LONG, () -> {
            throw refused;
        })));
        PortFactory.OpenException open = new PortFactory.OpenException("EBUSY", null);
        assertSame(open, assertThrows(PortFactory.OpenException.class, () -> conductor.call("x", LONG, () -> {
            throw open;
        })));
    }

    @Test
    void onTheConductorItselfACallRunsAtOnce() throws Exception {
        assertEquals("inner", conductor.call("outer", LONG, () -> conductor.call("inner", LONG, () -> "inner")));
    }

    @Test
    void afterEachCommandTheHookRunsOnTheConductor() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        conductor.afterEach(() -> seen.add("after:" + Thread.currentThread().getName()));
        conductor.call("a", LONG, () -> seen.add("a"));
        conductor.call("b", LONG, () -> seen.add("b"));
        assertEquals(List.of("a", "after:vswitch-conductor", "b"), seen.subList(0, 3));
    }

    @Test
    void anInterruptedCommandLeavesTheConductorRunning() throws Exception {
        conductor.call("interrupts itself", LONG, () -> {
            Thread.currentThread().interrupt();
            return null;
        });
        assertEquals("still here", conductor.call("next", LONG, () -> Thread.currentThread().isInterrupted()
                ? "interrupted" : "still here"));
    }

    @Test
    void closeRunsWhatIsQueuedThenRefusesMore() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 10; i++) {
            conductor.execute("queued", ran::incrementAndGet);
        }
        conductor.close();
        assertEquals(10, ran.get());
        assertThrows(RejectedExecutionException.class, () -> conductor.call("late", LONG, () -> null));
    }
}
