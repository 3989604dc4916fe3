package io.vswitch.daemon;

import io.vswitch.capture.Captures;
import io.vswitch.control.MirrorSpec;
import io.vswitch.control.NetworkSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.Port;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.vxlan.VxlanEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The registry of networks and their ports: what exists, and the changes that add and remove
 * it. Every change is checked completely before anything is touched: the network rules
 * ({@link NetworkRules}) and the rules between networks ({@link Conflicts}) are the ones the
 * config file obeys. A refused change throws a {@link SpecException} that names the field and
 * leaves the switch as it was; a device that refuses half way ({@link PortFactory.OpenException})
 * undoes what was done; every change is saved before it is confirmed ({@link Persistence}).
 *
 * <p>Conductor thread only (asserted). Changes reach the data plane through structures built for
 * it: ports registered with their loop by a task run on that loop, port sets republished
 * copy-on-write, lock-free MAC tables.
 */
final class NetworkRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(NetworkRegistry.class);

    private final Conductor conductor;
    private final NetworkRules.Host host;
    private final Dataplane dataplane;
    private final PortFactory ports;
    private final VxlanEndpoint vxlan;
    private final Attachments attachments;
    private final Captures captures;
    private final Persistence persistence;
    private final Map<String, Network> networks = new LinkedHashMap<>();
    private final BitSet domainIds = new BitSet();
    private ClusterSync cluster;

    NetworkRegistry(Conductor conductor, NetworkRules.Host host, Dataplane dataplane, PortFactory ports, VxlanEndpoint vxlan,
            Attachments attachments, Captures captures, StateFile state) {
        this.conductor = conductor;
        this.host = host;
        this.dataplane = dataplane;
        this.ports = ports;
        this.vxlan = vxlan;
        this.attachments = attachments;
        this.captures = captures;
        this.persistence = new Persistence(state, this::specs);
    }

    Persistence persistence() {
        return persistence;
    }

    NetworkRules.Host host() {
        return host;
    }

    void cluster(ClusterSync sync) {
        assert conductor.inThread();
        this.cluster = sync;
    }

    ClusterSync cluster() {
        return cluster;
    }

    Collection<Network> all() {
        assert conductor.inThread();
        return networks.values();
    }

    /** The network of that name; throws 404-kind when there is none. */
    Network require(String name) {
        assert conductor.inThread();
        Network n = networks.get(name);
        if (n == null) {
            throw SpecException.notFound("network", "no network named \"" + name + "\"");
        }
        return n;
    }

    boolean has(String name) {
        assert conductor.inThread();
        return networks.containsKey(name);
    }

    /** Every network as a restart must rebuild it. */
    List<NetworkSpec> specs() {
        assert conductor.inThread();
        return networks.values().stream().map(n -> n.spec().withEndpoints(attachments.specs(n.name()))).toList();
    }

    // ---- networks ---------------------------------------------------------------------------

    /**
     * Adds a network with its peers, ports and static entries; all or nothing. In a cluster an
     * overlay network is created for the whole cluster first (or found there with the same
     * settings); it is refused when the cluster has it with other settings or etcd is away.
     */
    Network addNetwork(NetworkSpec spec) throws PortFactory.OpenException {
        NetworkRules.Network checked = NetworkRules.check(spec, host);
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
        persistence.save(() -> {
            drop(network, true);
            if (undoCluster) {
                cluster.forget(checked.name());
            }
        });
        return network;
    }

    /** Adds a network the cluster has and this host had not (no etcd call: it came from there). */
    void addClusterNetwork(NetworkSpec spec) throws PortFactory.OpenException {
        Network network = add(NetworkRules.check(spec, host));
        persistence.save(() -> drop(network, true));
    }

    /** Removes a network the cluster no longer has. */
    void removeClusterNetwork(String name) {
        if (networks.containsKey(name)) {
            remove(name);
        }
    }

    /** Adds a network at start-up, from the state file or the config (saved once, after all of them). */
    Network restore(NetworkRules.Network checked) throws PortFactory.OpenException {
        return add(checked);
    }

    private Network add(NetworkRules.Network checked) throws PortFactory.OpenException {
        assert conductor.inThread();
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
                network.putStatic(s.mac(), s.port());
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
        LOG.info("network {} added: mtu {}{}, {} ports{}, mac-aging {}s, mac-limit {}{}", checked.name(),
                checked.settings().mtu(), checked.isOverlay() ? ", vni " + checked.vni() + ", peers " + checked.spec().peers() : "",
                checked.ports().size(), restored(checked.name()), checked.settings().macAging().toSeconds(),
                checked.settings().macLimit(), checked.spec().persistent() ? ", persistent" : "");
        return network;
    }

    /** ", N endpoints restored (M found in their containers)" after a restart; "" when it has none. */
    private String restored(String network) {
        List<Attachments.Endpoint> endpoints = attachments.endpoints(network);
        if (endpoints.isEmpty()) {
            return "";
        }
        long found = endpoints.stream().filter(e -> e.port() != null).count();
        return ", " + endpoints.size() + " endpoint" + (endpoints.size() == 1 ? "" : "s") + " restored (" + found
                + " found in their containers" + (found < endpoints.size() ? "; the others keep their addresses until"
                + " detached" : "") + ")";
    }

    /**
     * Removes a network and its ports, persistent devices included; returns the devices deleted,
     * each persistent one marked so.
     */
    List<String> removeNetwork(String name) {
        Network network = require(name);
        if (cluster != null && network.vni() != null) {
            cluster.delete(name);
        }
        return remove(name);
    }

    private List<String> remove(String name) {
        Network network = require(name);
        persistence.saveAhead(specs().stream().filter(s -> !s.name().equals(name)).toList());
        List<String> devices = new ArrayList<>(network.ports.values().stream()
                .map(p -> p.persistent() ? p.name() + " (persistent)" : p.name()).toList());
        for (Attachments.Endpoint e : attachments.endpoints(name)) {
            devices.add(e.spec().ifname() + " of endpoint " + e.spec().id() + " (in " + e.spec().netns() + ")");
        }
        drop(network, true);
        LOG.info("network {} removed{}", name, devices.isEmpty() ? "" : " with its ports " + String.join(", ", devices));
        return devices;
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

    // ---- ports ------------------------------------------------------------------------------

    /**
     * Adds a port to a network. A port of that name whose device failed (its container's
     * namespace went away) is replaced; a working one is a conflict.
     */
    Port addPort(String net, PortSpec request) throws PortFactory.OpenException {
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
        persistence.save(() -> detach(network, port, true));
        return port;
    }

    /** Removes a port and lets its device go, a persistent one too; mirrors that named it lose it. */
    void removePort(String net, String portName) {
        Network network = require(net);
        Port p = network.port(portName);
        if (!network.ports.containsKey(portName)) {
            throw new SpecException("port", "port " + portName + " is a tunnel: change the network's peers instead");
        }
        List<MirrorSpec> mirrors = MirrorRules.withoutPort(network.mirrors, portName);
        persistence.saveAhead(specs().stream().map(s -> !s.name().equals(net) ? s : s
                .withPorts(s.ports().stream().filter(x -> !x.name().equals(portName)).toList())
                .withStatics(s.statics().stream().filter(x -> !x.port().equals(portName)).toList())
                .withMirrors(mirrors)).toList());
        detach(network, p, true);
        Mirrors.dropGone(network, mirrors);
        LOG.info("port {} removed from network {}", portName, net);
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
}
