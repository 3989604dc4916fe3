package io.vswitch.daemon.api;

import io.vswitch.capture.CaptureSession;
import io.vswitch.cluster.ClusterView;
import io.vswitch.cluster.EtcdStore;
import io.vswitch.control.EndpointSpec;
import io.vswitch.control.Json;
import io.vswitch.control.Requests;
import io.vswitch.control.Views;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.DropReason;
import io.vswitch.core.MacAddress;
import io.vswitch.core.MacTable;
import io.vswitch.core.NetworkCounter;
import io.vswitch.core.Port;
import io.vswitch.core.PortCounter;
import io.vswitch.core.Trace;
import io.vswitch.daemon.Attachments;
import io.vswitch.daemon.ClusterSync;
import io.vswitch.daemon.Daemon;
import io.vswitch.daemon.NetworkRules;
import io.vswitch.daemon.NetworkState;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.vxlan.TunnelCounter;
import io.vswitch.vxlan.VxlanEndpoint;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The control API's answers, built from what the daemon publishes (its view of the networks,
 * never the conductor's own state) and the live counters and MAC tables, read lock-free: every
 * read answers without waiting for a change in progress.
 */
final class ApiViews {
    private final Daemon daemon;

    ApiViews(Daemon daemon) {
        this.daemon = daemon;
    }

    Views.Info info() {
        return new Views.Info(ProcessHandle.current().pid(), ControlApi.VERSION,
                (System.currentTimeMillis() - daemon.startedMillis()) / 1000, daemon.config().source(),
                daemon.dataplane().threads());
    }

    Views.Network network(NetworkState s, boolean full) {
        BridgeDomain d = s.domain();
        Map<String, Long> counters = null;
        List<Views.Port> ports = null;
        if (full) {
            counters = new LinkedHashMap<>();
            for (NetworkCounter c : NetworkCounter.values()) {
                counters.put(c.label(), d.count(c));
            }
            ports = new ArrayList<>();
            for (Port p : d.ports()) {
                ports.add(port(p, d, s.vni()));
            }
        }
        NetworkRules.Network c = s.checked();
        return new Views.Network(d.name(), d.id(), d.mtu(), s.vni(), s.peers(), d.settings().macAging().toSeconds(),
                d.settings().macLimit(), d.table().size(), d.settings().offload(), counters, ports,
                c.subnet4() == null ? null : c.subnet4().toString(), c.gateway4() == null ? null : c.gateway4().getHostAddress(),
                c.subnet6() == null ? null : c.subnet6().toString(), c.gateway6() == null ? null : c.gateway6().getHostAddress(),
                c.gatewayPort() != null, c.masquerade(), c.icc(), s.endpoints().size(), c.dns(),
                c.spec().vlan(), d.settings().macMoveLimit(), s.mirrors());
    }

    /** An endpoint of network {@code s}, with the MTU and nameservers its network gives it. */
    Views.Endpoint endpoint(Attachments.Endpoint e, NetworkState s) {
        EndpointSpec spec = e.spec();
        int mtu = spec.mtu() != null ? spec.mtu() : s.domain().mtu();
        NetworkRules.Network checked = s.checked();
        List<String> nameservers = new ArrayList<>();
        if (checked.dns()) {
            if (spec.ipv4() != null && checked.gateway4() != null) {
                nameservers.add(checked.gateway4().getHostAddress());
            }
            if (spec.ipv6() != null && checked.gateway6() != null) {
                nameservers.add(checked.gateway6().getHostAddress());
            }
        }
        // gone: its interface was not found after a restart, or its namespace was deleted (the port failed).
        String state = e.port() == null || e.port().hasFailed() ? "gone" : e.port().linkUp() ? "up" : "down";
        String reason = e.port() == null ? "its interface was not found in its namespace"
                : e.port().hasFailed() ? e.port().failure() : null;
        String ifname = spec.ifname() != null ? spec.ifname() : deviceName(e.port());
        return new Views.Endpoint(e.network(), spec.id(), spec.name(), spec.port(), spec.netns(), ifname, spec.mac(),
                spec.ipv4(), spec.ipv6(), spec.gateway(), spec.gateway6(), mtu, spec.owner(), spec.aliases(),
                nameservers.isEmpty() ? null : nameservers, state, reason);
    }

    /**
     * The name an endpoint's device has now, where a runtime put it (Docker moves the TAP into
     * its container and renames it eth0 without telling the driver); its name here before that.
     */
    private static String deviceName(Port p) {
        if (p instanceof io.vswitch.tapio.TapPort tap && !tap.hasFailed()) {
            try {
                return tap.device().currentName();
            } catch (io.vswitch.nativetap.NativeCallException e) {
                // Going away: its name as made.
            }
        }
        return p == null ? null : p.name();
    }

