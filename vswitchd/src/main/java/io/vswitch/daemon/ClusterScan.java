package io.vswitch.daemon;

import io.vswitch.cluster.EtcdStore;
import io.vswitch.cluster.Keys;
import io.vswitch.control.NetworkSpec;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.MacAddress;
import io.vswitch.core.MacTable;
import io.vswitch.core.Port;
import io.vswitch.ipam.Cidr;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * From this daemon to the cluster, every {@link ClusterSync#SCAN_MS} ms (on the cluster
 * worker's thread): this host is a member of each overlay network where it has ports, every MAC
 * on a local port of one (learned or static; with the address an attachment gave it) is an
 * endpoint, and every address an attachment holds is claimed. The store writes only what
 * changed, under this host's lease, and writes back what someone else overwrites or deletes.
 * Overlay networks of this host the cluster never had (from the config or the state file) are
 * created in it. Once a lease's time has passed since start the store knows all of this host's
 * keys ({@link EtcdStore#ownKeysComplete}): a key naming this host that it did not write is forged.
 */
final class ClusterScan {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterScan.class);
    /** A claim stays this long after its endpoint went (an attach in progress claims before it attaches). */
    private static final long CLAIM_GRACE_NS = TimeUnit.SECONDS.toNanos(5);

    private final Daemon daemon;
    private final EtcdStore store;
    private final ClusterApply apply;
    private final String self;
    private final Set<String> logged = new HashSet<>();
    /** When each address claim was made (System.nanoTime): a fresh one is kept while its attach finishes. */
    final Map<String, Long> claimedAt = new ConcurrentHashMap<>();
    private final long startedNs = System.nanoTime();
    private boolean complete;

    ClusterScan(Daemon daemon, EtcdStore store, ClusterApply apply, String self) {
        this.daemon = daemon;
        this.store = store;
        this.apply = apply;
        this.self = self;
    }

    /** Brings this host's keys (memberships, endpoints, claims) and the cluster's networks up to date. */
    void scan() {
        Keys keys = store.keys();
        Map<String, NetworkSpec> local = daemon.overlaySpecs();
        Set<String> wanted = new HashSet<>();
        String claim = "{\"host\":\"" + self + "\"}";
        for (Map.Entry<String, NetworkSpec> e : local.entrySet()) {
            String net = e.getKey();
            if (store.connected() && !store.hasNetwork(net) && !apply.seen(net)) {
                publish(e.getValue());
            }
            BridgeDomain domain;
            Map<String, String> addresses = new HashMap<>();
            try {
                domain = daemon.network(net).domain();
                for (Attachments.Endpoint ep : daemon.endpoints(net)) {
                    if (ep.spec().mac() != null && ep.spec().ipv4() != null) {
                        addresses.put(MacAddress.toString(MacAddress.parse(ep.spec().mac())), ep.spec().ipv4());
                    }
                    for (String cidr : new String[] {ep.spec().ipv4(), ep.spec().ipv6()}) {
                        if (cidr != null) {
                            String key = keys.address(net, Cidr.parseAddress(cidr).address().getHostAddress());
                            wanted.add(key);
                            store.putOwn(key, claim);
                        }
                    }
                }
            } catch (SpecException gone) {
                continue;
            }
            java.util.BitSet localPorts = new java.util.BitSet();
            for (Port p : domain.ports()) {
                if (!p.isTunnel()) {
                    localPorts.set(p.id());
                }
            }
            if (localPorts.isEmpty()) {
                continue;
            }
            wanted.add(keys.member(net, self));
            store.putOwn(keys.member(net, self), "{}");
            Set<String> macs = new HashSet<>(addresses.keySet()); // attached: known before they send anything
            domain.table().forEach((mac, value) -> { // the cluster's remote entries too: a bit test each, no boxing
                if (localPorts.get(MacTable.portId(value))) {
                    macs.add(MacAddress.toString(mac));
                }
            });
            for (String m : macs) {
                String key = keys.endpoint(net, m);
                wanted.add(key);
                String ip = addresses.get(m);
                store.putOwn(key, "{\"host\":\"" + self + "\"" + (ip == null ? "" : ",\"ip\":\"" + ip + "\"") + "}");
            }
        }
        for (String key : store.ownKeys(keys.root() + Keys.MEMBERS)) {
            if (!wanted.contains(key)) {
                store.removeOwn(key);
            }
        }
        for (String key : store.ownKeys(keys.root() + Keys.ENDPOINTS)) {
            if (!wanted.contains(key)) {
                store.removeOwn(key);
            }
        }
        long now = System.nanoTime();
        for (String key : store.ownKeys(keys.root() + Keys.ADDRESSES)) {
            Long at = claimedAt.get(key);
            if (!wanted.contains(key) && (at == null || now - at > CLAIM_GRACE_NS)) {
                store.removeOwn(key);
                claimedAt.remove(key);
            }
        }
        // Keys of this host's previous run (a restart) live out their lease; MACs it learned then
        // are learned again when their containers send. So the keys naming this host that it did
        // not write are forged only once that lease is surely over.
        if (!complete && now - startedNs >= store.options().ttl().toNanos()) {
            complete = true;
            store.ownKeysComplete();
        }
    }

    /** Creates in the cluster a network this host had before the cluster knew it (config, state file). */
    private void publish(NetworkSpec spec) {
        try {
            EtcdStore.Created c = store.createNetwork(spec.name(), ClusterSync.json(spec));
            if (c.created()) {
                LOG.info("cluster: network {} (vni {}) of this host created for the cluster", spec.name(), spec.vni());
            } else if (c.existing() != null && !ClusterSync.same(ClusterSync.json(spec), c.existing())
                    && logged.add("differs " + spec.name() + c.existing())) {
                LOG.warn("cluster: network {} here differs from the cluster's ({}); keeping this host's settings",
                        spec.name(), c.existing());
            }
        } catch (EtcdStore.StoreException e) {
            LOG.debug("cluster: cannot publish network {} yet: {}", spec.name(), e.getMessage());
        }
    }
}
