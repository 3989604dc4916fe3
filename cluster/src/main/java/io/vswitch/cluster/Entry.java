package io.vswitch.cluster;

import java.net.InetAddress;

/**
 * What one key of the cluster says, once {@link KeyReader} has read and checked it: every field
 * parsed and in range. {@code rel} is the key without the prefix; {@code lease} the etcd lease
 * it is under (0: none; only networks have none).
 */
public sealed interface Entry {
    String rel();

    long lease();

    /** {@code hosts/NAME}: a host's VTEP and VXLAN port, when it joined (epoch ms). */
    record Host(String rel, String name, String vtep, int port, long since, long lease) implements Entry {
    }

    /** {@code networks/NET}: the network's spec as JSON, its VNI and subnets (null when it has none). */
    record Network(String rel, String name, String spec, int vni, Prefix subnet4, Prefix subnet6) implements Entry {
        @Override
        public long lease() {
            return 0;
        }

        /** Whether {@code ip} may be an address of this network: inside its subnet of that family, if it has one. */
        public boolean admits(InetAddress ip) {
            Prefix p = ip.getAddress().length == 4 ? subnet4 : subnet6;
            return p == null || p.contains(ip);
        }
    }

    /** {@code members/NET/HOST}: HOST has ports in NET. */
    record Member(String rel, String network, String host, long lease) implements Entry {
    }

    /**
     * {@code endpoints/NET/MAC}: a MAC of NET behind HOST, with its address as written (CIDR or
     * bare; null when none) and parsed.
     */
    record Endpoint(String rel, String network, String mac, long value, String host, String ipText, InetAddress ip,
            long lease) implements Entry {
    }

    /**
     * {@code addresses/NET/IP}: HOST gave that address out. {@code version} is etcd's count of
     * writes since the key was created: 1 for a claim made by compare-create, more when
     * someone wrote over an existing one (which no daemon does).
     */
    record Claim(String rel, String network, InetAddress ip, String host, long lease, long version) implements Entry {
    }

    /** An address prefix: {@code base} with its host bits cleared. */
    record Prefix(byte[] base, int length) {
        public boolean contains(InetAddress ip) {
            byte[] a = ip.getAddress();
            if (a.length != base.length) {
                return false;
            }
            int full = length / 8;
            for (int i = 0; i < full; i++) {
                if (a[i] != base[i]) {
                    return false;
                }
            }
            int rest = length % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xFF << (8 - rest)) & 0xFF;
            return (a[full] & mask) == (base[full] & mask);
        }
    }
}
