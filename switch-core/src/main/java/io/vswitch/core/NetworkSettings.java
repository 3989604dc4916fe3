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
public record NetworkSettings(String name, int mtu, Duration macAging, int macLimit, boolean offload) {
    public static final int DEFAULT_MTU = 1500;
    public static final Duration DEFAULT_MAC_AGING = Duration.ofSeconds(300);
    public static final int DEFAULT_MAC_LIMIT = 8192;

    public NetworkSettings {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("network name must not be empty");
        }
        if (mtu <= 0 || macLimit <= 0 || macAging.toSeconds() < 1) {
            throw new IllegalArgumentException("network " + name + ": mtu, mac-limit and mac-aging must be positive");
        }
    }

    public NetworkSettings(String name, int mtu, Duration macAging, int macLimit) {
        this(name, mtu, macAging, macLimit, false);
    }

    public static NetworkSettings defaults(String name) {
        return new NetworkSettings(name, DEFAULT_MTU, DEFAULT_MAC_AGING, DEFAULT_MAC_LIMIT);
    }
}
