package io.vswitch.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import io.vswitch.cluster.ClusterOptions;
import io.vswitch.cluster.ClusterView;
import io.vswitch.cluster.EtcdStore;
import io.vswitch.cluster.Keys;
import io.vswitch.control.Json;
import io.vswitch.control.NetworkSpec;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.MacAddress;
import io.vswitch.core.MacTable;
import io.vswitch.core.Port;
import io.vswitch.ipam.Cidr;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The daemon's side of a cluster ({@code cluster:} in the config): what etcd says becomes
 * networks, tunnel ports and static MAC entries here, and what this host has becomes keys there.
 *
 * <p>From the cluster, on every new view ({@link #apply}): a network the cluster has and this host
 * has not is added; one it had from the cluster and the cluster dropped is removed; each overlay
 * network's peers become the VTEPs of the hosts with ports in it (none of the others: they get no
 * floods), and each remote endpoint a static entry on its VTEP's tunnel port, so known unicast is
 * never flooded, with its address answered here (ARP suppression).
 *
 * <p>To the cluster, every {@link #SCAN_MS} ms ({@link #scan}): this host is a member of each
 * overlay network where it has ports, and every MAC on a local port of one (learned or static;
 * with the address an attachment gave it) is an endpoint. The store writes only what changed,
 * under this host's lease. Overlay networks of this host the cluster does not know (from the
 * config or the state file) are created in it.
 *
 * <p>Both run on one thread of their own, never on a loop.
 */
public final class ClusterSync implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterSync.class);
    static final long SCAN_MS = 250;

    private final Daemon daemon;
    private final EtcdStore store;
    private final String self;
    private final ScheduledExecutorService worker;
    private final AtomicReference<ClusterView> pending = new AtomicReference<>();
    /** Networks seen in the cluster: one that vanishes from it goes here too. */
    private final Set<String> seen = new HashSet<>();
    /** Problems logged once each (a network that cannot be added, a refused spec). */
    private final Set<String> logged = new HashSet<>();
    private final Map<String, InetAddress> addressCache = new HashMap<>();
    /** The revision of the last view applied: one lower means etcd was reset. */
    private long lastRevision;
    /** When each address claim was made (System.nanoTime): a fresh one is kept while its attach finishes. */
    private final Map<String, Long> claimedAt = new java.util.concurrent.ConcurrentHashMap<>();

    private ClusterSync(Daemon daemon, ClusterOptions options, String vtep, int port) throws EtcdStore.StoreException {
        this.daemon = daemon;
        this.self = options.host();
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("vswitch-cluster-sync")
                .daemon().unstarted(r));
        this.store = EtcdStore.start(options, vtep, port, this::offer);
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

    // ---- the API's calls (under the daemon's lock) -----------------------------------------

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
            return true;
        }
        if (c.existing() != null && same(json, c.existing())) {
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
        String holder = store.view().addresses(network).get(ip);
        if (holder != null && !holder.equals(self)) {
            return false;
        }
        String key = store.keys().address(network, ip);
        String value = "{\"host\":\"" + self + "\"}";
        claimedAt.put(key, System.nanoTime());
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

    /** Deletes a network from the cluster (every host removes it); refused while etcd is away. */
    void delete(String name) {
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

    private static boolean same(String a, String b) {
        try {
            return Json.LENIENT.readTree(a).equals(Json.LENIENT.readTree(b));
        } catch (Exception e) {
            return false;
        }
    }

    // ---- from the cluster -------------------------------------------------------------------

    /** Called on the store's thread: the newest view wins, applied on the worker. */
    private void offer(ClusterView view) {
        if (pending.getAndSet(view) == null) {
            try {
                worker.execute(this::applyPending);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // shutting down
            }
        }
    }

    private void applyPending() {
        ClusterView view = pending.getAndSet(null);
        if (view != null) {
            try {
                apply(view);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException | Error e) {
                LOG.error("cluster: applying revision {} failed", view.revision(), e);
            }
        }
    }

    private void apply(ClusterView view) throws InterruptedException {
        Map<String, NetworkSpec> local = daemon.overlaySpecs();
        if (view.revision() < lastRevision) {
            // etcd went back in time (reset, or restored from an older snapshot): what it lacks
            // was not deleted. Nothing is removed; this host's networks are created there again.
            LOG.warn("cluster: etcd's revision went back from {} to {} (reset or restored?); keeping this host's"
                    + " networks and creating them in the cluster again", lastRevision, view.revision());
            seen.clear();
        }
        lastRevision = view.revision();
        for (Map.Entry<String, String> e : view.networks().entrySet()) {
            String name = e.getKey();
            seen.add(name);
            if (local.containsKey(name)) {
                if (!same(json(local.get(name)), e.getValue()) && logged.add("differs " + name + e.getValue())) {
                    LOG.warn("cluster: network {} here differs from the cluster's ({}); keeping this host's settings",
                            name, e.getValue());
                }
                continue;
            }
            if (daemon.hasNetwork(name)) {
                if (logged.add("local " + name)) {
                    LOG.warn("cluster: the cluster has an overlay network {}, this host a local one of that name: not joined",
                            name);
                }
                continue;
            }
            try {
                NetworkSpec spec = Json.LENIENT.readValue(e.getValue(), NetworkSpec.class);
                if (!name.equals(spec.name()) || spec.vni() == null) {
                    throw new SpecException("name", "the key's network is " + name + ", its spec names " + spec.name()
                            + (spec.vni() == null ? " and has no vni" : ""));
                }
                daemon.addClusterNetwork(spec);
                LOG.info("cluster: network {} (vni {}) added from the cluster", name, spec.vni());
            } catch (Exception ex) {
                if (logged.add("add " + name + e.getValue())) {
                    LOG.warn("cluster: network {} of the cluster cannot be added here: {}", name, ex.getMessage());
                }
            }
        }
        for (String name : new ArrayList<>(seen)) {
            if (!view.networks().containsKey(name)) {
                seen.remove(name);
                if (local.containsKey(name)) {
                    daemon.removeClusterNetwork(name);
                    LOG.info("cluster: network {} removed (the cluster no longer has it)", name);
                }
            }
        }
        for (String name : daemon.overlaySpecs().keySet()) {
            List<Inet4Address> peers = new ArrayList<>();
            Map<String, Inet4Address> vteps = new HashMap<>();
            for (String host : view.members(name)) {
                ClusterView.Host h = view.hosts().get(host);
                if (h == null || host.equals(self)) {
                    continue;
                }
                Inet4Address a = vtep(h);
                if (a != null) {
                    vteps.put(host, a);
                    if (!peers.contains(a)) {
                        peers.add(a);
                    }
                }
            }
            peers.sort(java.util.Comparator.comparing(InetAddress::getHostAddress));
            Map<Long, Inet4Address> macs = new HashMap<>();
            Map<InetAddress, Long> neighbors = new HashMap<>();
            for (ClusterView.Endpoint ep : view.endpoints(name).values()) {
                Inet4Address a = vteps.get(ep.host());
                if (a == null) {
                    continue;
                }
                try {
                    long mac = ep.value();
                    macs.put(mac, a);
                    if (ep.ip() != null) {
                        neighbors.put(address(ep.ip()), mac);
                    }
                } catch (IllegalArgumentException bad) {
                    if (logged.add("endpoint " + name + ep)) {
                        LOG.warn("cluster: endpoint {} of network {} ignored: {}", ep.mac(), name, bad.getMessage());
                    }
                }
            }
            for (Map.Entry<String, String> a : view.addresses(name).entrySet()) {
                if (!a.getValue().equals(self)) {
                    try {
                        neighbors.putIfAbsent(InetAddress.ofLiteral(a.getKey()), 0L);
                    } catch (IllegalArgumentException bad) {
                        // not an address: ignored
                    }
                }
            }
            daemon.applyCluster(name, peers, macs, neighbors);
        }
    }

    /** An endpoint's address (CIDR or bare), parsed once per text. Worker thread only. */
    private InetAddress address(String text) {
        InetAddress a = addressCache.get(text);
        if (a == null) {
            int slash = text.indexOf('/');
            a = InetAddress.ofLiteral(slash < 0 ? text : text.substring(0, slash));
            if (addressCache.size() > 1_000_000) {
                addressCache.clear();
            }
            addressCache.put(text, a);
        }
        return a;
    }

    private Inet4Address vtep(ClusterView.Host h) {
        try {
            if (h.port() != daemon.config().vxlan().port()) {
                if (logged.add("port " + h.name() + h.port())) {
                    LOG.warn("cluster: host {} listens on VXLAN port {}, this host on {}: not a peer", h.name(), h.port(),
                            daemon.config().vxlan().port());
                }
                return null;
            }
            return (Inet4Address) InetAddress.ofLiteral(h.vtep());
        } catch (IllegalArgumentException | ClassCastException e) {
            if (logged.add("vtep " + h.name() + h.vtep())) {
                LOG.warn("cluster: host {} has VTEP \"{}\", not an IPv4 address: not a peer", h.name(), h.vtep());
            }
            return null;
        }
    }

    // ---- to the cluster ---------------------------------------------------------------------

    private void scanSafely() {
        try {
            scan();
        } catch (RuntimeException e) {
            LOG.warn("cluster: scanning this host's endpoints failed: {}", e.toString());
        }
    }

    /** Brings this host's keys (memberships, endpoints) and the cluster's networks up to date. */
    void scan() {
        Keys keys = store.keys();
        Map<String, NetworkSpec> local = daemon.overlaySpecs();
        ClusterView view = store.view();
        Set<String> wanted = new HashSet<>();
        for (Map.Entry<String, NetworkSpec> e : local.entrySet()) {
            String net = e.getKey();
            if (store.connected() && !view.networks().containsKey(net) && !seen.contains(net)) {
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
                            store.putOwn(key, "{\"host\":\"" + self + "\"}");
                        }
                    }
                }
            } catch (SpecException gone) {
                continue;
            }
            Set<Integer> localPorts = new HashSet<>();
            for (Port p : domain.ports()) {
                if (!p.isTunnel()) {
                    localPorts.add(p.id());
                }
            }
            if (localPorts.isEmpty()) {
                continue;
            }
            wanted.add(keys.member(net, self));
            store.putOwn(keys.member(net, self), "{}");
            Set<String> macs = new HashSet<>(addresses.keySet()); // attached: known before they send anything
            domain.table().forEach((mac, value) -> {
                if (localPorts.contains(MacTable.portId(value))) {
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
            if (!wanted.contains(key) && (at == null || now - at > TimeUnit.SECONDS.toNanos(5))) {
                store.removeOwn(key);
                claimedAt.remove(key);
            }
        }
    }

    /** Creates in the cluster a network this host had before the cluster knew it (config, state file). */
    private void publish(NetworkSpec spec) {
        try {
            EtcdStore.Created c = store.createNetwork(spec.name(), json(spec));
            seen.add(spec.name());
            if (c.created()) {
                LOG.info("cluster: network {} (vni {}) of this host created for the cluster", spec.name(), spec.vni());
            } else if (c.existing() != null && !same(json(spec), c.existing()) && logged.add("differs " + spec.name() + c.existing())) {
                LOG.warn("cluster: network {} here differs from the cluster's ({}); keeping this host's settings",
                        spec.name(), c.existing());
            }
        } catch (EtcdStore.StoreException e) {
            LOG.debug("cluster: cannot publish network {} yet: {}", spec.name(), e.getMessage());
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
