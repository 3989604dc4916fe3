package io.vswitch.daemon;

import java.util.List;

/**
 * A network as the operator defined it, in the config file or through the API: what the state
 * file records and what a restart rebuilds. {@code vni} is 0 for a local-only network.
 */
public record NetworkSpec(String name, int mtu, long macAgingSeconds, int macLimit, int vni, List<String> peers,
        boolean persist, Boolean offload, List<PortSpec> ports, List<StaticEntry> statics) {

    /**
     * A TAP port; {@code persist}: the device outlives the daemon (TUNSETPERSIST);
     * {@code offload}: null to follow the network, false for a port without offloads in an
     * offload network (frames to it are segmented in software).
     */
    public record PortSpec(String name, boolean persist, Boolean offload) {
        public PortSpec(String name, boolean persist) {
            this(name, persist, null);
        }
    }

    /** A static MAC table entry: never ages, never moves. */
    public record StaticEntry(String mac, String port) {
    }

    public NetworkSpec {
        peers = peers == null ? List.of() : List.copyOf(peers);
        ports = ports == null ? List.of() : List.copyOf(ports);
        statics = statics == null ? List.of() : List.copyOf(statics);
    }

    static NetworkSpec of(DaemonConfig.Network n) {
        return new NetworkSpec(n.name(), n.mtu(), n.macAging().toSeconds(), n.macLimit(), n.vni(),
                n.peers().stream().map(a -> a.getHostAddress()).toList(), n.persist(), n.offload(),
                n.ports().stream().map(p -> new PortSpec(p, n.persist())).toList(), List.of());
    }
}
