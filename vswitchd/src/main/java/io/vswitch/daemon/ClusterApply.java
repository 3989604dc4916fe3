package io.vswitch.daemon;

import io.vswitch.cluster.ClusterChanges;
import io.vswitch.cluster.EtcdStore;
import io.vswitch.control.Json;
import io.vswitch.control.NetworkSpec;
import io.vswitch.core.Port;
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
 * From the cluster to this daemon, one {@link ClusterChanges} at a time (on the cluster
 * worker's thread): only what changed, so a change costs work in proportion to itself.
 * <ul>
 *   <li>A network the cluster has and this host has not is added, then given all the cluster
 *       has for it ({@link EtcdStore#snapshot}).</li>
 *   <li>A network the cluster dropped is removed here only when this host has no use for it:
 *       one its config defines, or with local ports or endpoints (containers use it), is created
 *       in the cluster again instead, so no write to etcd tears a network down under its
 *       containers (and the state file keeps it). After etcd went back in time nothing is
 *       removed: what it lacks was not deleted.</li>
 *   <li>Each overlay network's peers, remote MACs and the addresses other hosts hold go to the
 *       daemon as an {@link ClusterEntries.Update}; the addresses are folded per network
 *       ({@link Neighbors}): an address is answered with the MAC of the endpoint that has it, or
 *       held unanswered (0) while another host only claims it.</li>
 * </ul>
 */
final class ClusterApply {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterApply.class);

    /** A network's remote addresses: which endpoint has each, which are only claimed. */
    private static final class Neighbors {
        final Map<Long, InetAddress> ipOf = new HashMap<>();
        final Map<InetAddress, Long> macAt = new HashMap<>();
        final Set<InetAddress> held = new HashSet<>();

        /** What {@code ip} is now, for {@link Attachments#updateRemote}: a MAC, 0 (held), or null. */
        Long now(InetAddress ip) {
            Long mac = macAt.get(ip);
            return mac != null ? mac : held.contains(ip) ? Long.valueOf(0) : null;
        }
    }

    private final Daemon daemon;
    private final EtcdStore store;
    /** Networks seen in the cluster: the scan creates in the cluster only those it never had. */
    private final Set<String> seen = new HashSet<>();
    /** Problems logged once each (a network that cannot be added, a refused spec). */
    private final Set<String> logged = new HashSet<>();
    private final Map<String, Neighbors> neighbors = new HashMap<>();

    ClusterApply(Daemon daemon, EtcdStore store) {
        this.daemon = daemon;
        this.store = store;
    }

    boolean seen(String net) {
        return seen.contains(net);
    }

    void apply(ClusterChanges c) throws InterruptedException {
        if (c.wentBack) {
            // etcd went back in time (reset, or restored from an older snapshot): what it lacks
            // was not deleted. Nothing is removed; this host's networks are created there again.
            LOG.warn("cluster: etcd's revision went back (reset or restored?) to {}; keeping this host's networks and"
                    + " creating them in the cluster again", c.revision);
            seen.clear();
        }
        Map<String, NetworkSpec> local = daemon.overlaySpecs();
        for (Map.Entry<String, String> e : c.networks.entrySet()) {
            if (e.getValue() != null) {
                added(e.getKey(), e.getValue(), local);
            } else if (!c.wentBack) {
                dropped(e.getKey(), local);
            }
        }
        for (String net : c.touched()) {
            if (daemon.overlaySpecs().containsKey(net)) {
                daemon.applyCluster(net, update(net, c));
            }
        }
    }

    /** Gives a network just added here everything the cluster has for it. */
    void resync(String net) throws InterruptedException {
        neighbors.remove(net);
        daemon.applyCluster(net, update(net, store.snapshot(net)));
    }

    private void added(String name, String specJson, Map<String, NetworkSpec> local) throws InterruptedException {
        seen.add(name);
        if (local.containsKey(name)) {
            if (!ClusterSync.same(ClusterSync.json(local.get(name)), specJson) && logged.add("differs " + name + specJson)) {
                LOG.warn("cluster: network {} here differs from the cluster's ({}); keeping this host's settings", name,
                        specJson);
            }
            return;
        }
        if (daemon.hasNetwork(name)) {
            if (logged.add("local " + name)) {
                LOG.warn("cluster: the cluster has an overlay network {}, this host a local one of that name: not joined", name);
            }
            return;
        }
        try {
            NetworkSpec spec = Json.LENIENT.readValue(specJson, NetworkSpec.class);
            if (!name.equals(spec.name()) || spec.vni() == null) {
                throw new SpecException("name", "the key's network is " + name + ", its spec names " + spec.name()
                        + (spec.vni() == null ? " and has no vni" : ""));
            }
            daemon.addClusterNetwork(spec);
            LOG.info("cluster: network {} (vni {}) added from the cluster", name, spec.vni());
        } catch (Exception ex) {
            if (logged.add("add " + name + specJson)) {
                LOG.warn("cluster: network {} of the cluster cannot be added here: {}", name, ex.getMessage());
            }
            return;
        }
        resync(name);
    }

    private void dropped(String name, Map<String, NetworkSpec> local) {
        if (!local.containsKey(name)) {
            seen.remove(name);
            return;
        }
        String use = use(name);
        if (use != null) {
            LOG.warn("cluster: network {} was deleted from the cluster while this host {}: creating it again", name, use);
            try {
                EtcdStore.Created c = store.createNetwork(name, ClusterSync.json(local.get(name)));
                LOG.info("cluster: network {} {} in the cluster", name, c.created() ? "created again" : "is back");
            } catch (EtcdStore.StoreException e) {
                seen.remove(name); // the scan creates it when etcd answers
                LOG.debug("cluster: cannot create network {} again yet: {}", name, e.getMessage());
            }
            return;
        }
        seen.remove(name);
        neighbors.remove(name);
        daemon.removeClusterNetwork(name);
        LOG.info("cluster: network {} removed (the cluster no longer has it)", name);
    }

    /** Why this host needs network {@code name} (its config defines it, containers use it), or null. */
    private String use(String name) {
        for (NetworkRules.Network n : daemon.config().networks()) {
            if (n.name().equals(name)) {
                return "defines it in its config";
            }
        }
        if (!daemon.endpoints(name).isEmpty()) {
            return "has containers attached to it";
        }
        try {
            for (Port p : daemon.network(name).domain().ports()) {
                if (!p.isTunnel()) {
                    return "has ports in it";
                }
            }
        } catch (SpecException gone) {
            return null;
        }
        return null;
    }

    private ClusterEntries.Update update(String net, ClusterChanges c) {
        List<Inet4Address> peers = c.peers.contains(net) ? store.peers(net) : null;
        Map<Long, Inet4Address> macs = new HashMap<>();
        Neighbors n = neighbors.computeIfAbsent(net, k -> new Neighbors());
        Set<InetAddress> touched = new HashSet<>();
        c.remote.getOrDefault(net, Map.of()).forEach((mac, r) -> {
            macs.put(mac, r == null ? null : r.vtep());
            InetAddress before = n.ipOf.remove(mac);
            if (before != null) {
                n.macAt.remove(before, mac);
                touched.add(before);
            }
            if (r != null && r.ip() != null) {
                n.ipOf.put(mac, r.ip());
                n.macAt.put(r.ip(), mac);
                touched.add(r.ip());
            }
        });
        c.held.getOrDefault(net, Map.of()).forEach((ip, host) -> {
            if (host == null) {
                n.held.remove(ip);
            } else {
                n.held.add(ip);
            }
            touched.add(ip);
        });
        Map<InetAddress, Long> answers = new HashMap<>();
        for (InetAddress ip : touched) {
            answers.put(ip, n.now(ip));
        }
        if (n.ipOf.isEmpty() && n.held.isEmpty()) {
            neighbors.remove(net);
        }
        return new ClusterEntries.Update(peers, macs, answers);
    }
}
