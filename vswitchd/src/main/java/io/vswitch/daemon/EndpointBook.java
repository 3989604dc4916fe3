package io.vswitch.daemon;

import io.vswitch.core.BridgeDomain;
import io.vswitch.core.Port;
import io.vswitch.ipam.AddressPool;
import io.vswitch.ipam.Cidr;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One network's book of endpoints: its address pools, the endpoints attached, those being made
 * (their id, name and port name reserved until they commit or are undone), its gateway port, and
 * the endpoints other hosts of a cluster hold. It decides which addresses an endpoint gets: the
 * one asked for if free, else the pool's next, never one another host holds ({@code remote}, or
 * a claim in etcd that fails). Conductor thread only.
 */
final class EndpointBook {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Asks whether an address may be given out here: in a cluster, whether another host has it. */
    @FunctionalInterface
    interface Claims {
        /** Claims {@code address} of {@code network} for this host; false when another host holds it. */
        boolean claim(String network, InetAddress address);
    }

    final NetworkRules.Network checked;
    final BridgeDomain domain;
    final AddressPool pool4;
    final AddressPool pool6;
    final Map<String, Attachments.Endpoint> endpoints = new LinkedHashMap<>();
    /** Ids, names and port names of endpoints being made: taken until they commit or are undone. */
    final Set<String> pendingIds = new HashSet<>();
    final Set<String> pendingNames = new HashSet<>();
    final Set<String> pendingPorts = new HashSet<>();
    /**
     * Addresses of other hosts (a cluster's) -> their endpoint's MAC, or 0 for an address claimed
     * with no endpoint known yet: none is handed out here. Those with a MAC are also in
     * {@link #neighbors}, answered here.
     */
    final Map<InetAddress, Long> remote = new java.util.HashMap<>();
    final io.vswitch.core.RemoteNeighbors neighbors = new io.vswitch.core.RemoteNeighbors();
    Port gatewayPort;

    EndpointBook(NetworkRules.Network checked, BridgeDomain domain) {
        this.checked = checked;
        this.domain = domain;
        this.pool4 = checked.subnet4() == null ? null
                : AddressPool.of(checked.subnet4().toString(), checked.gateway4().getHostAddress());
        this.pool6 = checked.subnet6() == null ? null
                : AddressPool.of(checked.subnet6().toString(), checked.gateway6().getHostAddress());
    }

    String name() {
        return checked.name();
    }

    /** Whether an endpoint of this network has (or is being made with) that name. */
    boolean hasName(String name) {
        if (pendingNames.contains(name)) {
            return true;
        }
        for (Attachments.Endpoint e : endpoints.values()) {
            if (name.equals(e.spec().name())) {
                return true;
            }
        }
        return false;
    }

    /** After a restart: an endpoint's addresses taken again. */
    void reserve(AddressPool pool, String cidr, String field) {
        if (pool == null || cidr == null) {
            return;
        }
        try {
            pool.reserve(Cidr.parseAddress(cidr).address());
        } catch (IllegalArgumentException e) {
            throw new SpecException(field, e.getMessage(), SpecException.Kind.CONFLICT);
        }
    }

    /**
     * The address asked for (reserved in the pool), or the pool's next one, or none. Addresses
     * that endpoints of other hosts hold ({@code remote}) are neither handed out nor granted.
     */
    Cidr address(AddressPool pool, String requested, String field, boolean ipv4, Claims claims) {
        String network = checked.name();
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

    /** The gateway asked for, else the pool's (null without a pool). */
    static InetAddress gateway(String requested, AddressPool pool, String field, boolean ipv4) {
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

    /** Gives addresses back to the pools. */
    void release(Cidr ipv4, Cidr ipv6) {
        if (pool4 != null && ipv4 != null) {
            pool4.release(ipv4.address());
        }
        if (pool6 != null && ipv6 != null) {
            pool6.release(ipv6.address());
        }
    }

    /** A port name no port of the network has nor is being made with: "vs" and 8 random hex digits. */
    String freePortName() {
        for (;;) {
            String name = String.format("vs%08x", RANDOM.nextInt());
            if (domain.port(name) == null && !pendingPorts.contains(name)) {
                return name;
            }
        }
    }

    /** A random locally administered unicast MAC (02:xx:xx:xx:xx:xx). */
    static long randomMac() {
        long mac = RANDOM.nextLong() & 0x00FF_FFFF_FFFFL;
        return 0x0200_0000_0000L | mac;
    }
}