    /** A port of domain {@code d}; a tunnel port shows its network's {@code vni}. */
    Views.Port port(Port p, BridgeDomain d, Integer vni) {
        Map<String, Long> counters = new LinkedHashMap<>();
        for (PortCounter c : PortCounter.values()) {
            counters.put(c.label(), p.count(c));
        }
        Map<String, Long> drops = new LinkedHashMap<>();
        for (DropReason r : DropReason.values()) {
            drops.put(r.label(), p.drops(r));
        }
        String reason = p.failure() != null ? p.failure() : !p.linkUp() ? "link down in its network namespace" : null;
        return new Views.Port(p.name(), p.id(), p.kind(), p.isUp() && p.linkUp() ? "up" : "down", d.mtu(), reason,
                p.queueCount(), p.offloads(), p.remote(), p.remote() == null ? null : vni, counters, drops);
    }

    static Views.Capture capture(CaptureSession s) {
        return new Views.Capture(s.id(), s.network(), s.port(), s.filter(), s.count(), s.captured(), s.written(),
                s.lost(), s.isRunning());
    }

    private Views.DataplaneStatus dataplaneStatus() {
        Dataplane dp = daemon.dataplane();
        long spin = dp.options().busyPollNs();
        String polling = spin == Dataplane.ADAPTIVE_POLL ? "adaptive"
                : spin == 0 ? "off" : spin % 1_000_000 == 0 ? spin / 1_000_000 + "ms" : spin / 1000 + "us";
        long[] ring = dp.ringCounts();
        return new Views.DataplaneStatus(dp.threads(), dp.io().label(), dp.ioNote(), polling, ring[0], ring[1], ring[2]);
    }

    Views.Show show() {
        daemon.refreshLinks();
        List<Views.Network> nets = daemon.networks().stream().map(s -> network(s, true)).toList();
        return new Views.Show(dataplaneStatus(), nets, vxlan(), clusterStatus());
    }

    private Views.ClusterStatus clusterStatus() {
        ClusterSync c = daemon.cluster();
        if (c == null) {
            return null;
        }
        EtcdStore store = c.store();
        return new Views.ClusterStatus(c.self(), store.connected(),
                store.options().etcd().stream().map(Object::toString).toList(), store.options().prefix(), store.revision(),
                store.hostCount(), store.endpointCount());
    }

    Views.Cluster cluster() {
        ClusterSync c = daemon.cluster();
        if (c == null) {
            throw ApiException.notFound("this daemon is not in a cluster: its config has no cluster: section");
        }
        EtcdStore store = c.store();
        ClusterView v = store.view();
        long now = System.currentTimeMillis();
        Map<String, Integer> endpointsOf = new java.util.HashMap<>();
        for (Map<String, ClusterView.Endpoint> m : v.endpoints().values()) {
            for (ClusterView.Endpoint e : m.values()) {
                endpointsOf.merge(e.host(), 1, Integer::sum);
            }
        }
        List<Views.ClusterHost> hosts = new ArrayList<>();
        for (ClusterView.Host h : new TreeMap<>(v.hosts()).values()) {
            List<String> nets = new ArrayList<>();
            for (String net : new TreeSet<>(v.members().keySet())) {
                if (v.members(net).contains(h.name())) {
                    nets.add(net);
                }
            }
            hosts.add(new Views.ClusterHost(h.name(), h.vtep(), h.port(), h.name().equals(c.self()),
                    h.since() > 0 ? Math.max(0, (now - h.since()) / 1000) : -1, store.leaseTtl(h.lease()), nets,
                    endpointsOf.getOrDefault(h.name(), 0)));
        }
        List<Views.ClusterNetwork> networks = new ArrayList<>();
        for (Map.Entry<String, String> e : new TreeMap<>(v.networks()).entrySet()) {
            Integer vni = null;
            try {
                com.fasterxml.jackson.databind.JsonNode n = Json.LENIENT.readTree(e.getValue()).path("vni");
                vni = n.isInt() ? n.asInt() : null;
            } catch (Exception ignored) {
                // shown without
            }
            networks.add(new Views.ClusterNetwork(e.getKey(), vni, List.copyOf(new TreeSet<>(v.members(e.getKey()))),
                    v.endpoints(e.getKey()).size()));
        }
        Map<String, Long> refused = new LinkedHashMap<>();
        v.refused().forEach((reason, n) -> {
            if (n > 0) {
                refused.put(reason.label(), n);
            }
        });
        return new Views.Cluster(clusterStatus(), (int) store.options().ttl().toSeconds(), hosts, networks, refused,
                v.ignored(), v.lingering(), store.rewrites());
    }

