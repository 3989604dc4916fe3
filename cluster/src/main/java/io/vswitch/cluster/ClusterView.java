package io.vswitch.cluster;

import java.util.Map;
import java.util.Set;

/**
 * What the cluster holds, as of {@code revision}, for operators ({@code cluster show}): an
 * immutable copy made when asked for. The daemon applies {@link ClusterChanges}, never this.
 *
 * @param hosts     by name: their VTEPs
 * @param networks  by name: the network's spec as JSON (the daemon reads it)
 * @param members   network -> the hosts with ports in it
 * @param endpoints network -> MAC -> where it lives
 * @param addresses network -> address (no prefix length) -> the host that gave it out
 * @param revision  etcd's revision this view reflects
 * @param ignored   keys under the prefix whose latest value was refused
 * @param refused   values refused so far, by reason
 * @param lingering keys deleted in etcd that are kept while keys of the same lease need them
 */
public record ClusterView(Map<String, Host> hosts, Map<String, String> networks, Map<String, Set<String>> members,
        Map<String, Map<String, Endpoint>> endpoints, Map<String, Map<String, String>> addresses, long revision,
        int ignored, Map<Refusal, Long> refused, int lingering) {

    public static final ClusterView EMPTY = new ClusterView(Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), 0, 0,
            Map.of(), 0);

    /** A host: its VTEP's address and UDP port, when it joined (epoch ms), its lease. */
    public record Host(String name, String vtep, int port, long since, long lease) {
    }

    /**
     * A MAC of a network behind {@code host}, with its address (CIDR or bare; null when unknown);
     * {@code value} is the MAC as a 48-bit number.
     */
    public record Endpoint(String mac, long value, String ip, String host) {
    }

    public Set<String> members(String network) {
        return members.getOrDefault(network, Set.of());
    }

    public Map<String, Endpoint> endpoints(String network) {
        return endpoints.getOrDefault(network, Map.of());
    }

    public Map<String, String> addresses(String network) {
        return addresses.getOrDefault(network, Map.of());
    }
}
