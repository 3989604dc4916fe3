package io.vswitch.core;

/**
 * Per-port rate limits, in frames per second, on what a port may make the switch flood:
 * broadcast, multicast and unknown unicast. Each class has a token bucket per lane, holding at
 * most a tenth of a second of its share of the rate; a lane reading the port spends its own
 * bucket only, so the data path takes no lock and touches no shared line. A port read by
 * {@code loops} loops gives each the rate / loops (with one queue per loop, the kernel spreads
 * the port's flows over them).
 *
 * <p>A frame over its class's rate is dropped at ingress and counted under
 * {@code storm-broadcast}, {@code storm-multicast} or {@code storm-unknown-unicast}: the flood,
 * and the work of every port it would have reached, never happens. A rate of 0 is no limit.
 */
public final class StormControl {
    public static final int BROADCAST = 0;
    public static final int MULTICAST = 1;
    public static final int UNKNOWN_UNICAST = 2;
    private static final long NANOS = 1_000_000_000L;
    /** A bucket holds this fraction of a second of frames (at least one). */
    private static final long BURST_DIVISOR = 10;

    /** The limits: frames/s for each class, 0 for none. */
    public record Limits(long broadcast, long multicast, long unknownUnicast) {
        public static final Limits NONE = new Limits(0, 0, 0);

        public Limits {
            if (broadcast < 0 || multicast < 0 || unknownUnicast < 0) {
                throw new IllegalArgumentException("storm limits are frames per second, 0 or more");
            }
        }

        long of(int kind) {
            return switch (kind) {
                case BROADCAST -> broadcast;
                case MULTICAST -> multicast;
                default -> unknownUnicast;
            };
        }

        public boolean isNone() {
            return broadcast == 0 && multicast == 0 && unknownUnicast == 0;
        }
    }

    private final Limits limits;
    /** Per lane and class: frames per second of this lane's share (0: unlimited). */
    private final long[] rate;
    /** Per lane and class: credit in frame-nanoseconds (one frame costs {@link #NANOS}). */
    private final long[] credit;
    /** Per lane and class: when the bucket was last filled. */
    private final long[] last;
    private final long[] cap;

    /** {@code lanes}: counter lanes of the data plane; {@code loops}: how many loops may read the port. */
    public StormControl(Limits limits, int lanes, int loops) {
        this.limits = limits;
        int n = lanes * 3;
        this.rate = new long[n];
        this.credit = new long[n];
        this.last = new long[n];
        this.cap = new long[n];
        for (int lane = 0; lane < lanes; lane++) {
            for (int kind = 0; kind < 3; kind++) {
                long r = limits.of(kind);
                long share = r == 0 ? 0 : Math.max(1, r / Math.max(1, loops));
                int i = lane * 3 + kind;
                rate[i] = share;
                cap[i] = Math.max(1, share / BURST_DIVISOR) * NANOS;
                credit[i] = cap[i];
            }
        }
    }

    public Limits limits() {
        return limits;
    }

    /** The class of a frame that floods, from its destination MAC. */
    public static int kind(long destination) {
        if (destination == MacAddress.BROADCAST) {
            return BROADCAST;
        }
        return MacAddress.isGroup(destination) ? MULTICAST : UNKNOWN_UNICAST;
    }

    /** Whether one more frame of {@code kind} may flood from this port now; spends it if so. Lane-confined. */
    public boolean allow(int kind, int lane, long nowNs) {
        int i = lane * 3 + kind;
        long r = rate[i];
        if (r == 0) {
            return true;
        }
        long elapsed = nowNs - last[i];
        last[i] = nowNs;
        long c = credit[i];
        if (elapsed > 0) {
            c += Math.min(elapsed, NANOS) * r;
            if (c > cap[i]) {
                c = cap[i];
            }
        }
        if (c >= NANOS) {
            credit[i] = c - NANOS;
            return true;
        }
        credit[i] = c;
        return false;
    }

    /** The drop reason for a frame of {@code kind} over its limit. */
    public static DropReason reason(int kind) {
        return switch (kind) {
            case BROADCAST -> DropReason.STORM_BROADCAST;
            case MULTICAST -> DropReason.STORM_MULTICAST;
            default -> DropReason.STORM_UNKNOWN_UNICAST;
        };
    }
}
