package io.vswitch.daemon;

import io.vswitch.capture.Captures;
import io.vswitch.control.Deadline;
import io.vswitch.control.MirrorSpec;
import io.vswitch.control.NetworkSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.control.Requests;
import io.vswitch.control.StaticEntry;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.Port;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.resolver.UpstreamResolver;
import io.vswitch.vxlan.TunnelPort;
import io.vswitch.vxlan.VxlanEndpoint;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A running switch as its callers see it: the control API, the Docker driver, the CNI verbs and
 * the cluster sync call these methods from their own threads. Every change is a command run on
 * the {@link Conductor}, the one thread that owns the registry, by the job it belongs to:
 * networks and ports ({@link NetworkRegistry}), static entries ({@link StaticEntries}), mirrors
 * ({@link Mirrors}), peers ({@link Peers}), endpoints ({@link Endpoints}), each saved with
 * {@link Persistence}. A change takes a {@link Deadline} that started with the call; one that
 * does not get its turn in time is not made.
 *
 * <p>Reads ({@link #networks}, {@link #endpoints}, the metrics' {@link #domains}) never queue
 * behind a change: the conductor publishes an immutable view of the networks after each
 * command, and readers take the newest. Counters and MAC tables in it are the live lock-free
 * structures of the data plane. Built and closed by {@link Startup}.
 */
public final class Daemon implements AutoCloseable {
    /** The budget of a change that comes without a caller's deadline (the cluster's). */
    static final Duration DEFAULT_BUDGET = Duration.ofSeconds(30);

    /** A device or kernel refused what the configuration asks for. */
    public static final class StartException extends Exception {
        StartException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Something the change needs is out of reach (etcd, for a cluster's network): nothing was changed. */
    public static final class UnavailableException extends RuntimeException {
        UnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A change could not be written to the state file, so it was not made (or was undone). */
    public static final class PersistException extends RuntimeException {
        PersistException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final DaemonConfig config;
    private final Dataplane dataplane;
    private final PortFactory ports;
    private final VxlanEndpoint vxlan;
    private final UpstreamResolver resolver;
    private final Captures captures;
    private final Conductor conductor;
    private final SlowChanges slow;
    private final Attachments attachments;
    private final NetworkRegistry registry;
    private final StaticEntries statics;
    private final Mirrors mirrors;
    private final Peers peers;
    private final Endpoints endpoints;
    private final long startedMillis = System.currentTimeMillis();
    private volatile Map<String, NetworkState> view = Map.of();
    private volatile ClusterSync cluster;

    Daemon(DaemonConfig config, Conductor conductor, Dataplane dataplane, PortFactory ports, VxlanEndpoint vxlan,
            UpstreamResolver resolver, Attachments attachments, StateFile state) {
        this.config = config;
        this.conductor = conductor;
        this.dataplane = dataplane;
        this.ports = ports;
        this.vxlan = vxlan;
        this.resolver = resolver;
        this.attachments = attachments;
        this.captures = new Captures();
        this.slow = new SlowChanges(conductor);
        this.registry = new NetworkRegistry(conductor, config.host(), dataplane, ports, vxlan, attachments, captures, state);
        this.statics = new StaticEntries(registry);
        this.mirrors = new Mirrors(registry);
        this.peers = new Peers(registry, vxlan, attachments);
        this.endpoints = new Endpoints(registry, attachments, ports, slow);
        conductor.afterEach(this::publish);
    }

    /** Starts the switch with the ports {@code factory} makes (tests: in-memory ports); see {@link Startup#open}. */
    public static Daemon start(DaemonConfig config, StateFile state, java.util.function.Function<Dataplane, PortFactory> factory)
            throws StartException {
        return Startup.open(config, state, factory);
    }

    /** A network the start-up could not restore: the message names it (and the state file). */
    private static final class RestoreFailure extends RuntimeException {
        RestoreFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Restores the networks at start-up, on the conductor, and saves the state once. */
    void restore(List<NetworkSpec> specs, StateFile state) throws StartException {
        try {
            conductor.call("start-up", Deadline.in(Duration.ofDays(1)), () -> {
                for (NetworkSpec spec : specs) {
                    try {
                        registry.restore(NetworkRules.check(spec, config.host()));
                    } catch (SpecException e) {
                        throw new RestoreFailure("network " + spec.name() + ": " + e.field() + ": " + e.getMessage()
                                + (state != null && state.exists() ? " (in state file " + state.path() + ")" : ""), e);
                    } catch (PortFactory.OpenException e) {
                        throw new RestoreFailure("network " + spec.name() + ": " + e.getMessage(), e);
                    }
                }
                registry.persistence().save(() -> { });
                return null;
            });
        } catch (RestoreFailure e) {
            throw new StartException(e.getMessage(), e.getCause());
        } catch (PortFactory.OpenException e) {
            throw new StartException(e.getMessage(), e);
        }
    }

    public DaemonConfig config() {
        return config;
    }

    public Dataplane dataplane() {
        return dataplane;
    }

    /** The VXLAN endpoint, or null when the config has no {@code vxlan:} section. */
    public VxlanEndpoint vxlan() {
        return vxlan;
    }

    public long startedMillis() {
        return startedMillis;
    }

    /** The daemon's captures. */
    public Captures captures() {
        return captures;
    }

    /** The cluster session, or null without a {@code cluster:} section. */
    public ClusterSync cluster() {
        return cluster;
    }

    void cluster(ClusterSync sync) {
        this.cluster = sync;
        run("cluster join", DEFAULT_BUDGET, () -> {
            registry.cluster(sync);
            attachments.claims(sync::claim);
            return null;
        });
    }

    // ---- reading: the view the conductor published last --------------------------------------

    /** Publishes the view readers see; on the conductor, after each command. */
    private void publish() {
        Map<String, NetworkState> next = new LinkedHashMap<>();
        for (Network n : registry.all()) {
            next.put(n.name(), state(n));
        }
        view = Collections.unmodifiableMap(next);
    }

    private NetworkState state(Network n) {
        List<String> peerList = n.vni() == null ? null : n.peersInForce().stream().map(InetAddress::getHostAddress).toList();
        return new NetworkState(n.domain, n.vni(), peerList, n.checked, n.mirrors, attachments.endpoints(n.name()),
                attachments.hasGatewayPort(n.name()));
    }

    public List<NetworkState> networks() {
        return List.copyOf(view.values());
    }

    /** The network of that name; throws 404-kind when there is none. */
    public NetworkState network(String name) {
        NetworkState s = view.get(name);
        if (s == null) {
            throw SpecException.notFound("network", "no network named \"" + name + "\"");
        }
        return s;
    }

    public boolean hasNetwork(String net) {
        return view.containsKey(net);
    }

    /** The domains, for the metrics. */
    public Map<String, BridgeDomain> domains() {
        Map<String, BridgeDomain> copy = new LinkedHashMap<>();
        view.forEach((name, s) -> copy.put(name, s.domain()));
        return copy;
    }

    public List<Attachments.Endpoint> endpoints(String net) {
        return network(net).endpoints();
    }

    public List<Attachments.Endpoint> endpoints() {
        List<Attachments.Endpoint> all = new ArrayList<>();
        view.values().forEach(s -> all.addAll(s.endpoints()));
        return all;
    }

    public boolean hasGatewayPort(String net) {
        return network(net).gatewayPort();
    }

    /** A network's mirrors as they are now. */
    public List<MirrorSpec> mirrors(String net) {
        return network(net).mirrors();
    }

    /** The overlay networks of this host: name -> spec as asked (for the cluster). */
    Map<String, NetworkSpec> overlaySpecs() {
        Map<String, NetworkSpec> out = new LinkedHashMap<>();
        view.forEach((name, s) -> {
            if (s.vni() != null) {
                out.put(name, s.checked().spec());
            }
        });
        return out;
    }

    /** The tunnel ports of an overlay network. */
    public List<TunnelPort> tunnels(String network) {
        NetworkState s = view.get(network);
        return s == null || vxlan == null || s.vni() == null ? List.of() : vxlan.overlays().peers(s.vni());
    }

    /** Brings the ports' link states and device drops up to date (at most a second), for an operator's view. */
    public void refreshLinks() {
        ports.refresh();
    }

    // ---- changes: commands on the conductor ---------------------------------------------------

    private <T> T run(String what, Duration budget, Conductor.Work<T> work) {
        try {
            return conductor.call(what, Deadline.in(budget), work);
        } catch (PortFactory.OpenException e) {
            throw new IllegalStateException(what + ": " + e.getMessage(), e);
        }
    }

    public NetworkState addNetwork(NetworkSpec spec, Deadline deadline) throws PortFactory.OpenException {
        return conductor.call("network add " + spec.name(), deadline, () -> state(registry.addNetwork(spec)));
    }

    /** Removes a network with its ports, persistent devices included; returns the devices deleted. */
    public List<String> removeNetwork(String name, Deadline deadline) throws PortFactory.OpenException {
        return conductor.call("network del " + name, deadline, () -> registry.removeNetwork(name));
    }

    public Port addPort(String net, PortSpec request, Deadline deadline) throws PortFactory.OpenException {
        return conductor.call("port add " + net + " " + request.name(), deadline, () -> registry.addPort(net, request));
    }

    public void removePort(String net, String port, Deadline deadline) throws PortFactory.OpenException {
        conductor.call("port del " + net + " " + port, deadline, () -> {
            registry.removePort(net, port);
            return null;
        });
    }

    /** Makes {@code peers} the remote VTEPs of an overlay network. */
    public NetworkState setPeers(String net, List<String> texts, Deadline deadline) throws PortFactory.OpenException {
        return conductor.call("network set " + net, deadline, () -> state(peers.set(net, texts)));
    }

    public NetworkState setMirrors(String net, List<MirrorSpec> list, Deadline deadline) throws PortFactory.OpenException {
        return conductor.call("mirrors of " + net, deadline, () -> state(mirrors.set(net, list)));
    }

    public void addStatic(String net, StaticEntry entry, Deadline deadline) throws PortFactory.OpenException {
        conductor.call("fdb add " + net, deadline, () -> {
            statics.add(net, entry);
            return null;
        });
    }

    /** Removes one MAC, dynamic or static. */
    public void removeMac(String net, String mac, Deadline deadline) throws PortFactory.OpenException {
        conductor.call("fdb del " + net, deadline, () -> {
            statics.remove(net, mac);
            return null;
        });
    }

    /** Flushes dynamic entries, of one port or all; returns how many. */
    public int flush(String net, String port, Deadline deadline) throws PortFactory.OpenException {
        return conductor.call("fdb flush " + net, deadline, () -> statics.flush(net, port));
    }

    /** Attaches a container; its namespace work runs off the conductor ({@link Endpoints}). */
    public Attachments.Endpoint attach(String net, Requests.Attach request, Deadline deadline) throws PortFactory.OpenException {
        return endpoints.attach(net, request, deadline);
    }

    public Attachments.Endpoint detach(String net, Requests.Detach request, Deadline deadline) throws PortFactory.OpenException {
        return conductor.call("detach from " + net, deadline, () -> endpoints.detach(net, request));
    }

    /** An endpoint a runtime plumbs itself (Docker); its device is made off the conductor. */
    public Attachments.Endpoint createEndpoint(String net, String id, String address4, String address6, String mac,
            String owner, Deadline deadline) throws PortFactory.OpenException {
        return endpoints.create(net, id, address4, address6, mac, owner, deadline);
    }

    /** The runtime put the endpoint into the sandbox at {@code netns} (null: back here). */
    public Attachments.Endpoint endpointMoved(String net, String id, String netns, Deadline deadline)
            throws PortFactory.OpenException {
        return conductor.call("endpoint " + id + " moved", deadline, () -> endpoints.moved(net, id, netns));
    }

    // ---- the cluster's changes ------------------------------------------------------------------

    /** Adds a network the cluster has and this host had not (no etcd call: it came from there). */
    void addClusterNetwork(NetworkSpec spec) throws PortFactory.OpenException {
        conductor.call("cluster network " + spec.name(), Deadline.in(DEFAULT_BUDGET), () -> {
            registry.addClusterNetwork(spec);
            return null;
        });
    }

    /** Removes a network the cluster no longer has. */
    void removeClusterNetwork(String name) {
        run("cluster network " + name + " gone", DEFAULT_BUDGET, () -> {
            registry.removeClusterNetwork(name);
            return null;
        });
    }

    /** Applies a change of what the cluster says of overlay network {@code net} ({@link Peers#applyCluster}). */
    void applyCluster(String net, ClusterEntries.Update update) throws InterruptedException {
        boolean interrupted = run("cluster change of " + net, DEFAULT_BUDGET, () -> {
            try {
                peers.applyCluster(net, update);
                return false;
            } catch (InterruptedException e) {
                return true;
            }
        });
        if (interrupted) {
            throw new InterruptedException("interrupted while applying the cluster's view of " + net);
        }
    }

    /** Told by the data plane that a port's device failed: logged in order with the changes. */
    void portFailed(Port port, BridgeDomain domain, String reason) {
        conductor.execute("port failed", () -> Startup.LOG.warn("port {}{} down: {}; `vswitchctl port add` again replaces it",
                port.name(), domain != null ? " (network " + domain.name() + ")" : "", reason));
    }

    /**
     * Stops the conductor (what is queued runs first), then the loops, lets the port factory
     * delete in bulk what it made, then closes the VXLAN endpoint and the ports; persistent TAPs
     * stay with their containers.
     */
    @Override
    public void close() {
        slow.close();
        conductor.close();
        captures.close();
        dataplane.stopLoops();
        ports.stop(dataplane.ports());
        if (vxlan != null) {
            vxlan.close();
        }
        if (resolver != null) {
            resolver.close();
        }
        dataplane.close();
    }
}
