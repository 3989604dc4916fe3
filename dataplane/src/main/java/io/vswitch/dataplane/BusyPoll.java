package io.vswitch.dataplane;

import io.netty.channel.SelectStrategy;
import io.netty.util.IntSupplier;

/**
 * The event loop's wait policy. Blocking in epoll_wait costs a wake-up per frame when traffic is
 * sparse (a scheduler round trip, and on a virtual machine an IPI to a halted vCPU), which is
 * most of a user-space switch's latency; polling without blocking for a while after the last
 * frame avoids it, for CPU time. Three policies:
 * <ul>
 *   <li>{@link #ADAPTIVE} (the default): the loop keeps polling after frames for twice the
 *       recent gap between them (an average over the last arrivals), up to {@link #ADAPTIVE_MAX_NS}:
 *       while frames keep coming closely (a TCP stream, request/response traffic) it does not
 *       sleep between them, and when they stop or come sparsely it sleeps. An idle daemon never
 *       polls. While polling it yields the CPU
 *       each round, so a thread that has work (the containers' own, on a small machine) runs
 *       first and the poll only fills time that would otherwise be idle.</li>
 *   <li>a fixed {@code spinNs} &gt; 0: polls that long after the last work, always (like a
 *       DPDK poll-mode thread, but bounded).</li>
 *   <li>0: Netty's default: block whenever there is no work.</li>
 * </ul>
 */
final class BusyPoll implements SelectStrategy {
    /** {@code spinNs} for the adaptive policy. */
    static final long ADAPTIVE = -1;
    /**
     * The longest the adaptive policy polls after frames: traffic with longer gaps (a ping every
     * 10 ms) sleeps between frames. Measured on 2 CPUs: polling through 10 ms gaps took 1.6 CPUs
     * and made ping p99 worse (0.21 ms against 0.11-0.14 ms sleeping unpinned), as the polling
     * loops competed with the containers for the CPUs.
     */
    static final long ADAPTIVE_MAX_NS = 1_000_000L;

    private final long spinNs;
    private long spinUntil;
    private long lastFramesNs;
    /** Average gap between wake-ups that found frames, in ns (an exponential average of 1/8 weight). */
    private long gapNs = Long.MAX_VALUE / 4;

    BusyPoll(long spinNs) {
        this.spinNs = spinNs;
    }

    @Override
    public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
        if (spinNs == 0) {
            return hasTasks ? selectNow.get() : SelectStrategy.SELECT;
        }
        int ready = selectNow.get();
        long now = System.nanoTime();
        if (ready > 0) {
            spinUntil = now + window(now);
            return ready;
        }
        if (hasTasks) {
            return ready;
        }
        if (now - spinUntil < 0) {
            if (spinNs == ADAPTIVE) {
                Thread.yield();
            }
            return SelectStrategy.CONTINUE;
        }
        return SelectStrategy.SELECT;
    }

    /** How long to poll after frames found at {@code now}. */
    private long window(long now) {
        if (spinNs != ADAPTIVE) {
            return spinNs;
        }
        long gap = Math.min(now - lastFramesNs, 4 * ADAPTIVE_MAX_NS);
        lastFramesNs = now;
        gapNs = gapNs > 4 * ADAPTIVE_MAX_NS ? gap : gapNs + (gap - gapNs) / 8;
        return gapNs > ADAPTIVE_MAX_NS ? 0 : Math.min(ADAPTIVE_MAX_NS, 2 * gapNs);
    }

    /** The adaptive policy's current poll window in ns, for tests. */
    long adaptiveWindowForTest(long now) {
        return window(now);
    }
}
