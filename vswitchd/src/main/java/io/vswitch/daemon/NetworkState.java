package io.vswitch.daemon;

import io.vswitch.control.MirrorSpec;
import io.vswitch.core.BridgeDomain;

import java.util.List;

/**
 * A network as readers see it, published by the conductor after each change: its domain (whose
 * counters and MAC table are read lock-free), its peers (null for a local network), the settings
 * the rules made of it, its mirrors and endpoints, and whether a gateway port holds its gateway.
 * Immutable.
 */
public record NetworkState(BridgeDomain domain, Integer vni, List<String> peers, NetworkRules.Network checked,
        List<MirrorSpec> mirrors, List<Attachments.Endpoint> endpoints, boolean gatewayPort) {
    public String name() {
        return checked.name();
    }
}
