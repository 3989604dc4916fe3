package io.vswitch.wireguard;

/**
 * Whether the interface is "under load" (whitepaper 5.3), when a handshake message must carry a
 * valid mac2 or get a cookie reply instead of an answer. The kernel decides by the length of
 * its handshake queue; this core answers handshakes inline, so it counts them instead: more
 * than the threshold in the current second puts the interface under load, and it stays so for
 * one second after (as the kernel's {@code last_under_load}).
 *
 * <p>Threading: synchronized (a handshake message costs four DH operations; this is nothing beside).
 */
final class LoadMeter {
    private static final long SECOND_NS = 1_000_000_000L;
    private final int threshold;
    private long windowStartNs = PeerTimers.UNSET;
    private int count;
    private long underLoadUntilNs = PeerTimers.UNSET;

    LoadMeter(int handshakesPerSecond) {
        this.threshold = handshakesPerSecond;
    }

    /** Notes one handshake message at {@code nowNs} and says whether we are under load. */
    synchronized boolean note(long nowNs) {
        if (windowStartNs == PeerTimers.UNSET || nowNs - windowStartNs >= SECOND_NS) {
            windowStartNs = nowNs;
            count = 0;
        }
        count++;
        if (count > threshold) {
            underLoadUntilNs = nowNs + SECOND_NS;
        }
        return underLoadUntilNs != PeerTimers.UNSET && nowNs - underLoadUntilNs < 0;
    }
}
