package io.vswitch.daemon;

import io.vswitch.core.MacTable;
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
 * (tunnel ports) and a static MAC entry on a peer's tunnel port for each remote endpoint. Not
 * saved: the cluster holds it. Used under the registry's lock.
 */
final class ClusterEntries {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterEntries.class);

    private List<Inet4Address> peers = List.of();
    /** Remote MAC -> the tunnel port id its static entry points at. */
    private final Map<Long, Integer> macs = new HashMap<>();

    List<Inet4Address> peers() {
        return peers;
    }

    /**
     * Makes {@code wanted} the network's peers and {@code remote} (MAC -> VTEP) its remote static
     * entries; an entry the operator set ({@code operatorStatics}) wins over the cluster's.
     */
    void apply(String net, Overlays overlays, int vni, MacTable table, Set<Long> operatorStatics,
            List<Inet4Address> wanted, Map<Long, Inet4Address> remote) throws InterruptedException {
        if (!peers.equals(wanted)) {
            overlays.setPeers(vni, wanted);
            if (wanted.size() <= 8 && peers.size() <= 8) {
                LOG.info("network {}: peers from the cluster now {}", net, wanted.stream().map(InetAddress::getHostAddress).toList());
            } else {
                Set<Inet4Address> before = new HashSet<>(peers);
                long added = wanted.stream().filter(p -> !before.contains(p)).count();
                LOG.info("network {}: peers from the cluster now {} ({} added, {} removed)", net, wanted.size(), added,
                        peers.size() + added - wanted.size());
            }
            peers = List.copyOf(wanted);
        }
        Map<Inet4Address, TunnelPort> byPeer = new HashMap<>();
        for (TunnelPort t : overlays.peers(vni)) {
            byPeer.put(t.peer(), t);
        }
        Map<Long, Integer> now = new HashMap<>();
        remote.forEach((mac, vtep) -> {
            TunnelPort t = byPeer.get(vtep);
            if (t == null || operatorStatics.contains(mac)) {
                return;
            }
            long v = table.lookup(mac);
            if (!MacTable.isStatic(v) || MacTable.portId(v) != t.id() || MacTable.generation(v) != t.generation()) {
                table.putStatic(mac, t.id(), t.generation());
            }
            now.put(mac, t.id());
        });
        macs.forEach((mac, port) -> {
            if (!now.containsKey(mac) && !operatorStatics.contains(mac)) {
                long v = table.lookup(mac);
                if (MacTable.isStatic(v) && MacTable.portId(v) == port) {
                    table.remove(mac);
                }
            }
        });
        macs.clear();
        macs.putAll(now);
    }
}
