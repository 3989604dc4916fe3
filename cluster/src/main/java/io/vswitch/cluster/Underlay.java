package io.vswitch.cluster;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Where VTEPs may be: this host's own VTEP and VXLAN port, and the underlay's IPv4 prefixes.
 * Another host's VTEP is a flood target, so one that is not a unicast address of the underlay
 * (127/8, 0/8, multicast, 240/4 with the limited broadcast, a prefix's network or broadcast
 * address, an address outside every prefix) or is this host's own would send the cluster's
 * floods to this host itself, to nowhere, or to someone else's network: refused
 * ({@link #refusal}). An empty prefix list accepts any unicast address (a routed underlay the
 * operator did not describe).
 *
 */
public final class Underlay {
    private static final int NONE = -1;

    private final Inet4Address self;
    private final int port;
    private final List<String> prefixes;
    /** The prefixes parsed: base address and length, side by side. */
    private final int[] bases;
    private final int[] lengths;

    /**
     * @param self     this host's VTEP
     * @param port     this host's VXLAN UDP port: peers must listen on the same
     * @param prefixes the underlay, as {@code a.b.c.d/len}
     * @throws IllegalArgumentException naming a prefix that is not one
     */
    public Underlay(Inet4Address self, int port, List<String> prefixes) {
        this.self = self;
        this.port = port;
        this.prefixes = List.copyOf(prefixes);
        this.bases = new int[prefixes.size()];
        this.lengths = new int[prefixes.size()];
        for (int i = 0; i < prefixes.size(); i++) {
            long[] p = parsePrefix(prefixes.get(i));
            bases[i] = (int) p[0];
            lengths[i] = (int) p[1];
        }
    }

    public Inet4Address self() {
        return self;
    }

    public int port() {
        return port;
    }

    public List<String> prefixes() {
        return prefixes;
    }

    /** What a VTEP text fails, or null when it is a peer this host may send to. */
    public Refusal refusal(String vtep) {
        int a = parseIpv4(vtep);
        if (a == NONE && !"255.255.255.255".equals(vtep)) {
            return Refusal.VTEP;
        }
        int first = a >>> 24;
        if (first == 0 || first == 127 || first >= 224) {
            return Refusal.VTEP; // this network, loopback, multicast, reserved and broadcast
        }
        if (a == ipv4(self)) {
            return Refusal.VTEP_OURS;
        }
        if (bases.length == 0) {
            return null;
        }
        for (int i = 0; i < bases.length; i++) {
            int base = bases[i];
            int len = lengths[i];
            int mask = len == 0 ? 0 : -1 << (32 - len);
            if ((a & mask) == base) {
                boolean edge = len <= 30 && (a == base || a == (base | ~mask));
                return edge ? Refusal.VTEP : null;
            }
        }
        return Refusal.VTEP_UNDERLAY;
    }

    /** An address as a big-endian int. */
    static int ipv4(Inet4Address a) {
        byte[] b = a.getAddress();
        return ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
    }

    /**
     * A dotted quad (four decimal numbers 0-255, no leading zeros, nothing else) as an int, or
     * {@code -1} (which is also 255.255.255.255: callers that care compare the text).
     */
    public static int parseIpv4(String s) {
        if (s == null || s.length() < 7 || s.length() > 15) {
            return NONE;
        }
        int value = 0;
        int parts = 0;
        int i = 0;
        while (i <= s.length()) {
            int start = i;
            int octet = 0;
            while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                octet = octet * 10 + (s.charAt(i) - '0');
                i++;
            }
            int digits = i - start;
            if (digits == 0 || digits > 3 || octet > 255 || (digits > 1 && s.charAt(start) == '0')) {
                return NONE;
            }
            value = (value << 8) | octet;
            parts++;
            if (i == s.length()) {
                break;
            }
            if (s.charAt(i) != '.' || parts == 4) {
                return NONE;
            }
            i++;
        }
        return parts == 4 ? value : NONE;
    }

    /** {@code a.b.c.d/len} as {base with host bits cleared, len}; throws IllegalArgumentException when it is not one. */
    public static long[] parsePrefix(String p) {
        int slash = p.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("expected an IPv4 prefix such as 198.19.0.0/16, got \"" + p + "\"");
        }
        String addr = p.substring(0, slash);
        int a = parseIpv4(addr);
        int len;
        try {
            len = Integer.parseInt(p.substring(slash + 1));
        } catch (NumberFormatException e) {
            len = NONE;
        }
        if ((a == NONE && !"255.255.255.255".equals(addr)) || len < 0 || len > 32) {
            throw new IllegalArgumentException("expected an IPv4 prefix such as 198.19.0.0/16, got \"" + p + "\"");
        }
        int mask = len == 0 ? 0 : -1 << (32 - len);
        return new long[] {a & mask, len};
    }

    /**
     * The prefixes of the interface holding {@code vtep} in this namespace (the underlay when the
     * operator named none), or an empty list when no interface has it.
     */
    public static List<String> prefixesOf(Inet4Address vtep) {
        List<String> out = new ArrayList<>();
        try {
            java.net.NetworkInterface nic = java.net.NetworkInterface.getByInetAddress(vtep);
            if (nic != null) {
                for (java.net.InterfaceAddress ia : nic.getInterfaceAddresses()) {
                    if (ia.getAddress() instanceof Inet4Address a && ia.getNetworkPrefixLength() > 0) {
                        int len = ia.getNetworkPrefixLength();
                        int mask = -1 << (32 - len);
                        out.add(text(ipv4(a) & mask) + "/" + len);
                    }
                }
            }
        } catch (java.net.SocketException e) {
            // no prefixes known: any unicast address is taken
        }
        return out;
    }

    static String text(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }

    /** The address of a dotted quad this class accepted. */
    static Inet4Address address(int a) {
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {(byte) (a >>> 24), (byte) (a >>> 16),
                    (byte) (a >>> 8), (byte) a});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // four bytes are always an address
        }
    }
}
