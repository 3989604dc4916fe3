package io.vswitch.control;

import java.time.Duration;

/**
 * How long a call may take, counted from when it started (the request received), not from when
 * some step of it got its turn: every step of the call (waiting for the daemon's control
 * thread, a container's namespace work, an IPAM plugin) spends from the same budget. Times are
 * {@link System#nanoTime()}.
 */
public record Deadline(long startNs, long budgetNs) {
    /** A deadline {@code budget} from now. */
    public static Deadline in(Duration budget) {
        return new Deadline(System.nanoTime(), budget.toNanos());
    }

    /** A deadline {@code budget} after {@code startNs}. */
    public static Deadline from(long startNs, Duration budget) {
        return new Deadline(startNs, budget.toNanos());
    }

    /** Nanoseconds left, 0 once it has passed. */
    public long remainingNs() {
        return Math.max(0, startNs + budgetNs - System.nanoTime());
    }

    public boolean passed() {
        return remainingNs() == 0;
    }

    /** The budget as people read it: "30 s", "500 ms". */
    public String budget() {
        return budgetNs % 1_000_000_000L == 0 ? budgetNs / 1_000_000_000L + " s" : budgetNs / 1_000_000L + " ms";
    }

    /**
     * A call that ran out of time. Whoever throws it guarantees what its message says: the change
     * was not made, or was undone.
     */
    public static final class Exceeded extends RuntimeException {
        public Exceeded(String message) {
            super(message);
        }
    }
}
