package io.vswitch.daemon;

import io.vswitch.control.EndpointSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.control.Requests;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.Directory;
import io.vswitch.core.MacAddress;
import io.vswitch.core.Port;
import io.vswitch.core.Upstream;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.hostnet.SwitchTable;
import io.vswitch.ipam.AddressPool;
import io.vswitch.ipam.Cidr;
import io.vswitch.nativetap.NetworkNamespace;
import io.vswitch.tapio.Taps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
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
 * daemon. The address is taken from the subnet's pool before anything else and given back if
 * any step fails; the registry saves the endpoint before it answers, so no address is ever
 * handed out twice, whatever stops the daemon when. After a restart every endpoint's address is
 * reserved again and its TAP found again in its container; an endpoint whose TAP is gone keeps
 * its address until it is detached.
 *
 * <p>Whatever changes a network's endpoints publishes its {@link Directory} again: the addresses
 * and MACs the switch answers ARP and neighbour solicitations for, and, on a network with DNS
 * on, the names (and aliases) it answers for on the gateway address.
 *
 * <p>Called by the registry ({@link Daemon}) under its lock.
 */
public final class Attachments {
    private static final Logger LOG = LoggerFactory.getLogger(Attachments.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** An attached container and its port (null when its TAP was not found after a restart). */
    public record Endpoint(EndpointSpec spec, Port port, String network) {
    }

    /** One network's address pools, gateway port and endpoints. */
    private static final class Book {
        final NetworkRules.Network checked;
        final BridgeDomain domain;
        final AddressPool pool4;
        final AddressPool pool6;
        final Map<String, Endpoint> endpoints = new LinkedHashMap<>();
        /** Endpoints of other hosts (a cluster's): their addresses and MACs, answered here too. */
        Map<InetAddress, Long> remote = Map.of();
        Port gatewayPort;

        Book(NetworkRules.Network checked, BridgeDomain domain) {
            this.checked = checked;
            this.domain = domain;
            this.pool4 = checked.subnet4() == null ? null
                    : AddressPool.of(checked.subnet4().toString(), checked.gateway4().getHostAddress());
            this.pool6 = checked.subnet6() == null ? null
                    : AddressPool.of(checked.subnet6().toString(), checked.gateway6().getHostAddress());
        }
    }

    private final Dataplane dataplane;
    private final PortFactory ports;
    private final SwitchTable table;
    private final Answers answers;
    private final Map<String, Book> books = new LinkedHashMap<>();
    private Claims claims = (network, address) -> true;

    /** Asks whether an address may be given out here: in a cluster, whether another host has it. */
    @FunctionalInterface
    interface Claims {
        /** Claims {@code address} of {@code network} for this host; false when another host holds it. */
        boolean claim(String network, InetAddress address);
    }

    void claims(Claims c) {
        this.claims = c;
    }

    /** {@code upstream}: where names a network does not know go (null: REFUSED at once). */
    Attachments(Dataplane dataplane, PortFactory ports, SwitchTable table, Upstream upstream) {
        this.dataplane = dataplane;
        this.ports = ports;
        this.table = table;
        this.answers = new Answers(dataplane, upstream);
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
        Book book = new Book(checked, domain);
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
                book.gatewayPort = open(book, checked.gatewayPort(), false);
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
        Book book = books.remove(network);
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

    private Port open(Book book, String portName, boolean isolated) throws PortFactory.OpenException {
        return attachOpened(book, ports.open(book.checked, new PortSpec(portName, false, null)), isolated);
    }

    /** Attaches a port just opened to the network; when that fails its device goes, persistent or not. */
    private Port attachOpened(Book book, PortFactory.Opened opened, boolean isolated) throws PortFactory.OpenException {
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
    private void restore(Book book, EndpointSpec e) {
        try {
            reserve(book.pool4, e.ipv4(), "ipv4");
            reserve(book.pool6, e.ipv6(), "ipv6");
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

    private static void reserve(AddressPool pool, String cidr, String field) {
        if (pool == null || cidr == null) {
            return;
        }
        try {
            pool.reserve(Cidr.parseAddress(cidr).address());
        } catch (IllegalArgumentException e) {
            throw new SpecException(field, e.getMessage(), SpecException.Kind.CONFLICT);
        }
    }

    // ---- endpoints --------------------------------------------------------------------------

    /** Attaches a container (see the class comment); all or nothing. */
    Endpoint attach(String network, Requests.Attach r) throws PortFactory.OpenException {
        Book book = book(network);
        Path netns = namespace(r.netns(), r.pid());
        String id = r.id() != null ? r.id() : r.name() != null ? r.name() : netns.toString();
        if (id.isBlank() || id.length() > 200) {
            throw new SpecException("id", "an endpoint id is 1-200 characters, got \"" + id + "\"");
        }
        for (Book b : books.values()) {
            if (b.endpoints.containsKey(id)) {
                throw SpecException.conflict("id", "endpoint " + id + " is already attached to network " + b.checked.name());
            }
        }
        if (r.name() != null) {
            for (Endpoint e : book.endpoints.values()) {
                if (r.name().equals(e.spec().name())) {
                    throw SpecException.conflict("name", "network " + network + " already has an endpoint named " + r.name());
                }
            }
        }
        List<String> aliases = Answers.aliases(r.aliases());
        String ifname = r.ifname() == null ? "eth0" : r.ifname();
        NetworkRules.checkPortName(ifname, "ifname");
        long mac = r.mac() == null ? randomMac() : NetworkRules.mac(r.mac(), "mac");
        Cidr ipv4 = address(book, book.pool4, r.ip(), "ip", true);
        Cidr ipv6;
        try {
            ipv6 = address(book, book.pool6, r.ip6(), "ip6", false);
        } catch (RuntimeException e) {
            release(book, ipv4, null);
            throw e;
        }
        int mtu = book.checked.settings().mtu();
        if (r.mtu() != null && (r.mtu() < NetworkRules.MTU.min() || r.mtu() > mtu)) {
            release(book, ipv4, ipv6);
            throw new SpecException("mtu", "expected an MTU " + NetworkRules.MTU.min() + ".." + mtu
                    + " (at most the network's), got " + r.mtu());
        }
        String portName = freePortName(book);
        Port port = null;
        try {
            List<Taps.Address> addresses = new ArrayList<>();
            List<byte[]> gateways = new ArrayList<>();
            if (ipv4 != null) {
                addresses.add(new Taps.Address(ipv4.address().getAddress(), ipv4.prefix()));
            }
            if (ipv6 != null) {
                addresses.add(new Taps.Address(ipv6.address().getAddress(), ipv6.prefix()));
            }
            InetAddress gateway4 = ipv4 == null ? null : gateway(r.gateway(), book.pool4, "gateway", true);
            InetAddress gateway6 = ipv6 == null ? null : gateway(r.gateway6(), book.pool6, "gateway6", false);
            if (!Boolean.TRUE.equals(r.noRoute())) {
                if (gateway4 != null) {
                    gateways.add(gateway4.getAddress());
                }
                if (gateway6 != null) {
                    gateways.add(gateway6.getAddress());
                }
            }
            port = attachOpened(book, ports.openIn(book.checked, portName, new Taps.Placement(netns, ifname, mac,
                    r.mtu() == null ? 0 : r.mtu(), addresses, gateways, alias(network, id))), !book.checked.icc());
            EndpointSpec spec = new EndpointSpec(id, r.name(), portName, netns.toString(), ifname, MacAddress.toString(mac),
                    ipv4 == null ? null : ipv4.toString(), ipv6 == null ? null : ipv6.toString(),
                    gateway4 == null ? null : gateway4.getHostAddress(), gateway6 == null ? null : gateway6.getHostAddress(),
                    r.mtu() == null || r.mtu() == mtu ? null : r.mtu(), r.owner() == null ? "cli" : r.owner(), aliases);
            Endpoint endpoint = new Endpoint(spec, port, network);
            book.endpoints.put(id, endpoint);
            publish(book, true);
            LOG.info("endpoint {} attached to network {}: {} in {}{}{}", id, network, ifname, netns,
                    ipv4 != null ? ", " + ipv4 : "", ipv6 != null ? ", " + ipv6 : "");
            return endpoint;
        } catch (PortFactory.OpenException | RuntimeException e) {
            if (book.endpoints.remove(id) != null) {
                publish(book, false);
            }
            if (port != null) {
                ports.discard(port);
                dataplane.detach(port);
            }
            release(book, ipv4, ipv6);
            throw e;
        }
    }

    /**
     * An endpoint whose runtime plumbs it itself (Docker): the interface made here, given its
     * MAC and alias, persistent, attached to the network; the addresses the runtime's IPAM chose
     * are taken from the pool, so no other endpoint gets them. Not in any container until
     * {@link #join}. All or nothing.
     */
    Endpoint create(String network, String id, String address4, String address6, String macText, String owner)
            throws PortFactory.OpenException {
        Book book = book(network);
        for (Book b : books.values()) {
            if (b.endpoints.containsKey(id)) {
                throw SpecException.conflict("id", "endpoint " + id + " exists already in network " + b.checked.name());
            }
        }
        long mac = macText == null ? randomMac() : NetworkRules.mac(macText, "mac");
        Cidr ipv4 = address4 == null ? null : address(book, book.pool4, address4, "ip", true);
        Cidr ipv6;
        try {
            ipv6 = address6 == null ? null : address(book, book.pool6, address6, "ip6", false);
        } catch (RuntimeException e) {
            release(book, ipv4, null);
            throw e;
        }
        String portName = freePortName(book);
        Port port = null;
        try {
            port = open(book, portName, !book.checked.icc());
            ports.handOver(port, mac, alias(network, id));
            EndpointSpec spec = new EndpointSpec(id, null, portName, null, null, MacAddress.toString(mac),
                    ipv4 == null ? null : ipv4.toString(), ipv6 == null ? null : ipv6.toString(),
                    book.pool4 == null || ipv4 == null ? null : book.pool4.gateway().getHostAddress(),
                    book.pool6 == null || ipv6 == null ? null : book.pool6.gateway().getHostAddress(), null, owner, null);
            Endpoint e = new Endpoint(spec, port, network);
            book.endpoints.put(id, e);
            publish(book, true);
            LOG.info("endpoint {} made in network {} for {}: {}{}", id, network, owner, portName, ipv4 != null ? ", " + ipv4 : "");
            return e;
        } catch (PortFactory.OpenException | RuntimeException e) {
            if (book.endpoints.remove(id) != null) {
                publish(book, false);
            }
            if (port != null) {
                ports.discard(port);
                dataplane.detach(port);
            }
            release(book, ipv4, ipv6);
            throw e;
        }
    }

    /** The endpoint is in the sandbox at {@code netns} from now on (or back here, null). */
    Endpoint moved(String network, String id, String netns) {
        Book book = book(network);
        Endpoint e = book.endpoints.get(id);
        if (e == null) {
            throw SpecException.notFound("endpoint", "network " + network + " has no endpoint " + id);
        }
        EndpointSpec s = e.spec();
        Endpoint moved = new Endpoint(s.inNamespace(netns), e.port(), network);
        book.endpoints.put(id, moved);
        return moved;
    }

    /** Whether the network has a gateway port (its gateway addresses answer). */
    boolean hasGatewayPort(String network) {
        return book(network).gatewayPort != null;
    }

    /** Finds an endpoint by what detach names it by; throws 404-kind when none matches. */
    Endpoint find(String network, Requests.Detach r) {
        Book book = book(network);
        Long inode = null;
        Path ns = null;
        if (r.netns() != null || r.pid() != null) {
            ns = r.pid() != null ? Path.of("/proc/" + r.pid() + "/ns/net") : Path.of(r.netns());
            inode = inode(ns);
        }
        for (Endpoint e : book.endpoints.values()) {
            EndpointSpec s = e.spec();
            boolean match = r.id() != null ? r.id().equals(s.id())
                    : r.name() != null ? r.name().equals(s.name())
                    : ns != null && s.netns() != null && (s.netns().equals(ns.toString())
                            || (inode != null && inode.equals(inode(Path.of(s.netns())))));
            if (match) {
                return e;
            }
        }
        String what = r.id() != null ? "id " + r.id() : r.name() != null ? "name " + r.name()
                : ns != null ? "namespace " + ns : null;
        if (what == null) {
            throw new SpecException("detach", "say which endpoint: an id, a name, a namespace path or a pid");
        }
        throw SpecException.notFound("endpoint", "network " + network + " has no endpoint with " + what);
    }

    /** Detaches an endpoint: its TAP goes from the container, its addresses back to the pool. */
    void detach(Endpoint e) {
        Book book = book(e.network());
        book.endpoints.remove(e.spec().id());
        if (e.port() != null) {
            ports.discard(e.port());
            dataplane.detach(e.port());
        }
        release(book, e.spec().ipv4() == null ? null : Cidr.parseAddress(e.spec().ipv4()),
                e.spec().ipv6() == null ? null : Cidr.parseAddress(e.spec().ipv6()));
        publish(book, false);
        LOG.info("endpoint {} detached from network {}", e.spec().id(), e.network());
    }

    // ---- what the switch answers ----------------------------------------------------------

    /** Publishes what the network's data path answers for, from its gateway and endpoints ({@link Answers}). */
    private void publish(Book book, boolean announce) {
        answers.publish(book.domain, book.checked, book.gatewayPort != null,
                book.pool4 == null ? null : book.pool4.gateway(), book.pool6 == null ? null : book.pool6.gateway(),
                book.endpoints.values(), book.remote, announce);
    }

    /**
     * The endpoints other hosts of a cluster hold in this network (address -> MAC): ARP and
     * neighbour solicitations for them are answered here, and the pools hand out none of their
     * addresses. Republished only when it changed.
     */
    void setRemote(String network, Map<InetAddress, Long> remote) {
        Book book = books.get(network);
        if (book == null || book.remote.equals(remote)) {
            return;
        }
        book.remote = Map.copyOf(remote);
        publish(book, false);
    }

    /** A network's directory as published, for show and tests. */
    Directory directory(String network) {
        return book(network).domain.directory();
    }

    List<Endpoint> endpoints(String network) {
        Book book = books.get(network);
        return book == null ? List.of() : List.copyOf(book.endpoints.values());
    }

    List<EndpointSpec> specs(String network) {
        return endpoints(network).stream().map(Endpoint::spec).toList();
    }

    private Book book(String network) {
        Book b = books.get(network);
        if (b == null) {
            throw SpecException.notFound("network", "no network named \"" + network + "\"");
        }
        return b;
    }

    private static Path namespace(String netns, Integer pid) {
        if (netns != null && pid != null) {
            throw new SpecException("netns", "give a namespace path or a pid, not both");
        }
        Path p;
        if (pid != null) {
            if (pid < 1) {
                throw new SpecException("pid", "expected a process id, got " + pid);
            }
            p = Path.of("/proc/" + pid + "/ns/net");
            if (!Files.exists(p)) {
                throw new SpecException("pid", "no process " + pid + " (no " + p + ")");
            }
        } else if (netns != null) {
            p = Path.of(netns);
            if (!p.isAbsolute()) {
                throw new SpecException("netns", "expected an absolute path such as /var/run/netns/NAME, got \"" + netns + "\"");
            }
            if (!Files.exists(p)) {
                throw new SpecException("netns", "network namespace " + netns + " does not exist");
            }
        } else {
            throw new SpecException("netns", "say where the container is: a namespace path or a pid");
        }
        try {
            NetworkNamespace.close(NetworkNamespace.open(p));
        } catch (io.vswitch.nativetap.NativeCallException e) {
            throw new SpecException("netns", e.getMessage());
        }
        return p;
    }

    private static Long inode(Path ns) {
        try {
            int fd = NetworkNamespace.open(ns);
            try {
                return NetworkNamespace.inodeOf(fd);
            } finally {
                NetworkNamespace.close(fd);
            }
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The address asked for (reserved in the pool), or the pool's next one, or none. Addresses
     * that endpoints of other hosts hold ({@code remote}) are neither handed out nor granted.
     */
    private Cidr address(Book book, AddressPool pool, String requested, String field, boolean ipv4) {
        Map<InetAddress, Long> remote = book.remote;
        String network = book.checked.name();
        if (requested == null) {
            if (pool == null) {
                return null;
            }
            List<InetAddress> skipped = new ArrayList<>();
            try {
                InetAddress a = pool.allocate();
                while (remote.containsKey(a) || !claims.claim(network, a)) {
                    skipped.add(a);
                    if (skipped.size() > remote.size() + 64) {
                        throw SpecException.conflict(field, "no address of " + pool.subnet() + " is free in the cluster"
                                + " (" + skipped.size() + " tried)");
                    }
                    a = pool.allocate();
                }
                return new Cidr(a, pool.prefix());
            } catch (IllegalStateException e) {
                throw SpecException.conflict(field, e.getMessage());
            } finally {
                skipped.forEach(pool::release);
            }
        }
        Cidr c;
        try {
            if (requested.contains("/")) {
                c = Cidr.parseAddress(requested);
            } else if (pool != null) {
                c = new Cidr(Cidr.literal(requested), pool.prefix());
            } else {
                throw new SpecException(field, "the network has no subnet: give the address with its prefix, such as "
                        + (ipv4 ? "198.18.61.5/24" : "fd00::5/64"));
            }
        } catch (IllegalArgumentException e) {
            throw new SpecException(field, e.getMessage());
        }
        if ((c.address() instanceof Inet4Address) != ipv4) {
            throw new SpecException(field, "expected an " + (ipv4 ? "IPv4" : "IPv6") + " address, got " + requested);
        }
        if (remote.containsKey(c.address()) || !claims.claim(network, c.address())) {
            throw SpecException.conflict(field, c.address().getHostAddress() + " is in use by an endpoint of another host");
        }
        if (pool != null) {
            String why = pool.refusal(c.address());
            if (why != null) {
                throw new SpecException(field, why, why.contains("in use") ? SpecException.Kind.CONFLICT : SpecException.Kind.INVALID);
            }
            pool.reserve(c.address());
        }
        return c;
    }

    private static InetAddress gateway(String requested, AddressPool pool, String field, boolean ipv4) {
        if (requested == null) {
            return pool == null ? null : pool.gateway();
        }
        try {
            InetAddress g = Cidr.literal(requested);
            if ((g instanceof Inet4Address) != ipv4) {
                throw new SpecException(field, "expected an " + (ipv4 ? "IPv4" : "IPv6") + " gateway, got " + requested);
            }
            return g;
        } catch (IllegalArgumentException e) {
            throw new SpecException(field, e.getMessage());
        }
    }

    private static void release(Book book, Cidr ipv4, Cidr ipv6) {
        if (book.pool4 != null && ipv4 != null) {
            book.pool4.release(ipv4.address());
        }
        if (book.pool6 != null && ipv6 != null) {
            book.pool6.release(ipv6.address());
        }
    }

    /** A port name no port of the network has: "vs" and 8 random hex digits (a device name in the daemon's namespace). */
    private static String freePortName(Book book) {
        for (;;) {
            String name = String.format("vs%08x", RANDOM.nextInt());
            if (book.domain.port(name) == null) {
                return name;
            }
        }
    }

    /** A random locally administered unicast MAC (02:xx:xx:xx:xx:xx). */
    private static long randomMac() {
        long mac = RANDOM.nextLong() & 0x00FF_FFFF_FFFFL;
        return 0x0200_0000_0000L | mac;
    }
}
