package io.vswitch.daemon;

import io.vswitch.core.BridgeDomain;
import io.vswitch.core.MacAddress;
import io.vswitch.core.MacTable;
import io.vswitch.core.Port;
import io.vswitch.vxlan.Overlays;
import io.vswitch.vxlan.TunnelPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the cluster gave one overlay network, apart from what the operator gave it: its peers
 * (tunnel ports) and a static MAC entry on a peer's tunnel port for each remote endpoint, kept
 * up to date one change at a time ({@link Update}): a change costs work for the MACs it names,
 * not for the network's thousands. A MAC the cluster puts behind another host that is on a local
 * port here is left alone (logged): another host's claim to a MAC of this host is never applied.
 * Not saved: the cluster holds it. Conductor thread only.
 */
final class ClusterEntries {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterEntries.class);

    /**
     * A change: the network's peers now (null: unchanged), remote MAC -> its VTEP now (null:
     * gone), address -> MAC now (0: in use, not answered; null: gone) for {@link Attachments#updateRemote}.
     */
    record Update(List<Inet4Address> peers, Map<Long, Inet4Address> macs, Map<InetAddress, Long> neighbors) {
    }

    private List<Inet4Address> peers = List.of();
    private Map<Inet4Address, TunnelPort> ports = Map.of();
    /** Remote MAC -> its VTEP, as the cluster says. */
    private final Map<Long, Inet4Address> remote = new HashMap<>();
    /** VTEP -> the remote MACs behind it: installed when its tunnel port comes. */
    private final Map<Inet4Address, Set<Long>> byVtep = new HashMap<>();
    /** Remote MAC -> the tunnel port id its static entry points at. */
    private final Map<Long, Integer> installed = new HashMap<>();
    /** MACs of local ports the cluster put elsewhere: logged once each. */
    private final Set<Long> shadowed = new HashSet<>();

    List<Inet4Address> peers() {
        return peers;
    }

    /** Applies {@code u}; an entry the operator set ({@code operatorStatics}) wins over the cluster's. */
    void apply(String net, Overlays overlays, int vni, BridgeDomain domain, Set<Long> operatorStatics, Update u)
            throws InterruptedException {
        Set<Inet4Address> arrived = Set.of();
        if (u.peers() != null && !peers.equals(u.peers())) {
            Overlays.PeerChange c = overlays.setPeers(vni, u.peers());
            logPeers(net, u.peers());
            peers = List.copyOf(u.peers());
            Map<Inet4Address, TunnelPort> now = new HashMap<>();
            for (TunnelPort t : overlays.peers(vni)) {
                now.put(t.peer(), t);
            }
            ports = now;
            arrived = new HashSet<>();
            for (TunnelPort t : c.added()) {
                arrived.add(t.peer());
            }
        }
        MacTable table = domain.table();
        for (Map.Entry<Long, Inet4Address> e : u.macs().entrySet()) {
            long mac = e.getKey();
            Inet4Address before = remote.get(mac);
            if (before != null) {
                Set<Long> s = byVtep.get(before);
                if (s != null && s.remove(mac) && s.isEmpty()) {
                    byVtep.remove(before);
                }
            }
            if (e.getValue() == null) {
                remote.remove(mac);
                uninstall(table, mac, operatorStatics);
            } else {
                remote.put(mac, e.getValue());
                byVtep.computeIfAbsent(e.getValue(), k -> new HashSet<>()).add(mac);
                install(net, domain, mac, e.getValue(), operatorStatics);
            }
        }
        for (Inet4Address vtep : arrived) {
            for (long mac : byVtep.getOrDefault(vtep, Set.of())) {
                install(net, domain, mac, vtep, operatorStatics);
            }
        }
    }

    private void install(String net, BridgeDomain domain, long mac, Inet4Address vtep, Set<Long> operatorStatics) {
        TunnelPort t = ports.get(vtep);
        if (t == null || operatorStatics.contains(mac)) {
            return;
        }
        MacTable table = domain.table();
        long v = table.lookup(mac);
        if (v != 0 && !MacTable.isStatic(v) && domain.isCurrent(v)) {
            Port p = domain.port(MacTable.portId(v));
            if (p != null && !p.isTunnel()) {
                if (shadowed.add(mac)) {
                    LOG.warn("network {}: the cluster puts MAC {} behind {}, but it is on local port {} here: ignored",
                            net, MacAddress.toString(mac), vtep.getHostAddress(), p.name());
                }
                return;
            }
        }
        if (!MacTable.isStatic(v) || MacTable.portId(v) != t.id() || MacTable.generation(v) != t.generation()) {
            table.putStatic(mac, t.id(), t.generation());
        }
        installed.put(mac, t.id());
    }

    private void uninstall(MacTable table, long mac, Set<Long> operatorStatics) {
        shadowed.remove(mac);
        Integer port = installed.remove(mac);
        if (port != null && !operatorStatics.contains(mac)) {
            long v = table.lookup(mac);
            if (MacTable.isStatic(v) && MacTable.portId(v) == port) {
                table.remove(mac);
            }
        }
    }

    private void logPeers(String net, List<Inet4Address> wanted) {
        if (wanted.size() <= 8 && peers.size() <= 8) {
            LOG.info("network {}: peers from the cluster now {}", net, wanted.stream().map(InetAddress::getHostAddress).toList());
        } else {
            Set<Inet4Address> before = new HashSet<>(peers);
            long added = wanted.stream().filter(p -> !before.contains(p)).count();
            LOG.info("network {}: peers from the cluster now {} ({} added, {} removed)", net, wanted.size(), added,
                    peers.size() + added - wanted.size());
        }
    }
}
