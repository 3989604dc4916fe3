package io.vswitch.daemon;

import io.vswitch.control.EndpointSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.control.Requests;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.Directory;
import io.vswitch.core.Port;
import io.vswitch.core.Upstream;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.hostnet.SwitchTable;
import io.vswitch.ipam.Cidr;
import io.vswitch.tapio.Taps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What is attached to the networks besides their configured ports: containers (endpoints) with
 * the addresses handed to them from each network's subnet, each network's gateway port, and the
 * masquerade that gives a network a way out through the daemon's namespace.
 *
 * <p>Attaching a container does what a runtime expects of a network (what docker0 and the CNI
 * bridge plugin do): a TAP is made and attached to the network, given the container's MAC, moved
 * into its namespace under the name it asks for (eth0), given its addresses, brought up and given
 * a default route via the network's gateway, and made persistent, so it outlives a restart of the
 * daemon. It is made in three steps ({@link SlowChanges}): the checks and the reservation of its
 * id, name, addresses and port name on the conductor ({@link #prepareAttach}); the TAP made in
 * the container's namespace off it ({@link #open}); attached and published on the conductor
 * ({@link #commit}), or everything given back ({@link #abandon}). The registry saves the endpoint
 * before it answers, so no address is ever handed out twice, whatever stops the daemon when.
 * After a restart every endpoint's address is reserved again and its TAP found again in its
 * container; an endpoint whose TAP is gone keeps its address until it is detached.
 *
 * <p>Whatever changes a network's endpoints publishes its {@link Directory} again: the addresses
 * and MACs the switch answers ARP and neighbour solicitations for, and, on a network with DNS
 * on, the names (and aliases) it answers for on the gateway address.
 *
 * <p>Conductor thread only, but for {@link #open}, which touches no book.
 */
public final class Attachments {
    private static final Logger LOG = LoggerFactory.getLogger(Attachments.class);

    /** An attached container and its port (null when its TAP was not found after a restart). */
    public record Endpoint(EndpointSpec spec, Port port, String network) {
    }

    private final Dataplane dataplane;
    private final PortFactory ports;
    private final SwitchTable table;
    private final Answers answers;
    private final Map<String, EndpointBook> books = new LinkedHashMap<>();
    private final NetnsResolvConf resolvConf;
    private EndpointBook.Claims claims = (network, address) -> true;

    /** {@code upstream}: where names a network does not know go (null: REFUSED at once). */
    Attachments(Dataplane dataplane, PortFactory ports, SwitchTable table, Upstream upstream) {
        this(dataplane, ports, table, upstream, new NetnsResolvConf());
    }

    /** Tests: the named namespaces' resolv.conf files elsewhere. */
    Attachments(Dataplane dataplane, PortFactory ports, SwitchTable table, Upstream upstream, NetnsResolvConf resolvConf) {
        this.resolvConf = resolvConf;
        this.dataplane = dataplane;
        this.ports = ports;
        this.table = table;
        this.answers = new Answers(dataplane, upstream);
    }

    void claims(EndpointBook.Claims c) {
        this.claims = c;
    }

    /** The alias an endpoint's interface carries: what it is, for operators and for finding it again. */
    static String alias(String network, String id) {
        return "vswitch " + network + " " + id;
    }

    // ---- networks ---------------------------------------------------------------------------

    /**
     * Sets up what a network has besides its ports: its pools, its gateway port, its masquerade,
     * and the endpoints it had before a restart. All or nothing.
     */
    void open(NetworkRules.Network checked, BridgeDomain domain) throws PortFactory.OpenException {
        EndpointBook book = new EndpointBook(checked, domain);
        books.put(checked.name(), book);
        try {
            for (EndpointSpec e : checked.spec().endpoints()) {
                restore(book, e);
            }
            if (checked.gatewayPort() != null) {
                List<Taps.Address> addresses = new ArrayList<>();
                if (book.pool4 != null) {
                    addresses.add(new Taps.Address(book.pool4.gateway().getAddress(), book.pool4.prefix()));
                }
                if (book.pool6 != null) {
                    addresses.add(new Taps.Address(book.pool6.gateway().getAddress(), book.pool6.prefix()));
                }
                book.gatewayPort = attachOpened(book, ports.open(book.checked, new PortSpec(checked.gatewayPort(), false, null)),
                        false);
                ports.configureHere(book.gatewayPort, Answers.gatewayMac(checked.name()), addresses);
            }
            if (checked.gatewayPort() != null) {
                List<Cidr> subnets = new ArrayList<>();
                if (checked.masquerade() && book.pool4 != null) {
                    subnets.add(book.pool4.subnet());
                }
                if (checked.masquerade() && book.pool6 != null) {
                    subnets.add(book.pool6.subnet());
                }
                try {
                    table.set(checked.name(), new SwitchTable.Gateway(checked.gatewayPort(), checked.icc(), subnets));
                } catch (IOException e) {
                    throw new PortFactory.OpenException("network " + checked.name() + ": gateway rules"
                            + (checked.masquerade() ? " and masquerade" : "") + ": " + e.getMessage(), e);
                }
            }
            publish(book, false);
        } catch (PortFactory.OpenException | RuntimeException e) {
            close(checked.name(), true);
            throw e;
        }
    }

    /** Takes a network's endpoints, gateway port and masquerade away; endpoints' TAPs go with them when {@code discard}. */
    void close(String network, boolean discard) {
        EndpointBook book = books.remove(network);
        if (book == null) {
            return;
        }
        for (Endpoint e : book.endpoints.values()) {
            if (e.port() != null) {
                if (discard) {
                    ports.discard(e.port());
                }
                dataplane.detach(e.port());
            }
            if (discard) {
                resolvConf.remove(e.spec().netns(), network, e.spec().id());
            }
        }
        if (book.gatewayPort != null) {
            dataplane.detach(book.gatewayPort);
        }
        if (table.has(network)) {
            try {
                table.remove(network);
            } catch (IOException e) {
                LOG.warn("network {}: cannot remove its rules from table inet vswitch: {}", network, e.getMessage());
            }
        }
    }

    /** Attaches a port just opened to the network; when that fails its device goes, persistent or not. */
    private Port attachOpened(EndpointBook book, PortFactory.Opened opened, boolean isolated) throws PortFactory.OpenException {
        try {
            NetworkRules.configure(opened.port(), null, book.checked, dataplane);
            dataplane.attach(book.domain, opened.port(), opened.handles());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ports.discard(opened.port());
            opened.port().close();
            throw new PortFactory.OpenException("interrupted while attaching " + opened.port().name(), e);
        } catch (RuntimeException e) {
            ports.discard(opened.port());
            opened.port().close();
            throw e;
        }
        opened.port().setIsolated(isolated);
        return opened.port();
    }

    /** After a restart: the endpoint's addresses taken again, its TAP found in its container. */
    private void restore(EndpointBook book, EndpointSpec e) {
        try {
            book.reserve(book.pool4, e.ipv4(), "ipv4");
            book.reserve(book.pool6, e.ipv6(), "ipv6");
        } catch (SpecException ex) {
            throw new SpecException("endpoints", "endpoint " + e.id() + ": " + ex.getMessage());
        }
        Port port = null;
        try {
            PortFactory.Opened opened = ports.reopen(book.checked, e);
            NetworkRules.configure(opened.port(), null, book.checked, dataplane);
            dataplane.attach(book.domain, opened.port(), opened.handles());
            opened.port().setIsolated(!book.checked.icc());
            port = opened.port();
        } catch (PortFactory.OpenException ex) {
            LOG.warn("network {}: {}; it keeps its address until it is detached", book.checked.name(), ex.getMessage());
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
        book.endpoints.put(e.id(), new Endpoint(e, port, book.checked.name()));
    }

    // ---- endpoints being made -----------------------------------------------------------------

    /** Step 1 of attaching a container (see the class comment): checked, and its resources reserved. */
    PendingEndpoint prepareAttach(String network, Requests.Attach r) {
        EndpointBook book = book(network);
        Path netns = ContainerNamespace.of(r.netns(), r.pid());
        String id = r.id() != null ? r.id() : r.name() != null ? r.name() : netns.toString();
        if (id.isBlank() || id.length() > 200) {
            throw new SpecException("id", "an endpoint id is 1-200 characters, got \"" + id + "\"");
        }
        requireFreeId(id, "is already attached to network");
        return PendingEndpoint.attach(book, id, netns, r, claims);
    }

    /**
     * Step 1 of an endpoint whose runtime plumbs it itself (Docker): the interface will be made
     * here, given its MAC and alias, persistent, attached to the network; the addresses the
     * runtime's IPAM chose are taken from the pool, so no other endpoint gets them. Not in any
     * container until the runtime moves it ({@link #moved}).
     */
    PendingEndpoint prepareCreate(String network, String id, String address4, String address6, String mac, String owner) {
        EndpointBook book = book(network);
        requireFreeId(id, "exists already in network");
        return PendingEndpoint.create(book, id, address4, address6, mac, owner, claims);
    }

    private void requireFreeId(String id, String saying) {
        for (EndpointBook b : books.values()) {
            if (b.endpoints.containsKey(id) || b.pendingIds.contains(id)) {
                throw SpecException.conflict("id", "endpoint " + id + " " + saying + " " + b.name());
            }
        }
    }

    /**
     * Step 2, off the conductor: the endpoint's device made, in its container placed as asked, or
     * here readied for its runtime. Touches no book; all or nothing.
     */
    PortFactory.Opened open(PendingEndpoint p) throws PortFactory.OpenException {
        if (p.placement != null) {
            return ports.openIn(p.book.checked, p.portName, p.placement);
        }
        PortFactory.Opened opened = ports.open(p.book.checked, new PortSpec(p.portName, false, null));
        try {
            ports.handOver(opened.port(), p.mac, alias(p.book.name(), p.id));
        } catch (PortFactory.OpenException | RuntimeException e) {
            ports.discard(opened.port());
            opened.port().close();
            throw e;
        }
        return opened;
    }

    /** Step 3: the device attached, the endpoint kept and published; all or nothing. */
    Endpoint commit(PendingEndpoint p, PortFactory.Opened opened) throws PortFactory.OpenException {
        EndpointBook book = p.book;
        if (books.get(book.name()) != book) {
            abandon(p, opened);
            throw SpecException.notFound("network", "no network named \"" + book.name() + "\" (removed meanwhile)");
        }
        Port port = null;
        try {
            port = attachOpened(book, opened, !book.checked.icc());
            Endpoint endpoint = new Endpoint(p.spec(), port, book.name());
            book.endpoints.put(p.id, endpoint);
            p.settle();
            publish(book, true);
            if (p.placement != null) {
                LOG.info("endpoint {} attached to network {}: {} in {}{}", p.id, book.name(), p.placement.ifname(),
                        p.placement.netns(), p.ipv4 == null && p.ipv6 == null ? ", no address (the network has no subnet)"
                                : (p.ipv4 != null ? ", " + p.ipv4 : "") + (p.ipv6 != null ? ", " + p.ipv6 : ""));
                writeResolvConf(book, endpoint);
            } else {
                LOG.info("endpoint {} made in network {} for {}: {}{}", p.id, book.name(), p.owner, p.portName,
                        p.ipv4 != null ? ", " + p.ipv4 : "");
            }
            return endpoint;
        } catch (PortFactory.OpenException | RuntimeException e) {
            if (book.endpoints.remove(p.id) != null) {
                publish(book, false);
            }
            if (port != null) {
                ports.discard(port);
                dataplane.detach(port);
            }
            p.release();
            throw e;
        }
    }

    /** Not made after all (refused, or its caller gave up): the device let go, the reservations given back. */
    void abandon(PendingEndpoint p, PortFactory.Opened opened) {
        if (opened != null) {
            ports.discard(opened.port());
            opened.port().close();
        }
        p.release();
    }

    // ---- endpoints --------------------------------------------------------------------------

    /** The endpoint is in the sandbox at {@code netns} from now on (or back here, null). */
    Endpoint moved(String network, String id, String netns) {
        EndpointBook book = book(network);
        Endpoint e = book.endpoints.get(id);
        if (e == null) {
            throw SpecException.notFound("endpoint", "network " + network + " has no endpoint " + id);
        }
        Endpoint moved = new Endpoint(e.spec().inNamespace(netns), e.port(), network);
        book.endpoints.put(id, moved);
        return moved;
    }

    /** Whether the network has a gateway port (its gateway addresses answer). */
    boolean hasGatewayPort(String network) {
        EndpointBook book = books.get(network);
        return book != null && book.gatewayPort != null;
    }

    /** Finds an endpoint by what detach names it by; throws 404-kind when none matches. */
    Endpoint find(String network, Requests.Detach r) {
        return ContainerNamespace.find(network, book(network).endpoints.values(), r);
    }

    /** Detaches an endpoint: its TAP goes from the container, its addresses back to the pool. */
    void detach(Endpoint e) {
        EndpointBook book = book(e.network());
        book.endpoints.remove(e.spec().id());
        if (e.port() != null) {
            ports.discard(e.port());
            dataplane.detach(e.port());
        }
        book.release(e.spec().ipv4() == null ? null : Cidr.parseAddress(e.spec().ipv4()),
                e.spec().ipv6() == null ? null : Cidr.parseAddress(e.spec().ipv6()));
        publish(book, false);
        LOG.info("endpoint {} detached from network {}", e.spec().id(), e.network());
        if (resolvConf.remove(e.spec().netns(), e.network(), e.spec().id())) {
            // Another endpoint the operator attached in the same namespace gets it now.
            for (EndpointBook b : books.values()) {
                for (Endpoint other : b.endpoints.values()) {
                    if (e.spec().netns().equals(other.spec().netns())) {
                        writeResolvConf(b, other);
                        return;
                    }
                }
            }
        }
    }

    /**
     * A container the operator attached in a named namespace gets that namespace's resolv.conf
     * (what {@code ip netns exec} shows it): the gateway on a network with DNS, else the host's
     * resolvers; runtimes (CNI, Docker) write their containers' own.
     */
    private void writeResolvConf(EndpointBook book, Endpoint e) {
        EndpointSpec s = e.spec();
        if (s.netns() == null || !"cli".equals(s.owner())) {
            return;
        }
        List<InetAddress> gateways = new ArrayList<>();
        if (book.checked.dns() && s.ipv4() != null && book.checked.gateway4() != null) {
            gateways.add(book.checked.gateway4());
        }
        if (book.checked.dns() && s.ipv6() != null && book.checked.gateway6() != null) {
            gateways.add(book.checked.gateway6());
        }
        resolvConf.write(s.netns(), book.name(), s.id(), gateways);
    }

    // ---- what the switch answers ----------------------------------------------------------

    /** Publishes what the network's data path answers for, from its gateway and endpoints ({@link Answers}). */
    private void publish(EndpointBook book, boolean announce) {
        answers.publish(book.domain, book.checked, book.gatewayPort != null,
                book.pool4 == null ? null : book.pool4.gateway(), book.pool6 == null ? null : book.pool6.gateway(),
                book.endpoints.values(), book.neighbors, announce);
    }

    /**
     * Changes what other hosts of a cluster hold in this network: address -> the MAC of their
     * endpoint (ARP and neighbour solicitations answered here), 0 for an address in use with no
     * endpoint known, null for one no longer theirs. Neither kind is handed out here. Costs work
     * per address changed ({@link io.vswitch.core.RemoteNeighbors}), not per address held.
     */
    void updateRemote(String network, Map<InetAddress, Long> changes) {
        EndpointBook book = books.get(network);
        if (book == null) {
            return;
        }
        changes.forEach((ip, mac) -> {
            if (mac == null) {
                book.remote.remove(ip);
                book.neighbors.remove(ip.getAddress());
            } else {
                book.remote.put(ip, mac);
                book.neighbors.put(ip.getAddress(), mac);
            }
        });
    }

    /** A network's directory as published, for show and tests. */
    Directory directory(String network) {
        return book(network).domain.directory();
    }

    List<Endpoint> endpoints(String network) {
        EndpointBook book = books.get(network);
        return book == null ? List.of() : List.copyOf(book.endpoints.values());
    }

    List<EndpointSpec> specs(String network) {
        return endpoints(network).stream().map(Endpoint::spec).toList();
    }

    private EndpointBook book(String network) {
        EndpointBook b = books.get(network);
        if (b == null) {
            throw SpecException.notFound("network", "no network named \"" + network + "\"");
        }
        return b;
    }
}
