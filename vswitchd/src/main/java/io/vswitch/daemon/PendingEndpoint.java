package io.vswitch.daemon;

import io.vswitch.control.EndpointSpec;
import io.vswitch.control.Requests;
import io.vswitch.core.MacAddress;
import io.vswitch.ipam.Cidr;
import io.vswitch.tapio.Taps;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An endpoint being made: everything decided and reserved for it on the conductor (its id and
 * name, MAC, addresses, port name, and for a container where and how its interface is placed)
 * while its device is made off the conductor. It ends committed ({@link Attachments#commit}) or
 * released, its reservations given back ({@link #release}).
 */
final class PendingEndpoint {
    final EndpointBook book;
    final String id;
    final String name;
    final String portName;
    final long mac;
    final Cidr ipv4;
    final Cidr ipv6;
    final InetAddress gateway4;
    final InetAddress gateway6;
    final Integer mtu;
    final String owner;
    final List<String> aliases;
    /** Where the container's interface goes (null for a runtime that places it itself: Docker). */
    final Taps.Placement placement;

    private PendingEndpoint(EndpointBook book, String id, String name, String portName, long mac, Cidr ipv4, Cidr ipv6,
            InetAddress gateway4, InetAddress gateway6, Integer mtu, String owner, List<String> aliases,
            Taps.Placement placement) {
        this.book = book;
        this.id = id;
        this.name = name;
        this.portName = portName;
        this.mac = mac;
        this.ipv4 = ipv4;
        this.ipv6 = ipv6;
        this.gateway4 = gateway4;
        this.gateway6 = gateway6;
        this.mtu = mtu;
        this.owner = owner;
        this.aliases = aliases;
        this.placement = placement;
        book.pendingIds.add(id);
        if (name != null) {
            book.pendingNames.add(name);
        }
        book.pendingPorts.add(portName);
    }

    /**
     * A container to attach (see {@link Attachments}): every check, its addresses reserved (given
     * back when a later check refuses), its placement in its namespace. All or nothing.
     */
    static PendingEndpoint attach(EndpointBook book, String id, Path netns, Requests.Attach r, EndpointBook.Claims claims) {
        String network = book.name();
        if (r.name() != null && book.hasName(r.name())) {
            throw SpecException.conflict("name", "network " + network + " already has an endpoint named " + r.name());
        }
        List<String> aliases = Answers.aliases(r.aliases());
        String ifname = r.ifname() == null ? "eth0" : r.ifname();
        NetworkRules.checkPortName(ifname, "ifname");
        long mac = r.mac() == null ? EndpointBook.randomMac() : NetworkRules.mac(r.mac(), "mac");
        Cidr ipv4 = book.address(book.pool4, r.ip(), "ip", true, claims);
        Cidr ipv6;
        try {
            ipv6 = book.address(book.pool6, r.ip6(), "ip6", false, claims);
        } catch (RuntimeException e) {
            book.release(ipv4, null);
            throw e;
        }
        try {
            int mtu = book.checked.settings().mtu();
            if (r.mtu() != null && (r.mtu() < NetworkRules.MTU.min() || r.mtu() > mtu)) {
                throw new SpecException("mtu", "expected an MTU " + NetworkRules.MTU.min() + ".." + mtu
                        + " (at most the network's), got " + r.mtu());
            }
            List<Taps.Address> addresses = new ArrayList<>();
            if (ipv4 != null) {
                addresses.add(new Taps.Address(ipv4.address().getAddress(), ipv4.prefix()));
            }
            if (ipv6 != null) {
                addresses.add(new Taps.Address(ipv6.address().getAddress(), ipv6.prefix()));
            }
            InetAddress gateway4 = ipv4 == null ? null : EndpointBook.gateway(r.gateway(), book.pool4, "gateway", true);
            InetAddress gateway6 = ipv6 == null ? null : EndpointBook.gateway(r.gateway6(), book.pool6, "gateway6", false);
            List<byte[]> gateways = new ArrayList<>();
            if (!Boolean.TRUE.equals(r.noRoute())) {
                if (gateway4 != null) {
                    gateways.add(gateway4.getAddress());
                }
                if (gateway6 != null) {
                    gateways.add(gateway6.getAddress());
                }
            }
            String portName = book.freePortName();
            Taps.Placement placement = new Taps.Placement(netns, ifname, mac, r.mtu() == null ? 0 : r.mtu(), addresses,
                    gateways, Attachments.alias(network, id));
            return new PendingEndpoint(book, id, r.name(), portName, mac, ipv4, ipv6, gateway4, gateway6,
                    r.mtu() == null || r.mtu() == mtu ? null : r.mtu(), r.owner() == null ? "cli" : r.owner(), aliases,
                    placement);
        } catch (RuntimeException e) {
            book.release(ipv4, ipv6);
            throw e;
        }
    }

    /** An endpoint a runtime plumbs itself (Docker): the addresses its IPAM chose taken from the pool. */
    static PendingEndpoint create(EndpointBook book, String id, String address4, String address6, String macText,
            String owner, EndpointBook.Claims claims) {
        long mac = macText == null ? EndpointBook.randomMac() : NetworkRules.mac(macText, "mac");
        Cidr ipv4 = address4 == null ? null : book.address(book.pool4, address4, "ip", true, claims);
        Cidr ipv6;
        try {
            ipv6 = address6 == null ? null : book.address(book.pool6, address6, "ip6", false, claims);
        } catch (RuntimeException e) {
            book.release(ipv4, null);
            throw e;
        }
        return new PendingEndpoint(book, id, null, book.freePortName(), mac, ipv4, ipv6,
                book.pool4 == null || ipv4 == null ? null : book.pool4.gateway(),
                book.pool6 == null || ipv6 == null ? null : book.pool6.gateway(), null, owner, null, null);
    }

    /** The endpoint as it is kept once made. */
    EndpointSpec spec() {
        return new EndpointSpec(id, name, portName, placement == null ? null : placement.netns().toString(),
                placement == null ? null : placement.ifname(), MacAddress.toString(mac),
                ipv4 == null ? null : ipv4.toString(), ipv6 == null ? null : ipv6.toString(),
                gateway4 == null ? null : gateway4.getHostAddress(), gateway6 == null ? null : gateway6.getHostAddress(),
                mtu, owner, aliases);
    }

    /** Ends the reservation of its id, name and port name (committed or not). */
    void settle() {
        book.pendingIds.remove(id);
        if (name != null) {
            book.pendingNames.remove(name);
        }
        book.pendingPorts.remove(portName);
    }

    /** Not made after all: its reservations given back, its addresses to the pools. */
    void release() {
        settle();
        book.release(ipv4, ipv6);
    }
}
