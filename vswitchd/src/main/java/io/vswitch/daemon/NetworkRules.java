package io.vswitch.daemon;

import io.vswitch.control.NetworkSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.control.StaticEntry;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.MacAddress;
import io.vswitch.core.NetworkSettings;
import io.vswitch.ipam.AddressPool;
import io.vswitch.ipam.Cidr;
import io.vswitch.vxlan.VxlanHeader;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Every rule a network must follow and every default it gets, in one place: the config file and
 * the control API both hand their {@link NetworkSpec} to {@link #check}, which refuses the first
 * bad field with a {@link SpecException} naming it, or returns the network as it will be built,
 * every default filled in. Rules that need to know the host (the underlay MTU, the VTEP address)
 * take them from {@link Host}; rules about other networks (a name, port or VNI already in use)
 * are the registry's.
 */
public final class NetworkRules {
    /** An inclusive range of integers, as the error messages print it. */
    public record Range(long min, long max) {
        boolean contains(long v) {
            return v >= min && v <= max;
        }

        @Override
        public String toString() {
            return min + ".." + max;
        }
    }

    public static final Pattern NETWORK_NAME = Pattern.compile("[a-z0-9-]{1,15}");
    /** What the kernel takes as an interface name (dev_valid_name), in the characters we allow. */
    public static final Pattern DEVICE_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
    /** 68 is IPv4's minimum; at 65517 a frame with Ethernet header and tag still fits 64 KB. */
    public static final Range MTU = new Range(68, 65535 - EthernetFrame.MAX_OVERHEAD);
    public static final Range MAC_AGING_SECONDS = new Range(1, Duration.ofDays(365).toSeconds());
    public static final Range MAC_LIMIT = new Range(1, 1 << 20);
    public static final Range VNI = new Range(1, VxlanHeader.MAX_VNI);

    /**
     * What the rules need to know about this host: the underlay MTU and the VTEP's address
     * ({@code vxlanLocal} null when the daemon has no {@code vxlan:} section).
     */
    public record Host(Inet4Address vxlanLocal, String underlay, int underlayMtu) {
        public static final Host NO_VXLAN = new Host(null, null, 0);

        public boolean hasVxlan() {
            return vxlanLocal != null;
        }
    }

    /**
     * A network as it will be built: the spec with every default filled in, parsed. {@code subnet4}
     * and {@code subnet6} with their gateways are the address plan (null without IPAM);
     * {@code gatewayPort} the name of the port that holds the gateway addresses in the daemon's
     * namespace (null when there is none).
     */
    public record Network(NetworkSpec spec, NetworkSettings settings, Integer vni, List<Inet4Address> peers,
            List<PortSpec> ports, List<Static> statics, Cidr subnet4, InetAddress gateway4, Cidr subnet6,
            InetAddress gateway6, String gatewayPort, boolean masquerade, boolean icc, boolean dns) {
        public String name() {
            return spec.name();
        }

        public boolean isOverlay() {
            return vni != null;
        }
    }

    /** A static entry, parsed. */
    public record Static(long mac, String port) {
    }

    private NetworkRules() {
    }

    /** Checks {@code spec} and fills in its defaults; throws naming the first field that breaks a rule. */
    public static Network check(NetworkSpec spec, Host host) {
        String name = spec.name();
        if (name == null) {
            throw new SpecException("name", "missing: every network needs a name (1-15 characters [a-z0-9-])");
        }
        if (!NETWORK_NAME.matcher(name).matches()) {
            throw new SpecException("name", "expected 1-15 characters [a-z0-9-], got \"" + name + "\"");
        }
        Integer vni = spec.vni();
        if (vni != null) {
            in(VNI, vni, "vni");
            if (!host.hasVxlan()) {
                throw new SpecException("vni", "an overlay network needs a 'vxlan:' section with the local underlay address"
                        + " in the daemon's config");
            }
        }
        int overlayMax = host.underlayMtu() - VxlanHeader.IPV4_OVERHEAD;
        int mtu;
        if (spec.mtu() == null) {
            mtu = vni != null ? overlayMax : NetworkSettings.DEFAULT_MTU;
        } else {
            mtu = (int) in(MTU, spec.mtu(), "mtu");
            if (vni != null && mtu > overlayMax) {
                throw new SpecException("mtu", "mtu " + mtu + " + " + VxlanHeader.IPV4_OVERHEAD
                        + " bytes of VXLAN encapsulation exceeds the MTU " + host.underlayMtu() + " of underlay interface "
                        + host.underlay() + " (" + host.vxlanLocal().getHostAddress() + "); use at most " + overlayMax);
            }
        }
        long aging = spec.macAgingSeconds() == null ? NetworkSettings.DEFAULT_MAC_AGING.toSeconds()
                : in(MAC_AGING_SECONDS, spec.macAgingSeconds(), "mac-aging");
        int limit = spec.macLimit() == null ? NetworkSettings.DEFAULT_MAC_LIMIT
                : (int) in(MAC_LIMIT, spec.macLimit(), "mac-limit");
        List<Inet4Address> peers = peers(spec, host);
        boolean persist = spec.persistent();
        boolean offload = spec.offload() == null || spec.offload();
        List<PortSpec> ports = new ArrayList<>();
        Set<String> portNames = new HashSet<>();
        for (int i = 0; i < spec.ports().size(); i++) {
            PortSpec p = port(spec.ports().get(i), name, persist, offload, "ports[" + i + "]");
            if (!portNames.add(p.name())) {
                throw new SpecException("ports[" + i + "]", "duplicate port \"" + p.name() + "\" in network " + name);
            }
            ports.add(p);
        }
        List<Static> statics = new ArrayList<>();
        for (int i = 0; i < spec.statics().size(); i++) {
            StaticEntry s = spec.statics().get(i);
            long mac = mac(s.mac(), "statics[" + i + "].mac");
            String port = s.port();
            boolean tunnel = port != null && peers.stream().anyMatch(p -> ("vxlan:" + p.getHostAddress()).equals(port));
            if (port == null || !(portNames.contains(port) || tunnel)) {
                throw new SpecException("statics[" + i + "].port", "network " + name + " has no port \"" + port + "\"");
            }
            statics.add(new Static(mac, port));
        }
        AddressPool pool4 = pool(spec.subnet(), spec.gateway(), true);
        AddressPool pool6 = pool(spec.subnet6(), spec.gateway6(), false);
        boolean gatewayPort = Boolean.TRUE.equals(spec.gatewayPort());
        boolean masquerade = Boolean.TRUE.equals(spec.masquerade());
        boolean icc = spec.icc() == null || spec.icc();
        boolean dns = Boolean.TRUE.equals(spec.dns());
        if (dns && pool4 == null && pool6 == null) {
            throw new SpecException("dns", "the switch answers DNS on the gateway address: dns needs a subnet");
        }
        if (gatewayPort && pool4 == null && pool6 == null) {
            throw new SpecException("gateway-port", "a gateway port needs a subnet (and its gateway) to hold");
        }
        if (masquerade && !gatewayPort) {
            throw new SpecException("masquerade", "masquerade needs gateway-port: true, so that the daemon's namespace "
                    + "is the containers' gateway and routes for them");
        }
        String gatewayName = gatewayPort ? gatewayPortName(name) : null;
        if (gatewayName != null && portNames.contains(gatewayName)) {
            throw new SpecException("gateway-port", "the gateway port's name " + gatewayName + " is already a port of "
                    + name);
        }
        NetworkSpec normal = new NetworkSpec(name, mtu, aging, limit, vni,
                peers.stream().map(InetAddress::getHostAddress).toList(), persist, offload, ports, spec.statics(),
                pool4 == null ? null : pool4.subnet().toString(), pool4 == null ? null : pool4.gateway().getHostAddress(),
                pool6 == null ? null : pool6.subnet().toString(), pool6 == null ? null : pool6.gateway().getHostAddress(),
                gatewayPort ? true : null, masquerade ? true : null, icc ? null : false, spec.endpoints(), dns ? true : null);
        NetworkSettings settings = new NetworkSettings(name, mtu, Duration.ofSeconds(aging), limit, offload);
        return new Network(normal, settings, vni, List.copyOf(peers), List.copyOf(ports), List.copyOf(statics),
                pool4 == null ? null : pool4.subnet(), pool4 == null ? null : pool4.gateway(),
                pool6 == null ? null : pool6.subnet(), pool6 == null ? null : pool6.gateway(), gatewayName, masquerade, icc, dns);
    }

    /**
     * The address plan of one family: a subnet and its gateway (default: its first address),
     * checked by the pool that will hand out its addresses; null when the network has none.
     */
    private static AddressPool pool(String subnet, String gateway, boolean ipv4) {
        String field = ipv4 ? "subnet" : "subnet6";
        if (subnet == null) {
            if (gateway != null) {
                throw new SpecException(ipv4 ? "gateway" : "gateway6", "a gateway needs its " + field);
            }
            return null;
        }
        try {
            AddressPool pool = AddressPool.of(subnet, gateway);
            if (pool.subnet().isIpv4() != ipv4) {
                throw new SpecException(field, "expected an " + (ipv4 ? "IPv4" : "IPv6") + " subnet, got " + subnet);
            }
            return pool;
        } catch (IllegalArgumentException e) {
            throw new SpecException(e.getMessage().startsWith("gateway") ? (ipv4 ? "gateway" : "gateway6") : field,
                    e.getMessage());
        }
    }

    /** The gateway port's device name: "vs-" and the network's name (shortened with a hash past 12 characters). */
    public static String gatewayPortName(String network) {
        return network.length() <= 12 ? "vs-" + network
                : "vs-" + network.substring(0, 8) + String.format("%04x", network.hashCode() & 0xFFFF);
    }

    /**
     * Checks a port of network {@code network} and resolves what it inherits: persistent when the
     * network is; {@code offload} false kept only where the network has offloads to turn off.
     */
    public static PortSpec port(PortSpec p, String network, boolean networkPersist, boolean networkOffload, String field) {
        if (p == null || p.name() == null) {
            throw new SpecException(field, "missing: a port needs a device name");
        }
        checkPortName(p.name(), field);
        if (Boolean.TRUE.equals(p.offload()) && !networkOffload) {
            throw new SpecException(field, "network " + network + " has offloads off; a port cannot turn them on alone");
        }
        return new PortSpec(p.name(), p.persistent() || networkPersist,
                Boolean.FALSE.equals(p.offload()) && networkOffload ? Boolean.FALSE : null);
    }

    private static List<Inet4Address> peers(NetworkSpec spec, Host host) {
        if (spec.vni() == null) {
            if (!spec.peers().isEmpty()) {
                throw new SpecException("peers", "peers need a vni: only an overlay network has remote VTEPs");
            }
            return List.of();
        }
        return peers(spec.peers(), host, "peers");
    }

    /** Checks a list of remote VTEPs: IPv4 unicast literals, not this host's VTEP, no duplicates. */
    public static List<Inet4Address> peers(List<String> texts, Host host, String field) {
        List<Inet4Address> peers = new ArrayList<>();
        for (int j = 0; j < texts.size(); j++) {
            String key = field + "[" + j + "]";
            Inet4Address peer = unicastIpv4(texts.get(j), key);
            if (peer.equals(host.vxlanLocal())) {
                throw new SpecException(key, "a peer cannot be the local address " + peer.getHostAddress());
            }
            if (peers.contains(peer)) {
                throw new SpecException(key, "duplicate peer " + peer.getHostAddress());
            }
            peers.add(peer);
        }
        return peers;
    }

    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

    /** An IPv4 address literal (never a host name: no DNS lookups). */
    public static Inet4Address ipv4(String text, String field) {
        if (text == null || !IPV4.matcher(text.trim()).matches()) {
            throw new SpecException(field, "expected an IPv4 address such as 198.19.0.2, got \"" + text + "\"");
        }
        return (Inet4Address) InetAddress.ofLiteral(text.trim());
    }

    /** An IPv4 address a datagram can be sent to alone: not 0.0.0.0, not multicast or broadcast. */
    public static Inet4Address unicastIpv4(String text, String field) {
        Inet4Address a = ipv4(text, field);
        if (a.isAnyLocalAddress() || a.isMulticastAddress() || a.getHostAddress().equals("255.255.255.255")) {
            throw new SpecException(field, "expected a unicast IPv4 address of a remote VTEP, got " + a.getHostAddress()
                    + (a.isMulticastAddress() ? " (multicast)" : a.isAnyLocalAddress() ? " (unspecified)" : " (broadcast)"));
        }
        return a;
    }

    /** A port's device name: what the kernel accepts, within the characters we allow. */
    public static void checkPortName(String name, String field) {
        if (name == null || !DEVICE_NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
            throw new SpecException(field, "expected a device name of 1-15 characters [A-Za-z0-9_.-] (not . or ..), got \""
                    + name + "\"");
        }
    }

    /** A MAC a static entry can hold: unicast and not zero. */
    public static long mac(String text, String field) {
        if (text == null) {
            throw new SpecException(field, "a MAC address is required");
        }
        long mac;
        try {
            mac = MacAddress.parse(text);
        } catch (IllegalArgumentException e) {
            throw new SpecException(field, e.getMessage());
        }
        if (!MacAddress.isValidSource(mac)) {
            throw new SpecException(field, "a static entry needs a unicast, non-zero MAC, got " + text);
        }
        return mac;
    }

    private static long in(Range range, long value, String field) {
        if (!range.contains(value)) {
            throw new SpecException(field, "expected an integer " + range + ", got " + value);
        }
        return value;
    }
}
