package io.vswitch.core;

/**
 * MAC-move dampening, as a switch's loop guard: a MAC that moves between ports more than
 * {@code limit} times in a second is the signature of a loop (or of a duplicated MAC). The MAC is
 * then pinned to its home, the port it lived on when the moves began, for {@code hold}: frames
 * with that source arriving on any other port are dropped ({@code mac-flap}) and not learned.
 * Copies of its frames that come back round a loop are so dropped where they re-enter, which
 * breaks the circle for that MAC, while the MAC itself keeps working from its own port.
 *
 * <p>A fixed table of {@link #SLOTS} MACs indexed by hash, written only on moves (rare unless
 * something is wrong) and read on the data path behind one volatile check that costs nothing
 * while no MAC is pinned. Lanes race on a slot only when the same MAC moves on two lanes at once;
 * the worst outcome is a count off by one. Pins are reported once each through
 * {@link #drainBlocked}, by the control thread.
 */
public final class FlapGuard {
    static final int SLOTS = 1024;
    private static final long SECOND = 1_000_000_000L;

    private final int limit;
    private final long holdNs;
    private final long[] macs = new long[SLOTS];
    private final long[] windowStart = new long[SLOTS];
    private final int[] moves = new int[SLOTS];
    /** Where the MAC lived when its window of moves began: port id << 16 | generation. */
    private final int[] from = new int[SLOTS];
    /** While pinned: its home (same key) and until when. */
    private final int[] home = new int[SLOTS];
    private final long[] until = new long[SLOTS];
    /** The latest end of any pin: while now is past it, nothing is pinned. */
    private volatile long anyUntil = Long.MIN_VALUE;
    /** Pins made and not yet reported: (mac << 16 | home port id); control thread drains. */
    private final long[] report = new long[64];
    private int reported;
    private volatile int pending;
    private long blocks;

    /** {@code limit}: moves per second that make a flap (0: never); {@code holdNs}: how long a pin lasts. */
    public FlapGuard(int limit, long holdNs) {
        this.limit = limit;
        this.holdNs = holdNs;
    }

    private static int slot(long mac) {
        long h = mac * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 54) & (SLOTS - 1);
    }

    /** A port as the guard keeps it: id and generation. */
    public static int key(int portId, int generation) {
        return (portId << 16) | (generation & 0x7FFF);
    }

    static int key(Port port) {
        return key(port.id(), port.generation());
    }

    /** Whether frames from {@code mac} on {@code ingress} are dropped now (it is pinned elsewhere). Wait-free. */
    public boolean isBlocked(long mac, Port ingress, long nowNs) {
        if (nowNs - anyUntil >= 0) {
            return false;
        }
        int i = slot(mac);
        return macs[i] == mac && home[i] != 0 && nowNs - until[i] < 0 && home[i] != key(ingress);
    }

    /**
     * {@code mac} just moved from port {@code fromKey} ({@link #key}) to {@code to}. Returns the
     * home key when this move pinned it (the caller puts the MAC back there), else 0.
     */
    public int moved(long mac, int fromKey, Port to, long nowNs) {
        if (limit <= 0) {
            return 0;
        }
        int i = slot(mac);
        if (macs[i] == mac && home[i] != 0 && nowNs - until[i] < 0) {
            return 0; // pinned already (a move back home, or one that raced the pin)
        }
        if (macs[i] != mac || nowNs - windowStart[i] > SECOND) {
            macs[i] = mac;
            windowStart[i] = nowNs;
            moves[i] = 0;
            from[i] = fromKey;
            home[i] = 0;
        }
        if (++moves[i] <= limit) {
            return 0;
        }
        int h = from[i];
        home[i] = h;
        long end = nowNs + holdNs;
        until[i] = end;
        if (end - anyUntil > 0) {
            anyUntil = end;
        }
        synchronized (report) {
            blocks++;
            if (reported < report.length) {
                report[reported++] = (mac << 16) | (h >>> 16);
            }
            pending = reported;
        }
        return h;
    }

    /** How many MACs were pinned since the network was created. */
    public long blocks() {
        synchronized (report) {
            return blocks;
        }
    }

    /** The pins made since the last call, as (mac << 16 | home port id); control thread. */
    public long[] drainBlocked() {
        if (pending == 0) {
            return new long[0];
        }
        synchronized (report) {
            long[] out = java.util.Arrays.copyOf(report, reported);
            reported = 0;
            pending = 0;
            return out;
        }
    }

    public int limit() {
        return limit;
    }

    public long holdNs() {
        return holdNs;
    }
}
