package io.vswitch.ipam;

import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.regex.Pattern;

/**
 * An address with a prefix length, {@code 198.18.61.0/24} or {@code fd00:61::/64}, parsed from
 * literals only (never a host name: no DNS lookups). As a subnet it is normalised to its network
 * address; as an interface address ({@link #parseAddress}) it keeps its host part.
 */
public record Cidr(InetAddress address, int prefix) {
    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:.]{2,45}");

    /** {@code A/P}, with its host part kept. Throws saying what is wrong. */
    public static Cidr parseAddress(String text) {
        if (text == null) {
            throw new IllegalArgumentException("expected ADDRESS/PREFIX such as 198.18.61.5/24, got nothing");
        }
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("expected ADDRESS/PREFIX such as 198.18.61.5/24, got \"" + text + "\"");
        }
        InetAddress a = literal(text.substring(0, slash));
        int bits = a instanceof Inet4Address ? 32 : 128;
        int prefix;
        try {
            prefix = Integer.parseInt(text.substring(slash + 1));
        } catch (NumberFormatException e) {
            prefix = -1;
        }
        if (prefix < 0 || prefix > bits) {
            throw new IllegalArgumentException("the prefix of \"" + text + "\" must be 0.." + bits);
        }
        return new Cidr(a, prefix);
    }

    /** {@code A/P} as a subnet: the host part must be zero. */
    public static Cidr parseSubnet(String text) {
        Cidr c = parseAddress(text);
        if (!c.network().equals(c.address)) {
            throw new IllegalArgumentException("\"" + text + "\" is not a subnet: its host part is not zero (did you mean "
                    + c.network().getHostAddress() + "/" + c.prefix + "?)");
        }
        return c;
    }

    /** An IPv4 or IPv6 address literal. */
    public static InetAddress literal(String text) {
        String t = text == null ? "" : text.trim();
        boolean v4 = IPV4.matcher(t).matches();
        if (!v4 && !(t.contains(":") && IPV6.matcher(t).matches())) {
            throw new IllegalArgumentException("expected an IP address such as 198.18.61.1 or fd00::1, got \"" + text + "\"");
        }
        try {
            return InetAddress.ofLiteral(t);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("expected an IP address such as 198.18.61.1 or fd00::1, got \"" + text + "\"");
        }
    }

    public boolean isIpv4() {
        return address instanceof Inet4Address;
    }

    public int bits() {
        return isIpv4() ? 32 : 128;
    }

    /** The subnet's first address. */
    public InetAddress network() {
        return at(BigInteger.ZERO);
    }

    /** The number of addresses in the subnet. */
    public BigInteger size() {
        return BigInteger.ONE.shiftLeft(bits() - prefix);
    }

    /** The address {@code offset} from the start of the subnet. */
    public InetAddress at(BigInteger offset) {
        BigInteger base = toInteger(address).shiftRight(bits() - prefix).shiftLeft(bits() - prefix);
        return toAddress(base.add(offset), bits());
    }

    /** How far {@code a} is from the start of the subnet, or -1 when it is not in it. */
    public BigInteger offsetOf(InetAddress a) {
        if ((a instanceof Inet4Address) != isIpv4()) {
            return BigInteger.ONE.negate();
        }
        BigInteger x = toInteger(a);
        BigInteger base = toInteger(network());
        BigInteger off = x.subtract(base);
        return off.signum() >= 0 && off.compareTo(size()) < 0 ? off : BigInteger.ONE.negate();
    }

    public boolean contains(InetAddress a) {
        return offsetOf(a).signum() >= 0;
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + prefix;
    }

    static BigInteger toInteger(InetAddress a) {
        return new BigInteger(1, a.getAddress());
    }

    static InetAddress toAddress(BigInteger value, int bits) {
        byte[] raw = value.toByteArray();
        byte[] out = new byte[bits / 8];
        int copy = Math.min(raw.length, out.length);
        System.arraycopy(raw, raw.length - copy, out, out.length - copy, copy);
        try {
            return bits == 32 ? (Inet4Address) InetAddress.getByAddress(out) : (Inet6Address) InetAddress.getByAddress(out);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
