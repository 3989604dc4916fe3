package io.vswitch.core;

import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a network knows of its own addresses, for the switch to answer in the data path
 * ({@link Responder}): the MAC behind each IPv4 and IPv6 address of an endpoint or of the
 * gateway (ARP and neighbour solicitations answered instead of flooded), and, on a network with
 * DNS on, the names of its endpoints (A and AAAA queries to the gateway answered).
 *
 * <p>Immutable: the control thread builds a new one whenever an endpoint comes or goes and
 * publishes it on the {@link BridgeDomain}; lanes read it without locks. Lookups allocate
 * nothing: addresses are primitive keys, names are matched as bytes. The endpoints of other
 * hosts of a cluster are not in it but in a {@link RemoteNeighbors} it refers to, which changes
 * one address at a time: a cluster's tens of thousands are never rebuilt for one change.
 */
public final class Directory {
    /** A network that knows no address: nothing answered, everything forwarded as before. */
    public static final Directory EMPTY = builder().build();

    private static final long MISSING = 0;

    private final long gatewayMac;
    private final boolean gatewayPort;
    private final int gateway4;
    private final long gateway6Hi;
    private final long gateway6Lo;
    private final boolean hasGateway4;
    private final boolean hasGateway6;
    private final boolean dns;
    private final Upstream upstream;
    private final Long2LongHashMap v4 = new Long2LongHashMap(MISSING);
    /** Low 64 bits -> {hi, mac, hi, mac, ...}: almost always one pair. */
    private final Long2ObjectHashMap<long[]> v6 = new Long2ObjectHashMap<>();
    private final NameTable names;
    private final byte[] domain;
    private final int addressCount;
    /** Other hosts' endpoints (a cluster's), looked up when the address is not one of this network's here; or null. */
    private final RemoteNeighbors remote;

