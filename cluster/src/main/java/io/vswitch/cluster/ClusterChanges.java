package io.vswitch.cluster;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * What changed in what the cluster gives this host since the daemon last took it
 * ({@link EtcdStore#takeChanges}): only what changed, each key's latest word, so applying it
 * costs work in proportion to the change and a burst of writes to one key is one change.
 * A null value is a removal.
 */
public final class ClusterChanges {
    /** A MAC of another host, applied: its VTEP, its host and its address (null: none). */
    public record Remote(Inet4Address vtep, String host, InetAddress ip) {
    }

    /** Network name -> its spec as JSON, or null: the cluster no longer has it. */
    public final Map<String, String> networks = new LinkedHashMap<>();
    /** Networks whose peers (hosts with ports in them, other than this one) changed. */
    public final Set<String> peers = new LinkedHashSet<>();
    /** Network -> MAC -> where it is now, or null: gone. */
    public final Map<String, Map<Long, Remote>> remote = new HashMap<>();
    /** Network -> address -> the other host holding it now, or null: released. */
    public final Map<String, Map<InetAddress, String>> held = new HashMap<>();
    /** The revision these changes bring the state to. */
    public long revision;
    /** etcd's revision went back (reset or restored from a snapshot): what it lacks was not deleted. */
    public boolean wentBack;

    public boolean isEmpty() {
        return networks.isEmpty() && peers.isEmpty() && remote.isEmpty() && held.isEmpty() && !wentBack;
    }

    /** Every network these changes touch (peers, MACs or addresses). */
    public Set<String> touched() {
        Set<String> out = new LinkedHashSet<>(peers);
        out.addAll(remote.keySet());
        out.addAll(held.keySet());
        return out;
    }

    void network(String name, String spec) {
        networks.put(name, spec);
    }

    void remote(String net, long mac, Remote r) {
        remote.computeIfAbsent(net, k -> new HashMap<>()).put(mac, r);
    }

    void held(String net, InetAddress ip, String host) {
        held.computeIfAbsent(net, k -> new HashMap<>()).put(ip, host);
    }
}
