package io.vswitch.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import io.vswitch.cluster.ClusterChanges;
import io.vswitch.cluster.ClusterOptions;
import io.vswitch.cluster.EtcdStore;
import io.vswitch.control.Json;
import io.vswitch.control.NetworkSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The daemon's side of a cluster ({@code cluster:} in the config): what etcd says becomes
 * networks, tunnel ports and static MAC entries here ({@link ClusterApply}), and what this host
 * has becomes keys there ({@link ClusterScan}, every {@link #SCAN_MS} ms). Both run on one
 * thread of their own, never on a loop; the store ({@link EtcdStore}) validates every value it
 * reads and hands over only what changed.
 *
 * <p>The API's calls (run on the daemon's conductor) create, claim in and delete from the cluster.
 */
public final class ClusterSync implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterSync.class);
    static final long SCAN_MS = 250;

    private final Daemon daemon;
    private final EtcdStore store;
    private final String self;
    private final ScheduledExecutorService worker;
    private final AtomicBoolean pending = new AtomicBoolean();
    private final ClusterApply apply;
    private final ClusterScan scan;

    private ClusterSync(Daemon daemon, ClusterOptions options, String vtep, int port) throws EtcdStore.StoreException {
        this.daemon = daemon;
        this.self = options.host();
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("vswitch-cluster-sync")
                .daemon().unstarted(r));
        this.store = EtcdStore.start(options, vtep, port, this::offer);
        this.apply = new ClusterApply(daemon, store);
        this.scan = new ClusterScan(daemon, store, apply, self);
        worker.scheduleWithFixedDelay(this::scanSafely, SCAN_MS, SCAN_MS, TimeUnit.MILLISECONDS);
    }

    /** Joins the cluster: this host's VTEP is {@code vtep}:{@code port}. */
    public static ClusterSync start(Daemon daemon, ClusterOptions options, Inet4Address vtep, int port)
            throws EtcdStore.StoreException {
        ClusterSync sync = new ClusterSync(daemon, options, vtep.getHostAddress(), port);
        daemon.cluster(sync);
        return sync;
    }

    public EtcdStore store() {
        return store;
    }

    public String self() {
        return self;
    }

    // ---- the API's calls (on the daemon's conductor) -----------------------------------------

    /**
     * Creates {@code spec}'s network in the cluster; returns whether it was made now (false: the
     * cluster had it with the same settings). Refused when the cluster has it otherwise.
     */
    boolean create(NetworkSpec spec) {
        String json = json(spec);
        EtcdStore.Created c;
        try {
            c = store.createNetwork(spec.name(), json);
        } catch (EtcdStore.StoreException e) {
            throw new Daemon.UnavailableException("network " + spec.name() + " is an overlay network of the cluster and "
                    + e.getMessage() + "; nothing was changed", e);
        }
        if (c.created()) {
            LOG.info("cluster: network {} created for the cluster (vni {})", spec.name(), spec.vni());
            added(spec.name());
            return true;
        }
        if (c.existing() != null && same(json, c.existing())) {
            added(spec.name());
            return false;
        }
        throw SpecException.conflict("name", "the cluster already has a network " + spec.name() + " with other settings: "
                + c.existing() + " (another host created it first)");
    }

    /**
     * Claims an address of a network's subnet for this host (compare-create of
     * {@code addresses/NET/IP} under the lease), so two hosts attaching at once never hand out
     * the same one. While etcd is away the last view decides, and the claim is written when it
     * returns ({@link #scan}).
     */
    boolean claim(String network, InetAddress address) {
        String ip = address.getHostAddress();
        String holder = store.holder(network, address);
        if (holder != null && !holder.equals(self)) {
            return false;
        }
        String key = store.keys().address(network, ip);
        String value = "{\"host\":\"" + self + "\"}";
        scan.claimedAt.put(key, System.nanoTime());
        if (!store.connected()) {
            return true;
        }
        try {
            String existing = store.claim(key, value);
            if (existing == null) {
                return true;
            }
            JsonNode n = Json.LENIENT.readTree(existing);
            if (self.equals(n.path("host").asText())) {
                store.putOwn(key, value);
                return true;
            }
            return false;
        } catch (EtcdStore.StoreException e) {
            LOG.debug("cluster: claim of {} in {} not written yet: {}", ip, network, e.getMessage());
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** Undoes a {@link #create} whose local half failed (best effort). */
    void forget(String name) {
        try {
            store.deleteNetwork(name);
        } catch (EtcdStore.StoreException e) {
            LOG.warn("cluster: network {} could not be deleted from the cluster again: {}", name, e.getMessage());
        }
    }

    /**
     * Deletes a network from the cluster (every host removes it); refused while etcd is away, and
     * while other hosts have ports in it (they would create it again: their containers use it).
     */
    void delete(String name) {
        List<String> users = store.peerHosts(name);
        if (!users.isEmpty()) {
            throw SpecException.conflict("name", "network " + name + " is in use on " + users.size() + " other host"
                    + (users.size() == 1 ? "" : "s") + " of the cluster (" + String.join(", ", users.subList(0,
                    Math.min(5, users.size()))) + (users.size() > 5 ? ", ..." : "") + "): detach their containers first;"
                    + " nothing was changed");
        }
        try {
            store.deleteNetwork(name);
        } catch (EtcdStore.StoreException e) {
            throw new Daemon.UnavailableException("network " + name + " belongs to the cluster and " + e.getMessage()
                    + "; nothing was changed", e);
        }
    }

    /** The settings a network has for the whole cluster: no ports, peers, statics or endpoints of one host. */
    static String json(NetworkSpec s) {
        NetworkSpec shared = new NetworkSpec(s.name(), s.mtu(), s.macAgingSeconds(), s.macLimit(), s.vni(), null, null,
                s.offload(), null, null, s.subnet(), s.gateway(), s.subnet6(), s.gateway6(), s.gatewayPort(),
                s.masquerade(), s.icc(), null, s.dns());
        try {
            JsonNode tree = Json.LENIENT.valueToTree(shared);
            ((com.fasterxml.jackson.databind.node.ObjectNode) tree).remove(List.of("peers", "ports", "statics", "endpoints"));
            return Json.LENIENT.writeValueAsString(tree);
        } catch (Exception e) {
            throw new IllegalStateException("cannot write network " + s.name() + " as JSON", e);
        }
    }

    static boolean same(String a, String b) {
        try {
            return Json.LENIENT.readTree(a).equals(Json.LENIENT.readTree(b));
        } catch (Exception e) {
            return false;
        }
    }

    /** The session's meters: connected, hosts and endpoints known, writes, write-backs, refusals by reason. */
    public void meters(io.vswitch.metrics.SwitchMetrics meters) {
        meters.gauge("vswitch.cluster.connected", "1 while the session with etcd holds a lease and a watch",
                () -> store.connected() ? 1 : 0);
        meters.gauge("vswitch.cluster.hosts", "hosts of the cluster known (the last known while etcd is away)",
                store::hostCount);
        meters.gauge("vswitch.cluster.endpoints", "endpoints of the cluster known, all networks", store::endpointCount);
        meters.counter("vswitch.cluster.writes", "puts and deletes of this host's keys", store::writes);
        meters.counter("vswitch.cluster.rewrites", "this host's keys written back after another writer changed or"
                + " deleted them, and keys naming this host that it did not write deleted", store::rewrites);
        meters.gauge("vswitch.cluster.refused.keys", "keys whose latest value was refused", () -> store.refusals().refusedKeys());
        for (io.vswitch.cluster.Refusal r : io.vswitch.cluster.Refusal.values()) {
            meters.counter("vswitch.cluster.refused", "values read from etcd and refused, never applied, by reason",
                    "reason", r.label(), () -> store.refusals().count(r));
        }
    }

    // ---- the worker ---------------------------------------------------------------------------

    /** Called on the store's thread when there are changes: taken and applied on the worker, a burst as one. */
    private void offer() {
        if (pending.compareAndSet(false, true)) {
            try {
                worker.execute(this::applyPending);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // shutting down
            }
        }
    }

    private void applyPending() {
        pending.set(false);
        ClusterChanges c = store.takeChanges();
        if (c.isEmpty()) {
            return;
        }
        try {
            apply.apply(c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            LOG.error("cluster: applying revision {} failed", c.revision, e);
        }
    }

    /** A network this host added through its API: given what the cluster has for it (on the worker). */
    void added(String name) {
        try {
            worker.execute(() -> {
                try {
                    apply.resync(name);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // shutting down
        }
    }

    private void scanSafely() {
        try {
            scan.scan();
        } catch (RuntimeException e) {
            LOG.warn("cluster: scanning this host's endpoints failed: {}", e.toString());
        }
    }

    /**
     * Leaves the cluster: with {@code revoke} (a clean stop) this host's keys go at once, so the
     * others drop it now rather than after the TTL.
     */
    public void close(boolean revoke) {
        worker.shutdownNow();
        store.close(revoke);
    }

    @Override
    public void close() {
        close(true);
    }
}
