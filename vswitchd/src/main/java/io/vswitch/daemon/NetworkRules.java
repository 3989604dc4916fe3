package io.vswitch.daemon;

import io.vswitch.control.MirrorSpec;
import io.vswitch.control.NetworkSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.control.StaticEntry;
import io.vswitch.control.StormSpec;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.MacAddress;
import io.vswitch.core.NetworkSettings;
import io.vswitch.core.StormControl;
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
    public static final Range VLAN = new Range(1, 4094);
    public static final Range MAC_MOVE_LIMIT = new Range(0, 1_000_000);
    public static final Range MAC_MOVE_HOLD_SECONDS = new Range(1, 3600);
    public static final Range STORM_RATE = new Range(0, 100_000_000);
    public static final Range PORT_MAC_LIMIT = new Range(1, 1 << 20);
    public static final Pattern MIRROR_NAME = Pattern.compile("[a-z0-9-]{1,15}");
    /**
     * Storm limits of a port that sets none, in a network that sets none: generous for what
     * containers send (ARP, neighbour discovery, mDNS) and low enough that frames circling a
     * loop cannot keep the switch's loops busy.
     */
    public static final StormControl.Limits DEFAULT_STORM = new StormControl.Limits(20_000, 20_000, 100_000);

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
        Integer vlan = spec.vlan() == null ? null : (int) in(VLAN, spec.vlan(), "vlan");
        if (vlan != null && vni != null) {
            throw new SpecException("vlan", "an overlay network is carried by VXLAN (vni " + vni + "), not by a VLAN");
        }
        int moveLimit = spec.macMoveLimit() == null ? NetworkSettings.DEFAULT_MAC_MOVE_LIMIT
                : (int) in(MAC_MOVE_LIMIT, spec.macMoveLimit(), "mac-move-limit");
        long moveHold = spec.macMoveHoldSeconds() == null ? NetworkSettings.DEFAULT_MAC_MOVE_HOLD.toSeconds()
                : in(MAC_MOVE_HOLD_SECONDS, spec.macMoveHoldSeconds(), "mac-move-hold");
        storm(spec.storm(), "storm");
        Set<String> mirrorable = new HashSet<>(portNames);
        spec.endpoints().forEach(e -> mirrorable.add(e.port()));
        if (gatewayPort) {
            mirrorable.add(gatewayPortName(name));
        }
        List<MirrorSpec> mirrors = mirrors(spec.mirrors(), mirrorable);
        NetworkSpec normal = new NetworkSpec(name, mtu, aging, limit, vni,
                peers.stream().map(InetAddress::getHostAddress).toList(), persist, offload, ports, spec.statics(),
                pool4 == null ? null : pool4.subnet().toString(), pool4 == null ? null : pool4.gateway().getHostAddress(),
                pool6 == null ? null : pool6.subnet().toString(), pool6 == null ? null : pool6.gateway().getHostAddress(),
                gatewayPort ? true : null, masquerade ? true : null, icc ? null : false, spec.endpoints(), dns ? true : null,
                vlan, spec.macMoveLimit(), spec.macMoveHoldSeconds(), spec.storm(), mirrors);
        NetworkSettings settings = new NetworkSettings(name, mtu, Duration.ofSeconds(aging), limit, offload, moveLimit,
                Duration.ofSeconds(moveHold));
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

    /** Checks storm limits (any may be null: inherited). */
    static void storm(StormSpec s, String field) {
        if (s == null) {
            return;
        }
        if (s.broadcast() != null) {
            in(STORM_RATE, s.broadcast(), field + ".broadcast");
        }
        if (s.multicast() != null) {
            in(STORM_RATE, s.multicast(), field + ".multicast");
        }
        if (s.unknownUnicast() != null) {
            in(STORM_RATE, s.unknownUnicast(), field + ".unknown-unicast");
        }
    }

    /**
     * The storm limits a port of {@code network} gets: each kind from the port's own spec, else
     * the network's, else {@link #DEFAULT_STORM}.
     */
    public static StormControl.Limits stormOf(PortSpec port, NetworkSpec network) {
        StormSpec p = port == null ? null : port.storm();
        StormSpec n = network.storm();
        return new StormControl.Limits(
                pick(p == null ? null : p.broadcast(), n == null ? null : n.broadcast(), DEFAULT_STORM.broadcast()),
                pick(p == null ? null : p.multicast(), n == null ? null : n.multicast(), DEFAULT_STORM.multicast()),
                pick(p == null ? null : p.unknownUnicast(), n == null ? null : n.unknownUnicast(),
                        DEFAULT_STORM.unknownUnicast()));
    }

    /**
     * Gives a port, before it is attached, what the rules say of it beyond its device: its storm
     * limits ({@link #stormOf}) and its own mac-limit. {@code spec} is null for a port the
     * daemon makes for an endpoint or a gateway (the network's settings then).
     */
    static void configure(io.vswitch.core.Port port, PortSpec spec, Network network,
            io.vswitch.dataplane.Dataplane dataplane) {
        StormControl.Limits limits = stormOf(spec, network.spec());
        // The rate is shared by the loops that read the port: one per queue (a tunnel or a
        // port of a trunk reads through others: every loop may).
        int readers = port.queueCount() > 0 ? Math.min(port.queueCount(), dataplane.threads()) : dataplane.threads();
        port.setStorm(limits.isNone() ? null : new StormControl(limits, dataplane.lanes(), readers));
        port.setMacLimit(spec == null || spec.macLimit() == null ? 0 : spec.macLimit());
    }

    private static long pick(Long first, Long second, long fallback) {
        return first != null ? first : second != null ? second : fallback;
    }

    /** Checks a network's mirrors against its ports: names, directions, an output that is not mirrored. */
    static List<MirrorSpec> mirrors(List<MirrorSpec> mirrors, Set<String> portNames) {
        List<MirrorSpec> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> outputs = new HashSet<>();
        for (int i = 0; i < mirrors.size(); i++) {
            String key = "mirror[" + i + "]";
            MirrorSpec m = mirrors.get(i);
            if (m == null || m.name() == null || !MIRROR_NAME.matcher(m.name()).matches()) {
                throw new SpecException(key + ".name", "expected 1-15 characters [a-z0-9-], got "
                        + (m == null || m.name() == null ? "nothing" : "\"" + m.name() + "\""));
            }
            if (!names.add(m.name())) {
                throw new SpecException(key + ".name", "duplicate mirror \"" + m.name() + "\"");
            }
            String direction = m.direction() == null ? "both" : m.direction();
            if (!Set.of("in", "out", "both").contains(direction)) {
                throw new SpecException(key + ".direction", "expected in, out or both, got \"" + direction + "\"");
            }
            if (m.output() == null || !portNames.contains(m.output())) {
                throw new SpecException(key + ".output", "expected a port of the network to send the copies to, got "
                        + (m.output() == null ? "nothing" : "\"" + m.output() + "\""));
            }
            if (!outputs.add(m.output())) {
                throw new SpecException(key + ".output", "port " + m.output() + " is already another mirror's output");
            }
            for (int j = 0; j < m.ports().size(); j++) {
                String p = m.ports().get(j);
                if (!portNames.contains(p)) {
                    throw new SpecException(key + ".ports[" + j + "]", "the network has no port \"" + p + "\"");
                }
                if (p.equals(m.output())) {
                    throw new SpecException(key + ".ports[" + j + "]", "a mirror's output cannot be mirrored by it");
                }
            }
            out.add(new MirrorSpec(m.name(), m.ports(), direction, m.output()));
        }
        for (MirrorSpec m : out) {
            for (String p : m.ports()) {
                if (outputs.contains(p)) {
                    throw new SpecException("mirror", "port " + p + " is a mirror's output and cannot be mirrored");
                }
            }
        }
        return out;
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
        if (p.type() != null && !p.type().equals(PortSpec.TAP) && !p.type().equals(PortSpec.UPLINK)) {
            throw new SpecException(field + ".type", "expected tap or uplink, got \"" + p.type() + "\"");
        }
        if (p.isUplink() && (!networkOffload || Boolean.FALSE.equals(p.offload()))) {
            throw new SpecException(field + ".type", "an uplink needs offloads (the network's offload: true): a NIC"
                    + " hands over merged (GRO) frames and unfinished checksums, which cross only with their"
                    + " virtio-net header");
        }
        if (p.isUplink() && p.persistent()) {
            throw new SpecException(field + ".persist", "an uplink is a host interface the daemon does not make: it"
                    + " cannot be persistent");
        }
        if (p.isTrunk() && !p.isUplink() && (p.persistent() || networkPersist)) {
            throw new SpecException(field + ".trunk", "a TAP trunk is made for the daemon's life: it cannot be persistent");
        }
        if (p.macLimit() != null) {
            in(PORT_MAC_LIMIT, p.macLimit(), field + ".mac-limit");
        }
        storm(p.storm(), field + ".storm");
        return new PortSpec(p.name(), p.isUplink() ? null : p.persistent() || networkPersist,
                Boolean.FALSE.equals(p.offload()) && networkOffload ? Boolean.FALSE : null,
                p.isUplink() ? PortSpec.UPLINK : null, p.isTrunk() ? true : null, p.macLimit(), p.storm());
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
