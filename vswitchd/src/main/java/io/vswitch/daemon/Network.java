package io.vswitch.daemon;

import io.vswitch.control.MirrorSpec;
import io.vswitch.control.NetworkSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.control.StaticEntry;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.MacAddress;
import io.vswitch.core.Port;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One network as the conductor keeps it: what the rules made of its spec, its bridge domain, and
 * what changed since (ports, static entries, peers, mirrors). Conductor thread only; readers get
 * {@link NetworkState}s published from it.
 */
final class Network {
    final NetworkRules.Network checked;
    final BridgeDomain domain;
    final Map<String, PortSpec> ports = new LinkedHashMap<>();
    final Map<Long, String> statics = new LinkedHashMap<>();
    List<Inet4Address> peers = List.of();
    List<MirrorSpec> mirrors;
    /** Peers and remote MACs the cluster gave (not saved: the cluster holds them). */
    final ClusterEntries cluster = new ClusterEntries();

    Network(NetworkRules.Network checked, BridgeDomain domain) {
        this.checked = checked;
        this.domain = domain;
        this.mirrors = checked.spec().mirrors();
    }

    String name() {
        return checked.name();
    }

    Integer vni() {
        return checked.vni();
    }

    /** The peers in force: the cluster's when it gave some, else the operator's. */
    List<Inet4Address> peersInForce() {
        return cluster.peers().isEmpty() ? peers : cluster.peers();
    }

    /** The network as a restart must rebuild it (its endpoints are the attachments'). */
    NetworkSpec spec() {
        List<StaticEntry> entries = new ArrayList<>();
        statics.forEach((mac, port) -> entries.add(new StaticEntry(MacAddress.toString(mac), port)));
        return checked.spec().withPorts(List.copyOf(ports.values())).withMirrors(mirrors)
                .withPeers(peers.stream().map(InetAddress::getHostAddress).toList())
                .withStatics(entries);
    }

    /** The port of that name; throws 404-kind when there is none. */
    Port port(String port) {
        Port p = domain.port(port);
        if (p == null) {
            throw SpecException.notFound("port", "network " + name() + " has no port \"" + port + "\"");
        }
        return p;
    }

    /** Pins {@code mac} to {@code port}: a static entry, never aged, never moved. */
    void putStatic(long mac, String port) {
        Port p = port(port);
        domain.table().putStatic(mac, p.id(), p.generation());
        statics.put(mac, port);
    }

    /** Makes {@code next} the mirrors, as the data path resolves them. */
    void setMirrors(List<MirrorSpec> next) {
        mirrors = next;
        domain.setMirrors(MirrorRules.resolve(next));
    }
}
