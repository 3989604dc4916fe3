package io.vswitch.resolver;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One switch port's share of the DNS forwarder: how many of its questions are out now, and how
 * fast it may ask. Without it one container asking for names that are never answered (5,000 a
 * second, each held 1.5 s per resolver) filled the forwarder's global bound and its neighbours'
 * questions came back REFUSED.
 *
 * <p>Two bounds, checked by the lane that took the query (several lanes read one multi-queue
 * port, so both are safe for concurrent callers): at most {@link Limits#pending()} questions out
 * at once, and a rate of {@link Limits#perSecond()} with a burst of as many (a GCRA, the token
 * bucket as one timestamp: the theoretical arrival time of the next question). A question over
 * either is REFUSED at once by the switch; the port's neighbours never notice.
 */
final class PortShare {
    /** Why a question was not taken. */
    enum Refusal {
        /** The port has {@link Limits#pending()} questions out already. */
        PENDING,
        /** The port asks faster than {@link Limits#perSecond()}. */
        RATE
    }

    /**
     * The bounds per port: questions out at once, and questions a second (with a burst of as
     * many); 0 turns a bound off.
     */
    record Limits(int pending, int perSecond) {
        static final Limits DEFAULT = new Limits(128, 1000);

        Limits {
            if (pending < 0 || perSecond < 0) {
                throw new IllegalArgumentException("DNS limits per port must be >= 0, got " + pending + ", " + perSecond);
            }
        }
    }

    private final AtomicInteger out = new AtomicInteger();
    /** The GCRA's theoretical arrival time, in System.nanoTime(); guarded by this. */
    private long tatNs;
    private boolean primed;

    /** Takes one question at {@code nowNs}; null when taken (release it when it ends), else why not. */
    Refusal admit(Limits limits, long nowNs) {
        if (limits.perSecond() > 0 && !withinRate(limits.perSecond(), nowNs)) {
            return Refusal.RATE;
        }
        if (out.incrementAndGet() > limits.pending() && limits.pending() > 0) {
            out.decrementAndGet();
            return Refusal.PENDING;
        }
        return null;
    }

    /** A question of this port was answered or given up. */
    void release() {
        out.decrementAndGet();
    }

    /** Questions of this port out now. */
    int pending() {
        return out.get();
    }

    private synchronized boolean withinRate(int perSecond, long nowNs) {
        long intervalNs = 1_000_000_000L / perSecond;
        long burstNs = 1_000_000_000L - intervalNs; // a full second's worth may come at once
        if (!primed || nowNs - tatNs > 0) {
            tatNs = nowNs;
            primed = true;
        }
        if (tatNs - nowNs > burstNs) {
            return false;
        }
        tatNs += intervalNs;
        return true;
    }
}