    private Directory(Builder b) {
        this.gatewayMac = b.gatewayMac;
        this.gatewayPort = b.gatewayPort;
        this.dns = b.dns;
        this.upstream = b.upstream;
        int g4 = 0;
        boolean h4 = false;
        long g6h = 0;
        long g6l = 0;
        boolean h6 = false;
        if (b.gateway4 != null) {
            g4 = int4(b.gateway4);
            h4 = true;
        }
        if (b.gateway6 != null) {
            g6h = long8(b.gateway6, 0);
            g6l = long8(b.gateway6, 8);
            h6 = true;
        }
        this.gateway4 = g4;
        this.hasGateway4 = h4;
        this.gateway6Hi = g6h;
        this.gateway6Lo = g6l;
        this.hasGateway6 = h6;
        int count = 0;
        for (Map.Entry<Addr, Long> e : b.neighbors.entrySet()) {
            byte[] ip = e.getKey().bytes;
            if (ip.length == 4) {
                v4.put(int4(ip) & 0xFFFFFFFFL, e.getValue().longValue());
            } else {
                long hi = long8(ip, 0);
                long lo = long8(ip, 8);
                long[] pairs = v6.get(lo);
                long[] grown = pairs == null ? new long[2] : java.util.Arrays.copyOf(pairs, pairs.length + 2);
                grown[grown.length - 2] = hi;
                grown[grown.length - 1] = e.getValue();
                v6.put(lo, grown);
            }
            count++;
        }
        this.addressCount = count;
        this.remote = b.remote;
        this.domain = b.domain == null ? new byte[0] : b.domain.getBytes(StandardCharsets.US_ASCII);
        this.names = new NameTable(b.names, domain);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The MAC behind an IPv4 address ({@code ip} as a big-endian int), or 0. */
    public long macOf4(int ip) {
        long mac = v4.get(ip & 0xFFFFFFFFL);
        return mac == MISSING && remote != null ? remote.macOf4(ip) : mac;
    }

    /** The MAC behind an IPv6 address (its two big-endian halves), or 0. */
    public long macOf6(long hi, long lo) {
        long[] pairs = v6.get(lo);
        if (pairs != null) {
            for (int i = 0; i < pairs.length; i += 2) {
                if (pairs[i] == hi) {
                    return pairs[i + 1];
                }
            }
        }
        return remote != null ? remote.macOf6(hi, lo) : MISSING;
    }

    /** The gateway's MAC (its port's, or one the switch answers for), or 0 without a gateway. */
    public long gatewayMac() {
        return gatewayMac;
    }

    /** Whether a port of the network holds the gateway address (else only the switch answers there). */
    public boolean hasGatewayPort() {
        return gatewayPort;
    }

    public boolean isGateway4(int ip) {
        return hasGateway4 && ip == gateway4;
    }

    public boolean isGateway6(long hi, long lo) {
        return hasGateway6 && hi == gateway6Hi && lo == gateway6Lo;
    }

    /** Whether DNS queries to the gateway are answered. */
    public boolean dns() {
        return dns;
    }

    /** Where names the network does not know are sent, or null: REFUSED at once. */
    public Upstream upstream() {
        return upstream;
    }

    public NameTable names() {
        return names;
    }

    /** The network's own domain (its name): {@code web.NETWORK} is {@code web}; unknown names under it are NXDOMAIN. */
    byte[] domain() {
        return domain;
    }

    /** Addresses known (endpoints here, the gateway, and endpoints of other hosts). */
    public int addresses() {
        return addressCount + (remote == null ? 0 : remote.size());
    }

    /** Whether there is anything to answer: otherwise the pipeline does not look. */
    public boolean isActive() {
        return addressCount > 0 || gatewayMac != 0 || (remote != null && remote.size() > 0);
    }

    /** An IPv4 address (4 bytes) as a big-endian int. */
    public static int int4(byte[] ip) {
        return ((ip[0] & 0xFF) << 24) | ((ip[1] & 0xFF) << 16) | ((ip[2] & 0xFF) << 8) | (ip[3] & 0xFF);
    }

    /** Eight bytes from {@code from} as a big-endian long (a half of an IPv6 address). */
    public static long long8(byte[] b, int from) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[from + i] & 0xFF);
        }
        return v;
    }

    private record Addr(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Addr a && java.util.Arrays.equals(bytes, a.bytes);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(bytes);
        }
    }

    /** Collects a network's addresses and names; the last word on an address wins. */
    public static final class Builder {
        private long gatewayMac;
        private boolean gatewayPort;
        private byte[] gateway4;
        private byte[] gateway6;
        private boolean dns;
        private Upstream upstream;
        private String domain;
        private final Map<Addr, Long> neighbors = new LinkedHashMap<>();
        private final Map<String, List<byte[]>> names = new LinkedHashMap<>();
        private RemoteNeighbors remote;

        /**
         * Other hosts' endpoints, answered for addresses this network has none of here. Shared, not
         * copied: it changes in place, one address at a time, and every directory built with it
         * sees the change.
         */
        public Builder remote(RemoteNeighbors remote) {
            this.remote = remote;
            return this;
        }

        /**
         * The gateway: its MAC, whether a port holds it (a gateway port) and its addresses (4 or
         * 16 bytes each, or null). Its addresses are answered like an endpoint's.
         */
        public Builder gateway(long mac, boolean port, byte[] ipv4, byte[] ipv6) {
            this.gatewayMac = mac;
            this.gatewayPort = port;
            this.gateway4 = ipv4;
            this.gateway6 = ipv6;
            if (mac != 0) {
                if (ipv4 != null) {
                    neighbor(ipv4, mac);
                }
                if (ipv6 != null) {
                    neighbor(ipv6, mac);
                }
            }
            return this;
        }

        /** DNS answered for the network's names under {@code domain}, others sent to {@code upstream} (or REFUSED). */
        public Builder dns(String domain, Upstream upstream) {
            this.dns = true;
            this.domain = domain.toLowerCase(Locale.ROOT);
            this.upstream = upstream;
            return this;
        }

        /** An endpoint's address (4 or 16 bytes) behind {@code mac}. */
        public Builder neighbor(byte[] ip, long mac) {
            if (ip.length != 4 && ip.length != 16) {
                throw new IllegalArgumentException("an address has 4 or 16 bytes, not " + ip.length);
            }
            if (mac != 0) {
                neighbors.put(new Addr(ip.clone()), mac);
            }
            return this;
        }

        /** A name (case-insensitive; several endpoints may share one) with one of its addresses. */
        public Builder name(String name, byte[] ip) {
            String key = NameTable.normal(name);
            if (key != null) {
                names.computeIfAbsent(key, k -> new ArrayList<>()).add(ip.clone());
            }
            return this;
        }

        public Directory build() {
            return new Directory(this);
        }
    }
}
