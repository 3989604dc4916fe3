package io.vswitch.cluster;

import io.vswitch.cluster.KeyTable.NetHost;
import io.vswitch.cluster.KeyTable.NetIp;
import io.vswitch.cluster.KeyTable.NetMac;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

/**
 * What this host applies from the raw entries ({@link KeyTable}), by network, each a pure
 * function of them: the networks; the peers (members whose host is known, under that host's
 * lease); the remote MACs (an endpoint of a peer, under its lease, whose address is claimed by
 * the same host inside the network's subnet); the addresses other hosts hold. Deriving one item
 * records a change ({@link ClusterChanges}) only when it differs from what was applied. Not
 * thread-safe: the store's lock.
 */
final class Applied {
    private final String self;
    private final KeyTable t;
    private final Map<String, Map<String, Inet4Address>> peers = new HashMap<>();
    private final Map<String, Map<Long, ClusterChanges.Remote>> remote = new HashMap<>();
    private final Map<String, Map<InetAddress, String>> held = new HashMap<>();
    private final Map<String, String> networks = new HashMap<>();
    private ClusterChanges changes = new ClusterChanges();
    long revision;

    Applied(String self, KeyTable t) {
        this.self = self;
        this.t = t;
    }

    private long leaseOf(String host) {
        return t.leaseOf(host);
    }

    boolean pending() {
        return !changes.isEmpty();
    }

    void wentBack() {
        changes.wentBack = true;
    }

    /** Whether network {@code n} applies (and with which spec) changed. */
    void deriveNetwork(String n) {
        Entry.Network now = t.networks.get(n);
        String spec = now == null ? null : now.spec();
        if (!java.util.Objects.equals(spec, networks.get(n))) {
            if (spec == null) {
                networks.remove(n);
            } else {
                networks.put(n, spec);
            }
            changes.network(n, spec);
        }
    }

    /** The VTEP of {@code host} as a peer of {@code net}, or null. */
    private Inet4Address peer(String net, String host) {
        Entry.Member m = t.members.get(new NetHost(net, host));
        Entry.Host h = t.hosts.get(host);
        if (m == null || h == null || m.lease() != h.lease() || host.equals(self)) {
            return null;
        }
        return Underlay.address(Underlay.parseIpv4(h.vtep()));
    }

    /** The host holding {@code ip} of {@code net} (this one included), or null. */
    public String holder(String net, InetAddress ip) {
        Entry.Claim c = t.claims.get(new NetIp(net, ip));
        if (c == null || c.host().equals(self)) {
            return c == null ? null : self;
        }
        Entry.Network n = t.networks.get(net);
        return leaseOf(c.host()) == c.lease() && (n == null || n.admits(ip)) ? c.host() : null;
    }

    void derivePeer(NetHost k) {
        Inet4Address vtep = peer(k.net(), k.host());
        Map<String, Inet4Address> m = peers.get(k.net());
        Inet4Address had = m == null ? null : m.get(k.host());
        if (java.util.Objects.equals(vtep, had)) {
            return;
        }
        if (vtep == null) {
            m.remove(k.host());
            if (m.isEmpty()) {
                peers.remove(k.net());
            }
        } else {
            peers.computeIfAbsent(k.net(), x -> new HashMap<>()).put(k.host(), vtep);
        }
        changes.peers.add(k.net());
    }

    void deriveHeld(NetIp k) {
        String h = holder(k.net(), k.ip());
        String now = self.equals(h) ? null : h;
        if (!java.util.Objects.equals(now, held.getOrDefault(k.net(), Map.of()).get(k.ip()))) {
            set(held, k.net(), k.ip(), now);
            changes.held(k.net(), k.ip(), now);
        }
    }

    void deriveRemote(NetMac k) {
        Entry.Endpoint ep = t.endpoints.get(k);
        ClusterChanges.Remote now = null;
        if (ep != null && !ep.host().equals(self) && leaseOf(ep.host()) == ep.lease()) {
            Inet4Address vtep = peer(k.net(), ep.host());
            if (vtep != null && (ep.ip() == null || ep.host().equals(holder(k.net(), ep.ip())))) {
                now = new ClusterChanges.Remote(vtep, ep.host(), ep.ip());
            }
        }
        if (!java.util.Objects.equals(now, remote.getOrDefault(k.net(), Map.of()).get(k.mac()))) {
            set(remote, k.net(), k.mac(), now);
            changes.remote(k.net(), k.mac(), now);
        }
    }

    private static <K, V> void set(Map<String, Map<K, V>> byNet, String net, K key, V value) {
        if (value != null) {
            byNet.computeIfAbsent(net, x -> new HashMap<>()).put(key, value);
            return;
        }
        Map<K, V> m = byNet.get(net);
        if (m != null && m.remove(key) != null && m.isEmpty()) {
            byNet.remove(net);
        }
    }

    /**
     * All that applies to {@code net} now, as changes from nothing: for a network the daemon has
     * just added (the changes before it had it went nowhere).
     */
    public ClusterChanges snapshot(String net) {
        ClusterChanges c = new ClusterChanges();
        if (networks.containsKey(net)) {
            c.network(net, networks.get(net));
        }
        c.peers.add(net);
        remote.getOrDefault(net, Map.of()).forEach((mac, r) -> c.remote(net, mac, r));
        held.getOrDefault(net, Map.of()).forEach((ip, h) -> c.held(net, ip, h));
        c.revision = revision;
        return c;
    }

    /** What changed since the last call; the next changes start empty. */
    public ClusterChanges takeChanges() {
        ClusterChanges c = changes;
        changes = new ClusterChanges();
        c.revision = revision;
        return c;
    }

    /** The VTEPs of {@code net}'s peers, in address order. */
    public List<Inet4Address> peers(String net) {
        List<Inet4Address> out = new ArrayList<>(new HashSet<>(peers.getOrDefault(net, Map.of()).values()));
        out.sort(java.util.Comparator.comparingLong(a -> Integer.toUnsignedLong(Underlay.ipv4(a))));
        return out;
    }

    /** The other hosts with ports in {@code net}, by name. */
    public List<String> peerHosts(String net) {
        return new ArrayList<>(new java.util.TreeSet<>(peers.getOrDefault(net, Map.of()).keySet()));
    }

    /** Networks the cluster has now: name -> spec. */
    public Map<String, String> networks() {
        return Map.copyOf(networks);
    }

    public boolean hasNetwork(String name) {
        return networks.containsKey(name);
    }

}
