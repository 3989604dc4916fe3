package io.vswitch.daemon;

import io.vswitch.control.NetworkSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.control.StaticEntry;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.MacAddress;
import io.vswitch.core.MacTable;
import io.vswitch.core.Port;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.hostnet.SwitchTable;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.vxlan.TunnelPort;
import io.vswitch.resolver.ResolvConf;
import io.vswitch.resolver.UpstreamResolver;
import io.vswitch.vxlan.VxlanEndpoint;
import io.vswitch.vxlan.VxlanHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The registry of a running switch: its networks, their ports, peers and static MAC entries,
 * over the data plane and the VXLAN endpoint it starts.
 *
 * <p>Every change (from start-up or the control API) is serialised by this object's monitor and
 * is checked completely before anything is touched: the network rules ({@link NetworkRules})
 * and the rules between networks ({@link Conflicts}) are the ones the config file obeys. A
 * refused change throws a {@link SpecException} that names the field and leaves the switch as
 * it was; a device that refuses half way ({@link PortFactory.OpenException}) undoes what was
 * done. Every change is persisted before it is confirmed: an addition is undone when the state
 * file cannot be written, a removal is written first and not made when that fails
 * ({@link PersistException}), so what the API confirmed is what a restart restores.
 *
 * <p>Changes reach the data plane only through structures built for it: ports are registered
 * with their loop by a task run on that loop, port sets are republished copy-on-write, MAC
 * tables are lock-free.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);

    /** One network: what the rules made of the request, its bridge domain, and what changed since. */
    private static final class Network {
        final NetworkRules.Network checked;
        final BridgeDomain domain;
        final Map<String, PortSpec> ports = new LinkedHashMap<>();
        final Map<Long, String> statics = new LinkedHashMap<>();
        List<Inet4Address> peers = List.of();
        List<io.vswitch.control.MirrorSpec> mirrors;
        /** Peers and remote MACs the cluster gave (not saved: the cluster holds them). */
        final ClusterEntries cluster = new ClusterEntries();

        Network(NetworkRules.Network checked, BridgeDomain domain) {
            this.checked = checked;
            this.domain = domain;
            this.mirrors = checked.spec().mirrors();
        }

        String name() {
            return checked.name();
        }

        Integer vni() {
            return checked.vni();
        }

        /** The network as a restart must rebuild it (its endpoints are the attachments'). */
        NetworkSpec spec() {
            List<StaticEntry> entries = new ArrayList<>();
            statics.forEach((mac, port) -> entries.add(new StaticEntry(MacAddress.toString(mac), port)));
            return checked.spec().withPorts(List.copyOf(ports.values())).withMirrors(mirrors)
                    .withPeers(peers.stream().map(InetAddress::getHostAddress).toList())
                    .withStatics(entries);
        }
    }

    /** What the API shows of a network: its domain, peers, and the settings the rules made of it. */
    public record NetworkState(BridgeDomain domain, Integer vni, List<String> peers, NetworkRules.Network checked) {
    }

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
    private final StateFile state;
    private final Map<String, Network> networks = new LinkedHashMap<>();
    private final BitSet domainIds = new BitSet();
    private final long startedMillis = System.currentTimeMillis();
    private PortFactory ports;
    private Attachments attachments;
    private VxlanEndpoint vxlan;
    private UpstreamResolver resolver;
    private ClusterSync cluster;
    private final io.vswitch.capture.Captures captures = new io.vswitch.capture.Captures();

    private Daemon(DaemonConfig config, StateFile state) {
        this.config = config;
        this.state = state;
        DaemonConfig.Dataplane dp = config.dataplane();
        this.dataplane = Dataplane.start(new Dataplane.Options(dp.threads(), dp.cpus(), dp.batch(),
                VirtioNetHeader.MAX_GSO_FRAME,
                dp.adaptivePoll() ? Dataplane.ADAPTIVE_POLL : dp.busyPoll().toNanos(), dp.pin(), dp.io()), this::portFailed);
        if (dataplane.io() == Dataplane.Io.EPOLL && dp.io() == Dataplane.Io.AUTO) {
            LOG.warn("TAP I/O falls back to epoll, one system call per frame: {}", dataplane.ioNote());
        }
    }

    /** Starts the switch with TAP ports. */
    public static Daemon start(DaemonConfig config, StateFile state) throws StartException {
        return start(config, state, dp -> new TapPortFactory(dp, config.dataplane().multiQueue()));
    }

    /**
     * Starts the switch with the ports {@code factory} makes. Networks come from the state file
     * when it exists (it holds every change made since the config was first loaded), else from
     * the config; either way they pass the same rules.
     */
    public static Daemon start(DaemonConfig config, StateFile state, Function<Dataplane, PortFactory> factory)
            throws StartException {
        List<NetworkSpec> specs;
        if (state != null && state.exists()) {
            try {
                specs = state.read();
            } catch (IOException e) {
                throw new StartException("cannot read state file " + state.path() + ": " + e.getMessage()
                        + " (move it away to start from the config alone)", e);
            }
            LOG.info("restoring {} networks from state file {}", specs.size(), state.path());
        } else {
            specs = config.networks().stream().map(NetworkRules.Network::spec).toList();
        }
        Daemon daemon = new Daemon(config, state);
        try {
            daemon.ports = factory.apply(daemon.dataplane);
            daemon.resolver = startResolver(config, daemon.dataplane);
            daemon.attachments = new Attachments(daemon.dataplane, daemon.ports, new SwitchTable(), daemon.resolver);
            if (config.vxlan() != null) {
                daemon.vxlan = openVxlan(config, daemon.dataplane);
            }
            for (NetworkSpec spec : specs) {
                try {
                    daemon.add(NetworkRules.check(spec, config.host()));
                } catch (SpecException e) {
                    throw new StartException("network " + spec.name() + ": " + e.field() + ": " + e.getMessage()
                            + (state != null && state.exists() ? " (in state file " + state.path() + ")" : ""), e);
                } catch (PortFactory.OpenException e) {
                    throw new StartException("network " + spec.name() + ": " + e.getMessage(), e);
                }
            }
            daemon.save(() -> { });
        } catch (StartException | RuntimeException e) {
            daemon.close();
            throw e;
        }
        return daemon;
    }

    /**
     * The DNS forwarder for names no network knows: the config's {@code dns.upstream}, else the
     * host's resolvers; none (an empty list, or no resolv.conf) refuses them in the data path.
     */
    private static UpstreamResolver startResolver(DaemonConfig config, Dataplane dataplane) throws StartException {
        List<java.net.InetSocketAddress> servers = config.dns().upstream();
        try {
            if (servers == null) {
                servers = ResolvConf.nameservers(ResolvConf.DEFAULT);
            }
            if (servers.isEmpty()) {
                LOG.info("dns: no upstream resolvers; names a network does not know are refused");
                return null;
            }
            LOG.info("dns: names a network does not know go to {}", servers);
            return UpstreamResolver.start(servers, (lane, write, done) -> {
                io.vswitch.dataplane.Lane l = dataplane.lane(lane);
                l.loop().execute(() -> {
                    try {
                        write.run();
                        l.afterWork();
                    } finally {
                        done.run();
                    }
                });
            }, java.time.Duration.ofMillis(1500), config.dns().pendingPerPort(), config.dns().ratePerPort());
        } catch (IOException e) {
            throw new StartException("dns: cannot start the forwarder: " + e.getMessage(), e);
        }
    }

    private static VxlanEndpoint openVxlan(DaemonConfig config, Dataplane dataplane) throws StartException {
        DaemonConfig.Vxlan vx = config.vxlan();
        int maxFrame = config.host().underlayMtu() - VxlanHeader.IPV4_OVERHEAD + EthernetFrame.MAX_OVERHEAD;
        try {
            return VxlanEndpoint.start(dataplane, new VxlanEndpoint.Options(vx.local(), vx.port(), 8, maxFrame));
        } catch (NativeCallException | InterruptedException e) {
            throw new StartException("cannot open the VXLAN endpoint on " + vx.local().getHostAddress() + ":"
                    + vx.port() + ": " + e.getMessage(), e);
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

    // ---- reading ----------------------------------------------------------------------------

    public synchronized List<NetworkState> networks() {
        List<NetworkState> list = new ArrayList<>();
        for (Network n : networks.values()) {
            list.add(state(n));
        }
        return list;
    }

    /** The network of that name; throws 404-kind when there is none. */
    public synchronized NetworkState network(String name) {
        return state(require(name));
    }

    private static NetworkState state(Network n) {
        List<Inet4Address> peers = n.cluster.peers().isEmpty() ? n.peers : n.cluster.peers();
        return new NetworkState(n.domain, n.vni(), n.vni() == null ? null
                : peers.stream().map(InetAddress::getHostAddress).toList(), n.checked);
    }

    /** Brings the ports' link states and device drops up to date (at most a second), for an operator's view. */
    public void refreshLinks() {
        if (ports != null) {
            ports.refresh();
        }
    }

    /** The domains, for the metrics. */
    public synchronized Map<String, BridgeDomain> domains() {
        Map<String, BridgeDomain> copy = new LinkedHashMap<>();
        networks.forEach((name, n) -> copy.put(name, n.domain));
        return copy;
    }

    /** Every network as a restart must rebuild it. */
    public synchronized List<NetworkSpec> specs() {
        return networks.values().stream().map(n -> n.spec().withEndpoints(attachments.specs(n.name()))).toList();
    }

    // ---- changes ----------------------------------------------------------------------------

    /** The cluster session, or null without a {@code cluster:} section. */
    public synchronized ClusterSync cluster() {
        return cluster;
    }

    synchronized void cluster(ClusterSync sync) {
        this.cluster = sync;
        attachments.claims(sync::claim);
    }

    /**
     * Adds a network with its peers, ports and static entries; all or nothing. In a cluster an
     * overlay network is created for the whole cluster first (or found there with the same
     * settings); it is refused when the cluster has it with other settings or etcd is away.
     */
    public synchronized NetworkState addNetwork(NetworkSpec spec) throws PortFactory.OpenException {
        NetworkRules.Network checked = NetworkRules.check(spec, config.host());
        boolean created = false;
        if (cluster != null && checked.isOverlay()) {
            if (!checked.peers().isEmpty()) {
                throw new SpecException("peers", "in a cluster an overlay network's peers are the hosts with ports in it;"
                        + " leave peers out");
            }
            Conflicts.check(checked.spec(), specs());
            created = cluster.create(checked.spec());
        }
        Network network;
        try {
            network = add(checked);
        } catch (PortFactory.OpenException | RuntimeException e) {
            if (created) {
                cluster.forget(checked.name());
            }
            throw e;
        }
        boolean undoCluster = created;
        save(() -> {
            drop(network, true);
            if (undoCluster) {
                cluster.forget(checked.name());
            }
        });
        return state(network);
    }

    /** Adds a network the cluster has and this host had not (no etcd call: it came from there). */
    synchronized void addClusterNetwork(NetworkSpec spec) throws PortFactory.OpenException {
        Network network = add(NetworkRules.check(spec, config.host()));
        save(() -> drop(network, true));
    }

    /** Removes a network the cluster no longer has. */
    synchronized void removeClusterNetwork(String name) {
        if (networks.containsKey(name)) {
            remove(name);
        }
    }

    /** The overlay networks of this host: name -> spec as asked (for the cluster). */
    synchronized Map<String, NetworkSpec> overlaySpecs() {
        Map<String, NetworkSpec> out = new LinkedHashMap<>();
        networks.forEach((name, n) -> {
            if (n.vni() != null) {
                out.put(name, n.checked.spec());
            }
        });
        return out;
    }

    /**
     * Applies what the cluster says of overlay network {@code net}: its peers become its tunnel
     * ports, each remote MAC a static entry on its VTEP's tunnel port, and {@code neighbors}
     * the remote addresses the switch answers ARP and NS for. Not saved: the cluster holds it.
     * A static entry of the operator's wins over the cluster's.
     */
    synchronized void applyCluster(String net, List<Inet4Address> peers, Map<Long, Inet4Address> macs,
            Map<InetAddress, Long> neighbors) throws InterruptedException {
        Network n = networks.get(net);
        if (n == null || n.vni() == null || vxlan == null) {
            return;
        }
        n.cluster.apply(net, vxlan.overlays(), n.vni(), n.domain.table(), n.statics.keySet(), peers, macs);
        attachments.setRemote(net, neighbors);
    }

    private Network add(NetworkRules.Network checked) throws PortFactory.OpenException {
        Conflicts.check(checked.spec(), specs());
        if (checked.isOverlay() && vxlan == null) {
            throw new SpecException("vni", "this daemon has no vxlan: section in its config, so it cannot have overlay networks");
        }
        int id = domainIds.nextClearBit(1);
        if (id > 0xFFFF) {
            throw SpecException.conflict("name", "this daemon has 65535 networks already");
        }
        BridgeDomain domain = new BridgeDomain(id, checked.settings(), dataplane.lanes());
        Network network = new Network(checked, domain);
        domainIds.set(id);
        networks.put(checked.name(), network);
        dataplane.addDomain(domain);
        try {
            if (checked.isOverlay()) {
                vxlan.overlays().add(domain, checked.vni());
                vxlan.overlays().setPeers(checked.vni(), checked.peers());
                network.peers = checked.peers();
            }
            for (PortSpec p : checked.ports()) {
                attach(network, p);
            }
            for (NetworkRules.Static s : checked.statics()) {
                putStatic(network, s.mac(), s.port());
            }
            attachments.open(checked, domain);
            domain.setMirrors(MirrorRules.resolve(network.mirrors));
        } catch (PortFactory.OpenException | RuntimeException e) {
            drop(network, true);
            throw e;
        } catch (InterruptedException e) {
            drop(network, true);
            Thread.currentThread().interrupt();
            throw new SpecException("name", "interrupted while adding network " + checked.name());
        }
        LOG.info("network {} added: mtu {}{}, {} ports, mac-aging {}s, mac-limit {}{}", checked.name(),
                checked.settings().mtu(), checked.isOverlay() ? ", vni " + checked.vni() + ", peers " + checked.spec().peers() : "",
                checked.ports().size(), checked.settings().macAging().toSeconds(), checked.settings().macLimit(),
                checked.spec().persistent() ? ", persistent" : "");
        return network;
    }

    /**
     * Removes a network and its ports, persistent devices included; returns the devices deleted,
     * each persistent one marked so.
     */
    public synchronized List<String> removeNetwork(String name) {
        Network network = require(name);
        if (cluster != null && network.vni() != null) {
            cluster.delete(name);
        }
        return remove(name);
    }

    private List<String> remove(String name) {
        Network network = require(name);
        saveAhead(specs().stream().filter(s -> !s.name().equals(name)).toList());
        List<String> devices = new ArrayList<>(network.ports.values().stream()
                .map(p -> p.persistent() ? p.name() + " (persistent)" : p.name()).toList());
        for (Attachments.Endpoint e : attachments.endpoints(name)) {
            devices.add(e.spec().ifname() + " of endpoint " + e.spec().id() + " (in " + e.spec().netns() + ")");
        }
        drop(network, true);
        LOG.info("network {} removed{}", name, devices.isEmpty() ? "" : " with its ports " + String.join(", ", devices));
        return devices;
    }

    /** Replaces a network's mirrors, checked against the ports it has now; saved before it is confirmed. */
    public synchronized NetworkState setMirrors(String net, List<io.vswitch.control.MirrorSpec> mirrors) {
        Network network = require(net);
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Port p : network.domain.ports()) {
            if (!p.isTunnel()) {
                names.add(p.name());
            }
        }
        List<io.vswitch.control.MirrorSpec> checked = NetworkRules.mirrors(mirrors == null ? List.of() : mirrors, names);
        List<io.vswitch.control.MirrorSpec> before = network.mirrors;
        network.mirrors = checked;
        network.domain.setMirrors(MirrorRules.resolve(checked));
        save(() -> {
            network.mirrors = before;
            network.domain.setMirrors(MirrorRules.resolve(before));
        });
        LOG.info("network {}: mirrors now {}", net, checked.isEmpty() ? "none" : checked);
        return state(network);
    }

    /** A network's mirrors as they are now. */
    public synchronized List<io.vswitch.control.MirrorSpec> mirrors(String net) {
        return require(net).mirrors;
    }

    /** The daemon's captures. */
    public io.vswitch.capture.Captures captures() {
        return captures;
    }

    private void drop(Network network, boolean discard) {
        captures.stopAll(network.domain);
        attachments.close(network.name(), discard);
        for (String name : new ArrayList<>(network.ports.keySet())) {
            Port p = network.domain.port(name);
            if (p != null) {
                if (discard) {
                    ports.discard(p);
                }
                dataplane.detach(p);
            }
        }
        network.ports.clear();
        if (network.vni() != null && vxlan != null) {
            vxlan.overlays().remove(network.vni());
        }
        dataplane.removeDomain(network.domain);
        networks.remove(network.name());
        domainIds.clear(network.domain.id());
    }

    /**
     * Adds a port to a network. A port of that name whose device failed (its container's
     * namespace went away) is replaced; a working one is a conflict.
     */
    public synchronized Port addPort(String net, PortSpec request) throws PortFactory.OpenException {
        Network network = require(net);
        PortSpec spec = NetworkRules.port(request, net, network.checked.spec().persistent(),
                network.checked.settings().offload(), "name");
        Port existing = network.domain.port(spec.name());
        if (existing != null && !existing.hasFailed()) {
            throw SpecException.conflict("name", "port \"" + spec.name() + "\" already belongs to network " + net);
        }
        Conflicts.checkPort(spec, network.checked.spec(), "name", specs().stream().filter(s -> !s.name().equals(net)).toList());
        if (existing != null) {
            LOG.info("port {} of network {} failed earlier ({}); replacing it", spec.name(), net, existing.failure());
            dataplane.detach(existing);
            network.ports.remove(spec.name());
        }
        Port port;
        try {
            port = attach(network, spec);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SpecException("name", "interrupted while adding port " + spec.name());
        }
        save(() -> detach(network, port, true));
        return port;
    }

    /** Removes a port and lets its device go, a persistent one too. */
    public synchronized void removePort(String net, String portName) {
        Network network = require(net);
        Port p = network.domain.port(portName);
        if (p == null) {
            throw SpecException.notFound("port", "network " + net + " has no port \"" + portName + "\"");
        }
        if (!network.ports.containsKey(portName)) {
            throw new SpecException("port", "port " + portName + " is a tunnel: change the network's peers instead");
        }
        List<io.vswitch.control.MirrorSpec> mirrors = MirrorRules.withoutPort(network.mirrors, portName);
        saveAhead(specs().stream().map(s -> !s.name().equals(net) ? s : s
                .withPorts(s.ports().stream().filter(x -> !x.name().equals(portName)).toList())
                .withStatics(s.statics().stream().filter(x -> !x.port().equals(portName)).toList())
                .withMirrors(mirrors)).toList());
        detach(network, p, true);
        dropFromMirrors(network, mirrors);
        LOG.info("port {} removed from network {}", portName, net);
    }

    private void dropFromMirrors(Network network, List<io.vswitch.control.MirrorSpec> mirrors) {
        if (!mirrors.equals(network.mirrors)) {
            LOG.info("network {}: mirrors now {} (a port they named is gone)", network.name(),
                    mirrors.isEmpty() ? "none" : mirrors);
            network.mirrors = mirrors;
            network.domain.setMirrors(MirrorRules.resolve(mirrors));
        }
    }

    private Port attach(Network network, PortSpec spec) throws PortFactory.OpenException, InterruptedException {
        PortFactory.Opened opened = ports.open(network.checked, spec);
        Port port = opened.port();
        try {
            NetworkRules.configure(port, spec, network.checked, dataplane);
            dataplane.attach(network.domain, port, opened.handles());
        } catch (InterruptedException | RuntimeException e) {
            ports.discard(port);
            port.close();
            throw e;
        }
        network.ports.put(spec.name(), spec);
        LOG.info("port {} up in network {} ({}, {}{}{})", spec.name(), network.name(),
                port.queueCount() == 1 ? "one queue" : port.queueCount() + " queues, one per loop", opened.origin(),
                spec.persistent() ? ", persistent" : "", port.offloads() ? ", offloads on"
                        : network.checked.settings().offload() ? ", offloads off (segmented in software)" : "");
        return port;
    }

    private void detach(Network network, Port port, boolean discard) {
        if (discard) {
            ports.discard(port);
        }
        dataplane.detach(port);
        network.ports.remove(port.name());
        network.statics.values().removeIf(port.name()::equals);
    }

    /** Makes {@code peers} the remote VTEPs of an overlay network; the MACs behind removed ones go with them. */
    public synchronized NetworkState setPeers(String net, List<String> texts) {
        Network network = require(net);
        if (network.vni() == null) {
            throw new SpecException("peers", "network " + net + " is not an overlay network (it has no vni)");
        }
        if (cluster != null) {
            throw SpecException.conflict("peers", "network " + net + " takes its peers from the cluster: they are the hosts"
                    + " with ports in it");
        }
        List<Inet4Address> peers = NetworkRules.peers(texts, config.host(), "peers");
        List<Inet4Address> before = network.peers;
        Map<Long, String> staticsBefore = new LinkedHashMap<>(network.statics);
        try {
            vxlan.overlays().setPeers(network.vni(), peers);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SpecException("peers", "interrupted while changing the peers of " + net);
        }
        network.peers = List.copyOf(peers);
        network.statics.values().removeIf(port -> network.domain.port(port) == null);
        save(() -> {
            try {
                vxlan.overlays().setPeers(network.vni(), before);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            network.peers = before;
            network.statics.clear();
            network.statics.putAll(staticsBefore);
        });
        LOG.info("network {}: peers now {}", net, texts);
        return state(network);
    }

    /** Adds or replaces a static entry. */
    public synchronized void addStatic(String net, StaticEntry entry) {
        Network network = require(net);
        long mac = NetworkRules.mac(entry.mac(), "mac");
        String before = network.statics.get(mac);
        putStatic(network, mac, entry.port());
        save(() -> {
            if (before == null) {
                network.statics.remove(mac);
                network.domain.table().remove(mac);
            } else {
                putStatic(network, mac, before);
            }
        });
    }

    private void putStatic(Network network, long mac, String port) {
        Port p = network.domain.port(port);
        if (p == null) {
            throw SpecException.notFound("port", "network " + network.name() + " has no port \"" + port + "\"");
        }
        network.domain.table().putStatic(mac, p.id(), p.generation());
        network.statics.put(mac, port);
    }

    /** Removes one MAC, dynamic or static. */
    public synchronized void removeMac(String net, String text) {
        Network network = require(net);
        long mac;
        try {
            mac = MacAddress.parse(text == null ? "" : text);
        } catch (IllegalArgumentException e) {
            throw new SpecException("mac", e.getMessage());
        }
        if (network.statics.containsKey(mac)) {
            String mactext = MacAddress.toString(mac);
            saveAhead(specs().stream().map(s -> !s.name().equals(net) ? s : s.withStatics(s.statics().stream()
                    .filter(x -> MacAddress.parse(x.mac()) != mac).toList())).toList());
            network.statics.remove(mac);
            network.domain.table().remove(mac);
            LOG.info("network {}: static entry {} removed", net, mactext);
            return;
        }
        if (!network.domain.table().remove(mac)) {
            throw SpecException.notFound("mac", "network " + net + " has no entry for " + MacAddress.toString(mac));
        }
    }

    /** Flushes dynamic entries, of one port or all; returns how many. */
    public synchronized int flush(String net, String port) {
        Network network = require(net);
        if (port == null) {
            return network.domain.table().flush();
        }
        Port p = network.domain.port(port);
        if (p == null) {
            throw SpecException.notFound("port", "network " + net + " has no port \"" + port + "\"");
        }
        int id = p.id();
        return network.domain.table().removeIf((mac, v) -> !MacTable.isStatic(v) && MacTable.portId(v) == id);
    }

    private Network require(String name) {
        Network n = networks.get(name);
        if (n == null) {
            throw SpecException.notFound("network", "no network named \"" + name + "\"");
        }
        return n;
    }

    // ---- endpoints --------------------------------------------------------------------------

    /** Attaches a container to a network (see {@link Attachments}); saved before it is confirmed. */
    public synchronized Attachments.Endpoint attach(String net, io.vswitch.control.Requests.Attach request)
            throws PortFactory.OpenException {
        require(net);
        Attachments.Endpoint e = attachments.attach(net, request);
        save(() -> attachments.detach(e));
        return e;
    }

    /** Detaches a container; the state without it is saved first. */
    public synchronized Attachments.Endpoint detach(String net, io.vswitch.control.Requests.Detach request) {
        require(net);
        Attachments.Endpoint e = attachments.find(net, request);
        Network network = networks.get(net);
        List<io.vswitch.control.MirrorSpec> mirrors = e.spec().port() == null ? network.mirrors
                : MirrorRules.withoutPort(network.mirrors, e.spec().port());
        saveAhead(specs().stream().map(s -> !s.name().equals(net) ? s : s.withEndpoints(s.endpoints().stream()
                .filter(x -> !x.id().equals(e.spec().id())).toList()).withMirrors(mirrors)).toList());
        attachments.detach(e);
        dropFromMirrors(network, mirrors);
        return e;
    }

    /** An endpoint a runtime plumbs itself (Docker); saved before it is confirmed. */
    public synchronized Attachments.Endpoint createEndpoint(String net, String id, String address4, String address6, String mac,
            String owner) throws PortFactory.OpenException {
        require(net);
        Attachments.Endpoint e = attachments.create(net, id, address4, address6, mac, owner);
        save(() -> attachments.detach(e));
        return e;
    }

    /** The runtime put the endpoint into the sandbox at {@code netns} (null: back here). */
    public synchronized Attachments.Endpoint endpointMoved(String net, String id, String netns) {
        require(net);
        Attachments.Endpoint before = attachments.find(net, new io.vswitch.control.Requests.Detach(id, null, null, null));
        Attachments.Endpoint e = attachments.moved(net, id, netns);
        save(() -> attachments.moved(net, id, before.spec().netns()));
        if (netns != null) {
            ports.watchClosely();
        }
        return e;
    }

    public synchronized boolean hasGatewayPort(String net) {
        require(net);
        return attachments.hasGatewayPort(net);
    }

    public synchronized boolean hasNetwork(String net) {
        return networks.containsKey(net);
    }

    public synchronized List<Attachments.Endpoint> endpoints(String net) {
        require(net);
        return attachments.endpoints(net);
    }

    public synchronized List<Attachments.Endpoint> endpoints() {
        List<Attachments.Endpoint> all = new ArrayList<>();
        for (Network n : networks.values()) {
            all.addAll(attachments.endpoints(n.name()));
        }
        return all;
    }

    // ---- state ------------------------------------------------------------------------------

    /** Writes the state as it is now; when that fails, runs {@code undo} and refuses the change. */
    private void save(Runnable undo) {
        if (state == null) {
            return;
        }
        try {
            state.write(specs());
        } catch (IOException e) {
            undo.run();
            throw new PersistException("cannot write state file " + state.path() + ": " + e.getMessage()
                    + "; the change was undone", e);
        }
    }

    /** Writes the state a removal will leave, before it is made; refuses the removal when that fails. */
    private void saveAhead(List<NetworkSpec> next) {
        if (state == null) {
            return;
        }
        try {
            state.write(next);
        } catch (IOException e) {
            throw new PersistException("cannot write state file " + state.path() + ": " + e.getMessage()
                    + "; nothing was changed", e);
        }
    }

    /** Told by the data plane, on its control thread, that a port's device failed. */
    private void portFailed(Port port, BridgeDomain domain, String reason) {
        LOG.warn("port {}{} down: {}; `vswitchctl port add` again replaces it", port.name(),
                domain != null ? " (network " + domain.name() + ")" : "", reason);
    }

    /** The tunnel ports of an overlay network. */
    public synchronized List<TunnelPort> tunnels(String network) {
        Network n = networks.get(network);
        return n == null || vxlan == null || n.vni() == null ? List.of() : vxlan.overlays().peers(n.vni());
    }

    /**
     * Stops the loops, lets the port factory delete in bulk what it made, then closes the VXLAN
     * endpoint and the ports; persistent TAPs stay with their containers.
     */
    @Override
    public void close() {
        captures.close();
        dataplane.stopLoops();
        if (ports != null) {
            ports.stop(dataplane.ports());
        }
        if (vxlan != null) {
            vxlan.close();
        }
        if (resolver != null) {
            resolver.close();
        }
        dataplane.close();
    }
}
