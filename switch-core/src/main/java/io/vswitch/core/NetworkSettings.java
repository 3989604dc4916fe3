package io.vswitch.core;

import java.time.Duration;

/**
 * What a network is configured with, validated at the edge (config file, API) before a
 * {@link BridgeDomain} is built from it.
 */
/**
 * {@code offload}: every port of the network exchanges frames with a virtio-net header, so
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
        if (mtu < 68 || mtu > 65535) {
            throw new IllegalArgumentException("mtu must be 68..65535: " + mtu);
        }
        if (macAging.isNegative() || macAging.toSeconds() < 1) {
            throw new IllegalArgumentException("mac-aging must be at least 1s: " + macAging);
        }
        if (macLimit < 1) {
            throw new IllegalArgumentException("mac-limit must be positive: " + macLimit);
        }
    }

    public NetworkSettings(String name, int mtu, Duration macAging, int macLimit) {
        this(name, mtu, macAging, macLimit, false);
    }

    public static NetworkSettings defaults(String name) {
        return new NetworkSettings(name, DEFAULT_MTU, DEFAULT_MAC_AGING, DEFAULT_MAC_LIMIT);
    }
}
