package io.vswitch.wireguard;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * A peer's UDP endpoint as one long: IPv4 address in bits 47..16, port in bits 15..0 (the
 * underlay of the overlay is IPv4, as the VXLAN sockets are). {@link #NONE} (0) means not
 * known yet: a peer without an endpoint can only answer, never initiate.
 */
public final class Endpoint {
    public static final long NONE = 0;

    private Endpoint() {
    }

    public static long of(int address, int port) {
        return (address & 0xFFFF_FFFFL) << 16 | (port & 0xFFFF);
    }

    public static long of(InetSocketAddress address) {
        if (!(address.getAddress() instanceof Inet4Address v4)) {
            throw new IllegalArgumentException("an IPv4 endpoint is needed, not " + address);
        }
        byte[] b = v4.getAddress();
        int a = (b[0] & 0xFF) << 24 | (b[1] & 0xFF) << 16 | (b[2] & 0xFF) << 8 | (b[3] & 0xFF);
        return of(a, address.getPort());
    }

    /** Parses {@code a.b.c.d:port}. */
    public static long parse(String text) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("endpoint '" + text + "' needs ADDRESS:PORT");
        }
        try {
            int port = Integer.parseInt(text.substring(colon + 1));
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("endpoint '" + text + "': port out of 1..65535");
            }
            return of(new InetSocketAddress(InetAddress.getByName(text.substring(0, colon)), port));
        } catch (NumberFormatException | UnknownHostException e) {
            throw new IllegalArgumentException("endpoint '" + text + "' is not ADDRESS:PORT", e);
        }
    }

    public static int address(long endpoint) {
        return (int) (endpoint >>> 16);
    }

    public static int port(long endpoint) {
        return (int) (endpoint & 0xFFFF);
    }

    public static InetSocketAddress toSocketAddress(long endpoint) {
        int a = address(endpoint);
        try {
            return new InetSocketAddress(InetAddress.getByAddress(new byte[] {
                (byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a}), port(endpoint));
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** Address then port, in network order: what a cookie is computed over. */
    static byte[] bytes(long endpoint) {
        int a = address(endpoint);
        int p = port(endpoint);
        return new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a, (byte) (p >>> 8), (byte) p};
    }

    public static String toString(long endpoint) {
        if (endpoint == NONE) {
            return "(none)";
        }
        int a = address(endpoint);
        return (a >>> 24) + "." + ((a >>> 16) & 0xFF) + "." + ((a >>> 8) & 0xFF) + "." + (a & 0xFF) + ":" + port(endpoint);
    }
}
