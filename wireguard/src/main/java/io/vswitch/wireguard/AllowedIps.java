package io.vswitch.wireguard;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Cryptokey routing (whitepaper section 2): IPv4 prefixes to peers. Sending, the destination
 * picks the peer; receiving, a decrypted packet's source must route back to the peer whose key
 * opened it, or the packet is dropped ({@link DropReason#SOURCE_NOT_ALLOWED}).
 *
 * <p>Longest prefix match by a scan of the prefixes sorted longest first: an overlay has a
 * handful of tunnel addresses (one /32 per host), where a scan of a few entries beats a trie.
 * IPv6 prefixes are not kept (the overlay's underlay and tunnel addresses are IPv4).
 *
 * <p>Threading: copy-on-write. Lookups read an immutable array through a volatile field and
 * allocate nothing; changes are synchronized and publish a new array.
 */
public final class AllowedIps {
    /** One prefix. */
    public record Prefix(int network, int length, Peer peer) {
        public Prefix {
            if (length < 0 || length > 32) {
                throw new IllegalArgumentException("an IPv4 prefix length is 0..32, not " + length);
            }
            network &= mask(length);
        }

        boolean contains(int address) {
            return (address & mask(length)) == network;
        }

        @Override
        public String toString() {
            return ((network >>> 24) & 0xFF) + "." + ((network >>> 16) & 0xFF) + "." + ((network >>> 8) & 0xFF) + "."
                    + (network & 0xFF) + "/" + length;
        }
    }

    private volatile Prefix[] prefixes = new Prefix[0];

    /** Routes {@code network/length} to {@code peer}, replacing whatever peer had that exact prefix. */
    public synchronized void add(int network, int length, Peer peer) {
        Prefix p = new Prefix(network, length, peer);
        List<Prefix> next = new ArrayList<>();
        for (Prefix q : prefixes) {
            if (q.network() != p.network() || q.length() != p.length()) {
                next.add(q);
            }
        }
        next.add(p);
        next.sort(Comparator.comparingInt(Prefix::length).reversed());
        prefixes = next.toArray(new Prefix[0]);
    }

    /** Parses {@code a.b.c.d/len} (or a bare address as /32) and routes it to {@code peer}. */
    public void add(String cidr, Peer peer) {
        int slash = cidr.indexOf('/');
        String address = slash < 0 ? cidr : cidr.substring(0, slash);
        int length;
        try {
            length = slash < 0 ? 32 : Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("allowed IP '" + cidr + "' is not ADDRESS/LENGTH", e);
        }
        String[] parts = address.split("\\.");
        if (parts.length != 4) {
            throw new IllegalArgumentException("allowed IP '" + cidr + "' is not an IPv4 prefix");
        }
        int a = 0;
        for (String part : parts) {
            int octet;
            try {
                octet = Integer.parseInt(part);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("allowed IP '" + cidr + "' is not an IPv4 prefix", e);
            }
            if (octet < 0 || octet > 255) {
                throw new IllegalArgumentException("allowed IP '" + cidr + "' is not an IPv4 prefix");
            }
            a = a << 8 | octet;
        }
        add(a, length, peer);
    }

    public synchronized void removePeer(Peer peer) {
        List<Prefix> next = new ArrayList<>();
        for (Prefix q : prefixes) {
            if (q.peer() != peer) {
                next.add(q);
            }
        }
        prefixes = next.toArray(new Prefix[0]);
    }

    /** The peer an IPv4 address routes to, or null. */
    public Peer lookup(int address) {
        for (Prefix p : prefixes) {
            if (p.contains(address)) {
                return p.peer();
            }
        }
        return null;
    }

    /** The prefixes of {@code peer}, for show. */
    public List<Prefix> of(Peer peer) {
        List<Prefix> out = new ArrayList<>();
        for (Prefix p : prefixes) {
            if (p.peer() == peer) {
                out.add(p);
            }
        }
        return out;
    }

    private static int mask(int length) {
        return length == 0 ? 0 : -1 << (32 - length);
    }
}
