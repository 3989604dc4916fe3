package io.vswitch.core;

import java.time.Duration;

/**
 * What a {@link BridgeDomain} is built from. The daemon's network rules validate an operator's
 * request (config file or API) and fill in these defaults before one is made; the constructor
 * only guards the invariants the data path relies on.
 *
 * <p>{@code offload}: every port of the network exchanges frames with a virtio-net header, so
 * checksum and segmentation offloads pass through (64 KB TCP frames, one read, one write).
 */
public record NetworkSettings(String name, int mtu, Duration macAging, int macLimit, boolean offload, int macMoveLimit,
        Duration macMoveHold) {
    public static final int DEFAULT_MTU = 1500;
    public static final Duration DEFAULT_MAC_AGING = Duration.ofSeconds(300);
    public static final int DEFAULT_MAC_LIMIT = 8192;
    /** Moves a second that make a MAC flapping ({@link FlapGuard}); a loop makes thousands. */
    public static final int DEFAULT_MAC_MOVE_LIMIT = 10;
    public static final Duration DEFAULT_MAC_MOVE_HOLD = Duration.ofSeconds(10);

    public NetworkSettings {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("network name must not be empty");
        }
        if (mtu <= 0 || macLimit <= 0 || macAging.toSeconds() < 1) {
            throw new IllegalArgumentException("network " + name + ": mtu, mac-limit and mac-aging must be positive");
        }
        if (macMoveLimit < 0 || macMoveHold.isNegative()) {
            throw new IllegalArgumentException("network " + name + ": mac-move-limit and mac-move-hold must not be negative");
        }
    }

    public NetworkSettings(String name, int mtu, Duration macAging, int macLimit, boolean offload) {
        this(name, mtu, macAging, macLimit, offload, DEFAULT_MAC_MOVE_LIMIT, DEFAULT_MAC_MOVE_HOLD);
    }

    public NetworkSettings(String name, int mtu, Duration macAging, int macLimit) {
        this(name, mtu, macAging, macLimit, false);
    }

    public static NetworkSettings defaults(String name) {
        return new NetworkSettings(name, DEFAULT_MTU, DEFAULT_MAC_AGING, DEFAULT_MAC_LIMIT);
    }
}