    private Views.Vxlan vxlan() {
        VxlanEndpoint vx = daemon.vxlan();
        if (vx == null) {
            return null;
        }
        Map<String, Long> counters = new LinkedHashMap<>();
        for (TunnelCounter c : TunnelCounter.values()) {
            counters.put(c.label(), vx.count(c));
        }
        return new Views.Vxlan(vx.local().getHostAddress(), vx.port(), counters);
    }

    /** Totals over every port and network there is or was: they never go down. */
    Views.Stats stats() {
        daemon.refreshLinks();
        Dataplane dp = daemon.dataplane();
        long rxFrames = dp.retiredPortCount(PortCounter.RX_FRAMES.ordinal());
        long rxBytes = dp.retiredPortCount(PortCounter.RX_BYTES.ordinal());
        long txFrames = dp.retiredPortCount(PortCounter.TX_FRAMES.ordinal());
        long txBytes = dp.retiredPortCount(PortCounter.TX_BYTES.ordinal());
        Map<String, Long> drops = new LinkedHashMap<>();
        for (DropReason r : DropReason.values()) {
            drops.put(r.label(), dp.retiredPortCount(PortCounter.dropIndex(r)));
        }
        Map<String, Long> network = new LinkedHashMap<>();
        for (NetworkCounter c : NetworkCounter.values()) {
            network.put(c.label(), dp.retiredNetworkCount(c));
        }
        for (NetworkState s : daemon.networks()) {
            BridgeDomain d = s.domain();
            for (NetworkCounter c : NetworkCounter.values()) {
                network.merge(c.label(), d.count(c), Long::sum);
            }
            for (Port p : d.ports()) {
                rxFrames += p.count(PortCounter.RX_FRAMES);
                rxBytes += p.count(PortCounter.RX_BYTES);
                txFrames += p.count(PortCounter.TX_FRAMES);
                txBytes += p.count(PortCounter.TX_BYTES);
                for (DropReason r : DropReason.values()) {
                    drops.merge(r.label(), p.drops(r), Long::sum);
                }
            }
        }
        Map<String, Long> totals = new LinkedHashMap<>();
        totals.put("rx_frames", rxFrames);
        totals.put("rx_bytes", rxBytes);
        totals.put("tx_frames", txFrames);
        totals.put("tx_bytes", txBytes);
        totals.put("port_failures", dp.portFailures());
        Views.Vxlan vx = vxlan();
        return new Views.Stats(totals, drops, network, vx == null ? null : vx.counters());
    }

    List<Views.FdbEntry> fdb(BridgeDomain d) {
        int now = BridgeDomain.tick(System.nanoTime());
        List<Views.FdbEntry> entries = new ArrayList<>();
        d.table().forEach((mac, value) -> {
            if (!d.isCurrent(value)) {
                return;
            }
            Port p = d.port(MacTable.portId(value));
            if (p == null) {
                return;
            }
            boolean isStatic = MacTable.isStatic(value);
            entries.add(new Views.FdbEntry(MacAddress.toString(mac), p.name(), p.remote(), isStatic ? "static" : "dynamic",
                    isStatic ? null : (long) Math.max(0, now - MacTable.tick(value))));
        });
        entries.sort(Comparator.comparing(Views.FdbEntry::mac));
        return entries;
    }

    Views.Trace trace(String net, Requests.Trace request) {
        BridgeDomain d = daemon.network(net).domain();
        if (request.in() == null || request.src() == null || request.dst() == null) {
            throw ApiException.badRequest("\"in\", \"src\" and \"dst\" are required");
        }
        Port ingress = d.port(request.in());
        if (ingress == null) {
            throw ApiException.notFound("network " + net + " has no port \"" + request.in() + "\"");
        }
        long src;
        long dst;
        try {
            src = MacAddress.parse(request.src());
            dst = MacAddress.parse(request.dst());
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        int vlan = request.vlan() == null ? -1 : request.vlan();
        if (vlan < -1 || vlan > 4095) {
            throw ApiException.badRequest("\"vlan\" must be 0..4095, got " + vlan);
        }
        // Trace tells what a link's state does to the frame: read the links now, as show does, not
        // the last sweep's (up to 2 s old: a port brought up since would be traced as down).
        daemon.refreshLinks();
        Trace.Result r = Trace.run(d, ingress, src, dst, vlan, System.nanoTime());
        return new Views.Trace(r.network(), r.in(), r.src(), r.dst(), r.vlan(), r.steps(), r.decision(), r.egress(), r.reason());
    }
}
