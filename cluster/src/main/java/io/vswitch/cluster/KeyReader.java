package io.vswitch.cluster;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.regex.Pattern;

/**
 * Reads one key and its value as the daemons write them ({@link Keys}) and checks everything
 * that can be checked without the rest of the cluster: the key's shape and names, sizes, the
 * JSON schema, the VTEP against the underlay ({@link Underlay}), the VXLAN port, the MAC, the
 * addresses, a network's VNI and subnets, and that a host's key is under a lease. What needs
 * the rest (leases of hosts, address claims, subnets of networks) is {@link ClusterState}'s.
 *
 * <p>Pure and total: any key and any bytes give an {@link Entry} or a {@link Refusal}, never an
 * exception. Cheap on junk: sizes and the key's shape are checked before any JSON is parsed.
 */
public final class KeyReader {
    /** The largest key (without the prefix) the daemons write: a network and an IPv6 address. */
    public static final int MAX_KEY = 128;
    /** The largest value of a host, member, endpoint or claim (they are tens of bytes). */
    public static final int MAX_VALUE = 1024;
    /** The largest network spec. */
    public static final int MAX_NETWORK = 8192;

    private static final Pattern HOST = Pattern.compile("[a-z0-9][a-z0-9.-]{0,62}");
    private static final Pattern NETWORK = Pattern.compile("[a-z0-9-]{1,15}");
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16).maxStringLength(MAX_NETWORK).build())
            .build());

    /** A value read: an entry, or why not (with a detail naming the field). */
    public record Read(Entry entry, Refusal refusal, String detail) {
        static Read refused(Refusal r, String detail) {
            return new Read(null, r, detail);
        }
    }

    private final Underlay underlay;
    private final String self;

    /** {@code self}: this host's name (its own host key names its own VTEP). */
    public KeyReader(Underlay underlay, String self) {
        this.underlay = underlay;
        this.self = self;
    }

    /**
     * Reads a put of {@code rel} (the key without the prefix) = {@code value} under
     * {@code lease}; {@code version} is etcd's version of the key (1 when just created). A null
     * value is one too large to have been decoded.
     */
    public Read read(String rel, String value, long lease, long version) {
        if (rel == null) {
            return Read.refused(Refusal.KEY, "no key");
        }
        if (value == null) {
            return Read.refused(Refusal.SIZE, "a value larger than " + MAX_NETWORK + " bytes");
        }
        if (rel.length() > MAX_KEY) {
            return Read.refused(Refusal.SIZE, "a key of " + rel.length() + " characters");
        }
        int slash = rel.indexOf('/');
        String kind = slash < 0 ? rel : rel.substring(0, slash + 1);
        String rest = slash < 0 ? "" : rel.substring(slash + 1);
        int limit = kind.equals(Keys.NETWORKS) ? MAX_NETWORK : MAX_VALUE;
        if (value.length() > limit) {
            return Read.refused(Refusal.SIZE, "a value of " + value.length() + " characters (at most " + limit + ")");
        }
        return switch (kind) {
            case Keys.HOSTS -> host(rel, rest, value, lease);
            case Keys.NETWORKS -> network(rel, rest, value);
            case Keys.MEMBERS -> member(rel, rest, value, lease);
            case Keys.ENDPOINTS -> endpoint(rel, rest, value, lease);
            case Keys.ADDRESSES -> claim(rel, rest, value, lease, version);
            default -> Read.refused(Refusal.KEY, "not a kind of key");
        };
    }

    private Read host(String rel, String name, String value, long lease) {
        if (!HOST.matcher(name).matches()) {
            return Read.refused(Refusal.KEY, "not a host name");
        }
        JsonNode n = object(value);
        if (n == null) {
            return Read.refused(Refusal.JSON, "not a JSON object");
        }
        JsonNode vtep = n.get("vtep");
        if (vtep == null || !vtep.isTextual()) {
            return Read.refused(Refusal.SCHEMA, "no \"vtep\" string");
        }
        JsonNode port = n.get("port");
        int p = 4789;
        if (port != null) {
            if (!port.isInt()) {
                return Read.refused(Refusal.SCHEMA, "\"port\" is not a number");
            }
            p = port.intValue();
        }
        JsonNode since = n.get("since");
        if (since != null && !since.isIntegralNumber()) {
            return Read.refused(Refusal.SCHEMA, "\"since\" is not a number");
        }
        if (lease == 0) {
            return Read.refused(Refusal.LEASE, "a host's key without a lease");
        }
        if (p != underlay.port()) {
            return Read.refused(Refusal.PORT, "VXLAN port " + p + ", this host's is " + underlay.port());
        }
        Refusal r = underlay.refusal(vtep.textValue());
        if (r != null && !(r == Refusal.VTEP_OURS && name.equals(self))) {
            return Read.refused(r, "VTEP \"" + clip(vtep.textValue()) + "\"");
        }
        return new Read(new Entry.Host(rel, name, vtep.textValue(), p, since == null ? 0 : Math.max(0, since.longValue()),
                lease), null, null);
    }

    private static Read network(String rel, String name, String value) {
        if (!NETWORK.matcher(name).matches()) {
            return Read.refused(Refusal.KEY, "not a network name");
        }
        JsonNode n = object(value);
        if (n == null) {
            return Read.refused(Refusal.JSON, "not a JSON object");
        }
        JsonNode spec = n.get("spec");
        if (spec == null || !spec.isObject()) {
            return Read.refused(Refusal.SCHEMA, "no \"spec\" object");
        }
        JsonNode specName = spec.get("name");
        if (specName == null || !name.equals(specName.textValue())) {
            return Read.refused(Refusal.NETWORK, "its spec names another network");
        }
        JsonNode vni = spec.get("vni");
        if (vni == null || !vni.isInt() || vni.intValue() < 1 || vni.intValue() > 0xFFFFFF) {
            return Read.refused(Refusal.NETWORK, "no vni 1-16777215");
        }
        Entry.Prefix s4 = null;
        Entry.Prefix s6 = null;
        JsonNode subnet = spec.get("subnet");
        if (subnet != null && !subnet.isNull()) {
            s4 = prefix(subnet, 4);
            if (s4 == null) {
                return Read.refused(Refusal.NETWORK, "\"subnet\" is not an IPv4 prefix");
            }
        }
        JsonNode subnet6 = spec.get("subnet6");
        if (subnet6 != null && !subnet6.isNull()) {
            s6 = prefix(subnet6, 16);
            if (s6 == null) {
                return Read.refused(Refusal.NETWORK, "\"subnet6\" is not an IPv6 prefix");
            }
        }
        return new Read(new Entry.Network(rel, name, spec.toString(), vni.intValue(), s4, s6), null, null);
    }

    private static Read member(String rel, String rest, String value, long lease) {
        String[] p = pair(rest);
        if (p == null || !NETWORK.matcher(p[0]).matches() || !HOST.matcher(p[1]).matches()) {
            return Read.refused(Refusal.KEY, "expected members/NETWORK/HOST");
        }
        if (object(value) == null) {
            return Read.refused(Refusal.JSON, "not a JSON object");
        }
        if (lease == 0) {
            return Read.refused(Refusal.LEASE, "a member key without a lease");
        }
        return new Read(new Entry.Member(rel, p[0], p[1], lease), null, null);
    }

    private static Read endpoint(String rel, String rest, String value, long lease) {
        String[] p = pair(rest);
        long mac = p == null ? -1 : mac(p[1]);
        if (p == null || !NETWORK.matcher(p[0]).matches() || mac < 0) {
            return Read.refused(Refusal.KEY, "expected endpoints/NETWORK/MAC (aa:bb:cc:dd:ee:ff)");
        }
        JsonNode n = object(value);
        if (n == null) {
            return Read.refused(Refusal.JSON, "not a JSON object");
        }
        String host = hostField(n);
        if (host == null) {
            return Read.refused(Refusal.SCHEMA, "no \"host\" name");
        }
        JsonNode ip = n.get("ip");
        String ipText = null;
        InetAddress address = null;
        if (ip != null && !ip.isNull()) {
            if (!ip.isTextual()) {
                return Read.refused(Refusal.SCHEMA, "\"ip\" is not a string");
            }
            ipText = ip.textValue();
            address = cidrAddress(ipText);
            if (address == null) {
                return Read.refused(Refusal.IP, "\"ip\" " + clip(ipText) + " is not an address");
            }
        }
        if ((mac & 0x0100_0000_0000L) != 0 || mac == 0) {
            return Read.refused(Refusal.MAC, "MAC " + p[1] + " is a group or zero address");
        }
        if (lease == 0) {
            return Read.refused(Refusal.LEASE, "an endpoint key without a lease");
        }
        return new Read(new Entry.Endpoint(rel, p[0], p[1], mac, host, ipText, address, lease), null, null);
    }

    private static Read claim(String rel, String rest, String value, long lease, long version) {
        String[] p = pair(rest);
        InetAddress ip = p == null ? null : canonical(p[1]);
        if (p == null || !NETWORK.matcher(p[0]).matches() || ip == null) {
            return Read.refused(Refusal.KEY, "expected addresses/NETWORK/ADDRESS (as the daemons write it)");
        }
        JsonNode n = object(value);
        if (n == null) {
            return Read.refused(Refusal.JSON, "not a JSON object");
        }
        String host = hostField(n);
        if (host == null) {
            return Read.refused(Refusal.SCHEMA, "no \"host\" name");
        }
        if (lease == 0) {
            return Read.refused(Refusal.LEASE, "an address claim without a lease");
        }
        return new Read(new Entry.Claim(rel, p[0], ip, host, lease, version), null, null);
    }

    /** The value as a JSON object, or null. */
    private static JsonNode object(String value) {
        try {
            JsonNode n = JSON.readTree(value);
            return n != null && n.isObject() ? n : null;
        } catch (Exception | StackOverflowError e) {
            return null;
        }
    }

    private static String hostField(JsonNode n) {
        JsonNode h = n.get("host");
        return h != null && h.isTextual() && HOST.matcher(h.textValue()).matches() ? h.textValue() : null;
    }

    private static String[] pair(String rest) {
        int slash = rest.indexOf('/');
        if (slash <= 0 || slash == rest.length() - 1 || rest.indexOf('/', slash + 1) >= 0) {
            return null;
        }
        return new String[] {rest.substring(0, slash), rest.substring(slash + 1)};
    }

    /** A MAC written aa:bb:cc:dd:ee:ff in lower case (as the daemons write them) as a number, or -1. */
    public static long mac(String text) {
        if (text.length() != 17) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < 17; i++) {
            char c = text.charAt(i);
            if (i % 3 == 2) {
                if (c != ':') {
                    return -1;
                }
                continue;
            }
            int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
            if (d < 0) {
                return -1;
            }
            v = (v << 4) | d;
        }
        return v;
    }

    /**
     * An address written as Java writes it ({@code getHostAddress}: a plain dotted quad, or the
     * full IPv6 form), or null: one address has exactly one claim key, so compare-create on it
     * decides who holds it.
     */
    static InetAddress canonical(String text) {
        InetAddress a = literal(text);
        return a != null && a.getHostAddress().equals(text) ? a : null;
    }

    /** The address of {@code a.b.c.d/len}, {@code x::y/len} or a bare address, or null. */
    static InetAddress cidrAddress(String text) {
        int slash = text.indexOf('/');
        InetAddress a = literal(slash < 0 ? text : text.substring(0, slash));
        if (a == null || slash < 0) {
            return a;
        }
        String len = text.substring(slash + 1);
        if (len.isEmpty() || len.length() > 3 || !len.chars().allMatch(Character::isDigit)) {
            return null;
        }
        return Integer.parseInt(len) <= a.getAddress().length * 8 ? a : null;
    }

    /** A v4 dotted quad or an IPv6 literal without a scope, never a name to resolve; null when neither. */
    static InetAddress literal(String text) {
        if (text.isEmpty() || text.length() > 45) {
            return null;
        }
        if (text.indexOf(':') < 0) {
            int v = Underlay.parseIpv4(text);
            return v == -1 && !"255.255.255.255".equals(text) ? null : Underlay.address(v);
        }
        if (text.indexOf('%') >= 0 || text.indexOf('.') >= 0) {
            return null;
        }
        try {
            InetAddress a = InetAddress.ofLiteral(text);
            return a instanceof Inet6Address ? a : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static Entry.Prefix prefix(JsonNode node, int bytes) {
        if (!node.isTextual()) {
            return null;
        }
        String text = node.textValue();
        int slash = text.indexOf('/');
        InetAddress a = cidrAddress(text);
        if (a == null || slash < 0 || a.getAddress().length != bytes) {
            return null;
        }
        int len = Integer.parseInt(text.substring(slash + 1));
        byte[] base = a.getAddress();
        for (int i = 0; i < base.length; i++) {
            int keep = Math.max(0, Math.min(8, len - i * 8));
            base[i] &= (byte) (keep == 0 ? 0 : 0xFF << (8 - keep));
        }
        return new Entry.Prefix(base, len);
    }

    private static String clip(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
