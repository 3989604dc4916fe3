package io.vswitch.core;

import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The addresses of a network's endpoints on other hosts of a cluster, with their MACs: ARP and
 * neighbour solicitations for them are answered here like a local endpoint's ({@link Directory}
 * falls back to this). A cluster holds tens of thousands, and one comes or goes at a time, so
 * a change must not rebuild them all: they are split into {@link #SHARDS} immutable shards by
 * address, and a change copies one shard (a 256th of the table) and publishes it with a release
 * store. Readers (the lanes) never block and allocate nothing: one acquire load and a primitive
 * map lookup.
 *
 * <p>One writer: the control thread (under the registry's lock).
 */
public final class RemoteNeighbors {
    static final int SHARDS = 256;
    private static final long MISSING = 0;

    private static final class Shard {
        final Long2LongHashMap v4;
        /** Low 64 bits -> {hi, mac, hi, mac, ...}. */
        final Long2ObjectHashMap<long[]> v6;

        Shard(Long2LongHashMap v4, Long2ObjectHashMap<long[]> v6) {
            this.v4 = v4;
            this.v6 = v6;
        }
    }

    private final AtomicReferenceArray<Shard> shards = new AtomicReferenceArray<>(SHARDS);
    private volatile int size;

    /** The MAC behind an IPv4 address (big-endian int), or 0. */
    public long macOf4(int ip) {
        Shard s = shards.getAcquire(shard(ip));
        return s == null ? MISSING : s.v4.get(ip & 0xFFFFFFFFL);
    }

    /** The MAC behind an IPv6 address (its two big-endian halves), or 0. */
    public long macOf6(long hi, long lo) {
        Shard s = shards.getAcquire(shard((int) lo));
        long[] pairs = s == null ? null : s.v6.get(lo);
        if (pairs != null) {
            for (int i = 0; i < pairs.length; i += 2) {
                if (pairs[i] == hi) {
                    return pairs[i + 1];
                }
            }
        }
        return MISSING;
    }

    /** Addresses known. */
    public int size() {
        return size;
    }

    /** Puts {@code ip} (4 or 16 bytes) behind {@code mac}; a MAC of 0 removes it. */
    public void put(byte[] ip, long mac) {
        if (ip.length != 4 && ip.length != 16) {
            throw new IllegalArgumentException("an address has 4 or 16 bytes, not " + ip.length);
        }
        if (mac == MISSING) {
            remove(ip);
            return;
        }
        boolean v4 = ip.length == 4;
        long lo = v4 ? Directory.int4(ip) & 0xFFFFFFFFL : Directory.long8(ip, 8);
        int i = shard((int) lo);
        Shard s = copy(shards.getPlain(i));
        boolean added;
        if (v4) {
            added = s.v4.put(lo, mac) == MISSING;
        } else {
            long hi = Directory.long8(ip, 0);
            long[] pairs = s.v6.get(lo);
            added = true;
            if (pairs != null) {
                for (int j = 0; j < pairs.length; j += 2) {
                    if (pairs[j] == hi) {
                        pairs = pairs.clone();
                        pairs[j + 1] = mac;
                        added = false;
                    }
                }
            }
            if (added) {
                long[] grown = pairs == null ? new long[2] : java.util.Arrays.copyOf(pairs, pairs.length + 2);
                grown[grown.length - 2] = hi;
                grown[grown.length - 1] = mac;
                pairs = grown;
            }
            s.v6.put(lo, pairs);
        }
        shards.setRelease(i, s);
        if (added) {
            size = size + 1;
        }
    }

    /** Forgets {@code ip}. */
    public void remove(byte[] ip) {
        boolean v4 = ip.length == 4;
        long lo = v4 ? Directory.int4(ip) & 0xFFFFFFFFL : Directory.long8(ip, 8);
        int i = shard((int) lo);
        Shard old = shards.getPlain(i);
        if (old == null) {
            return;
        }
        Shard s = copy(old);
        boolean removed;
        if (v4) {
            removed = s.v4.remove(lo) != MISSING;
        } else {
            long hi = Directory.long8(ip, 0);
            long[] pairs = s.v6.get(lo);
            removed = false;
            if (pairs != null) {
                for (int j = 0; j < pairs.length; j += 2) {
                    if (pairs[j] == hi) {
                        long[] shrunk = new long[pairs.length - 2];
                        System.arraycopy(pairs, 0, shrunk, 0, j);
                        System.arraycopy(pairs, j + 2, shrunk, j, pairs.length - j - 2);
                        if (shrunk.length == 0) {
                            s.v6.remove(lo);
                        } else {
                            s.v6.put(lo, shrunk);
                        }
                        removed = true;
                        break;
                    }
                }
            }
        }
        if (removed) {
            shards.setRelease(i, s);
            size = size - 1;
        }
    }

    private static Shard copy(Shard s) {
        return s == null ? new Shard(new Long2LongHashMap(MISSING), new Long2ObjectHashMap<>())
                : new Shard(new Long2LongHashMap(s.v4), new Long2ObjectHashMap<>(s.v6));
    }

    /** A shard by the address's low bits, mixed so that neighbouring subnets spread. */
    private static int shard(int low) {
        int h = low * 0x9E3779B9;
        return (h >>> 24) & (SHARDS - 1);
    }
}
