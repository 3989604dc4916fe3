package io.vswitch.wireguard;

import java.util.concurrent.atomic.LongAdder;

/**
 * What {@code wg show} prints for a peer, readable at any time by metrics and show: bytes
 * received and sent (of transport messages, as the kernel counts them), the wall-clock time of
 * the latest completed handshake, and how many handshakes completed.
 *
 * <p>Threading: adders and volatiles, written by any loop, read by anyone.
 */
public final class PeerStats {
    final LongAdder rxBytes = new LongAdder();
    final LongAdder txBytes = new LongAdder();
    final LongAdder handshakes = new LongAdder();
    volatile long lastHandshakeEpochNs;

    public long rxBytes() {
        return rxBytes.sum();
    }

    public long txBytes() {
        return txBytes.sum();
    }

    public long handshakes() {
        return handshakes.sum();
    }

    /** Wall-clock nanoseconds since the epoch of the latest handshake, 0 for never. */
    public long lastHandshakeEpochNs() {
        return lastHandshakeEpochNs;
    }
}
