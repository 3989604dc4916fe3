package io.vswitch.control;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.util.List;

/**
 * A network as the operator asks for it, in the config file or through {@code POST /v1/networks},
 * and as the state file keeps it. Absent (null) fields take the daemon's defaults; the daemon's
 * network rules check every field and fill in the defaults before anything is created.
 *
 * @param name            1-15 characters {@code [a-z0-9-]}
 * @param mtu             of the network's ports; default 1500, or the underlay MTU - 50 for an overlay
 * @param macAgingSeconds how long a learned MAC lives unseen; default 300
 * @param macLimit        learned entries at most; default 8192
 * @param vni             VXLAN network identifier: an overlay network; null for a local one
 * @param peers           remote VTEPs (IPv4 unicast addresses) of an overlay network
 * @param persist         every port's TAP outlives the daemon
 * @param offload         checksum and segmentation offloads pass through; default true
 * @param ports           the network's ports
 * @param statics         static MAC entries
 * @param subnet          IPv4 subnet whose addresses attached containers get (IPAM), e.g. 198.18.61.0/24
 * @param gateway         IPv4 gateway in it; default: the subnet's first address
 * @param subnet6         optional IPv6 subnet (fd00::/8 here)
 * @param gateway6        IPv6 gateway in it; default: its first address
 * @param gatewayPort     the daemon's namespace gets a port holding the gateway addresses (as docker0)
 * @param masquerade      traffic from the subnet leaving through the daemon's namespace is masqueraded
 * @param icc             false: containers reach only the gateway, not each other
 * @param endpoints       containers attached (kept by the state file; not for the config file)
 * @param dns             the switch answers DNS queries to the gateway address for its endpoints' names
 * @param vlan            802.1Q VLAN id (1-4094) the network's frames carry on trunk ports; null: untagged there (native)
 * @param macMoveLimit    moves per second that make a MAC flapping (a loop): it is then blocked on the port it
 *                        moved to; default 10, 0 turns dampening off
 * @param macMoveHoldSeconds how long such a block lasts; default 10
 * @param storm           storm limits for every port of the network that sets none of its own
 * @param mirrors         mirrors (SPAN): copies of chosen ports' frames sent to an output port
 */
public record NetworkSpec(String name, Integer mtu, Long macAgingSeconds, Integer macLimit, Integer vni,
        List<String> peers, Boolean persist, Boolean offload, List<PortSpec> ports, List<StaticEntry> statics,
        String subnet, String gateway, String subnet6, String gateway6, Boolean gatewayPort, Boolean masquerade,
        Boolean icc, List<EndpointSpec> endpoints, Boolean dns, Integer vlan, Integer macMoveLimit,
        Long macMoveHoldSeconds, StormSpec storm, List<MirrorSpec> mirrors) {

    public NetworkSpec {
        peers = peers == null ? List.of() : List.copyOf(peers);
        ports = ports == null ? List.of() : List.copyOf(ports);
        statics = statics == null ? List.of() : List.copyOf(statics);
        endpoints = endpoints == null ? List.of() : List.copyOf(endpoints);
        mirrors = mirrors == null ? List.of() : List.copyOf(mirrors);
    }

    /** Without the host-switch settings (VLAN, dampening, storm limits, mirrors). */
    public NetworkSpec(String name, Integer mtu, Long macAgingSeconds, Integer macLimit, Integer vni,
            List<String> peers, Boolean persist, Boolean offload, List<PortSpec> ports, List<StaticEntry> statics,
            String subnet, String gateway, String subnet6, String gateway6, Boolean gatewayPort, Boolean masquerade,
            Boolean icc, List<EndpointSpec> endpoints, Boolean dns) {
        this(name, mtu, macAgingSeconds, macLimit, vni, peers, persist, offload, ports, statics, subnet, gateway,
                subnet6, gateway6, gatewayPort, masquerade, icc, endpoints, dns, null, null, null, null, null);
    }

    /** The settings of the first versions, without addresses or endpoints. */
    public NetworkSpec(String name, Integer mtu, Long macAgingSeconds, Integer macLimit, Integer vni,
            List<String> peers, Boolean persist, Boolean offload, List<PortSpec> ports, List<StaticEntry> statics) {
        this(name, mtu, macAgingSeconds, macLimit, vni, peers, persist, offload, ports, statics,
                null, null, null, null, null, null, null, null, null);
    }

    /** A local network of that name with every default. */
    public static NetworkSpec named(String name) {
        return new NetworkSpec(name, null, null, null, null, null, null, null, null, null);
    }

    @JsonIgnore
    public boolean isOverlay() {
        return vni != null;
    }

    public boolean persistent() {
        return Boolean.TRUE.equals(persist);
    }

    public NetworkSpec withPorts(List<PortSpec> newPorts) {
        return new NetworkSpec(name, mtu, macAgingSeconds, macLimit, vni, peers, persist, offload, newPorts, statics,
                subnet, gateway, subnet6, gateway6, gatewayPort, masquerade, icc, endpoints, dns, vlan, macMoveLimit, macMoveHoldSeconds, storm, mirrors);
    }

    public NetworkSpec withPeers(List<String> newPeers) {
        return new NetworkSpec(name, mtu, macAgingSeconds, macLimit, vni, newPeers, persist, offload, ports, statics,
                subnet, gateway, subnet6, gateway6, gatewayPort, masquerade, icc, endpoints, dns, vlan, macMoveLimit, macMoveHoldSeconds, storm, mirrors);
    }

    public NetworkSpec withStatics(List<StaticEntry> newStatics) {
        return new NetworkSpec(name, mtu, macAgingSeconds, macLimit, vni, peers, persist, offload, ports, newStatics,
                subnet, gateway, subnet6, gateway6, gatewayPort, masquerade, icc, endpoints, dns, vlan, macMoveLimit, macMoveHoldSeconds, storm, mirrors);
    }

    public NetworkSpec withMirrors(List<MirrorSpec> newMirrors) {
        return new NetworkSpec(name, mtu, macAgingSeconds, macLimit, vni, peers, persist, offload, ports, statics,
                subnet, gateway, subnet6, gateway6, gatewayPort, masquerade, icc, endpoints, dns, vlan, macMoveLimit,
                macMoveHoldSeconds, storm, newMirrors);
    }

    public NetworkSpec withEndpoints(List<EndpointSpec> newEndpoints) {
        return new NetworkSpec(name, mtu, macAgingSeconds, macLimit, vni, peers, persist, offload, ports, statics,
                subnet, gateway, subnet6, gateway6, gatewayPort, masquerade, icc, newEndpoints, dns, vlan, macMoveLimit, macMoveHoldSeconds, storm, mirrors);
    }
}
