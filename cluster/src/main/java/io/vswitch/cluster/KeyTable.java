package io.vswitch.cluster;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The raw entries {@link ClusterState} accepted, by key and by kind, with the indexes that let a
 * change find what depends on it: a host's member, endpoint and claim keys, the keys under a
 * lease, a host's endpoints in a network, the endpoints naming an address, a network's claims.
 * Folding an entry in or out marks what must be derived again ({@link #dirty}) and the lingering
 * deletes to decide again ({@link #recheck}). Not thread-safe: the store's lock.
 */
final class KeyTable {
    record NetHost(String net, String host) {
    }

    /** A MAC of a network. Hashed with its bits mixed: MACs given out in order differ in bytes a plain fold would cancel. */
    record NetMac(String net, long mac) {
        @Override
        public int hashCode() {
            long h = mac * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 32)) ^ net.hashCode();
        }
    }

    record NetIp(String net, InetAddress ip) {
    }

    /**
     * What must be derived again, and the deletes to decide, at the next commit. Emptied by
     * replacing the sets: a HashSet that once held a whole list's keys costs its capacity to
     * clear or iterate, which every later commit (one change) would pay.
     */
    static final class Dirty {
        Set<String> hosts = new HashSet<>();
        Set<String> networks = new HashSet<>();
        Set<NetHost> members = new HashSet<>();
        Set<NetMac> endpoints = new HashSet<>();
        Set<NetIp> claims = new HashSet<>();
        /** Deleted keys (and lingering ones whose dependents changed) to decide: gone, or lingering. */
        Set<String> deletes = new LinkedHashSet<>();

        void clear() {
            hosts = new HashSet<>();
            networks = new HashSet<>();
            members = new HashSet<>();
            endpoints = new HashSet<>();
            claims = new HashSet<>();
        }
    }

    final Map<String, Entry> byRel = new HashMap<>();
    final Map<String, Entry.Host> hosts = new HashMap<>();
    final Map<String, Entry.Network> networks = new HashMap<>();
    final Map<NetHost, Entry.Member> members = new HashMap<>();
    final Map<NetMac, Entry.Endpoint> endpoints = new HashMap<>();
    final Map<NetIp, Entry.Claim> claims = new HashMap<>();
    final Set<String> lingering = new HashSet<>();
    final Dirty dirty = new Dirty();

    private final Map<String, Set<String>> relsOfHost = new HashMap<>();
    private final Map<Long, Integer> leaseUse = new HashMap<>();
    private final Map<NetHost, Set<Long>> endpointsOf = new HashMap<>();
    private final Map<NetIp, Set<Long>> endpointsAt = new HashMap<>();
    private final Map<String, Set<InetAddress>> claimsIn = new HashMap<>();

    static String hostOf(Entry e) {
        return switch (e) {
            case Entry.Host h -> h.name();
            case Entry.Member m -> m.host();
            case Entry.Endpoint ep -> ep.host();
            case Entry.Claim c -> c.host();
            case Entry.Network n -> null;
        };
    }

    long leaseOf(String host) {
        Entry.Host h = hosts.get(host);
        return h == null ? 0 : h.lease();
    }

    /** Rels of the members, endpoints and claims naming {@code host}. */
    Set<String> relsOf(String host) {
        return relsOfHost.getOrDefault(host, Set.of());
    }

    List<NetMac> endpointsOf(NetHost k) {
        return macs(k.net(), endpointsOf.get(k));
    }

    List<NetMac> endpointsAt(NetIp k) {
        return macs(k.net(), endpointsAt.get(k));
    }

    Set<InetAddress> claimsIn(String net) {
        return claimsIn.getOrDefault(net, Set.of());
    }

    private static List<NetMac> macs(String net, Set<Long> s) {
        if (s == null) {
            return List.of();
        }
        List<NetMac> out = new ArrayList<>(s.size());
        for (long m : s) {
            out.add(new NetMac(net, m));
        }
        return out;
    }

    void fold(Entry e) {
        byRel.put(e.rel(), e);
        switch (e) {
            case Entry.Host h -> {
                hosts.put(h.name(), h);
                dirty.hosts.add(h.name());
            }
            case Entry.Network n -> {
                networks.put(n.name(), n);
                dirty.networks.add(n.name());
            }
            case Entry.Member m -> {
                NetHost k = new NetHost(m.network(), m.host());
                members.put(k, m);
                dirty.members.add(k);
            }
            case Entry.Endpoint ep -> {
                NetMac k = new NetMac(ep.network(), ep.value());
                endpoints.put(k, ep);
                endpointsOf.computeIfAbsent(new NetHost(ep.network(), ep.host()), x -> new HashSet<>()).add(ep.value());
                if (ep.ip() != null) {
                    endpointsAt.computeIfAbsent(new NetIp(ep.network(), ep.ip()), x -> new HashSet<>()).add(ep.value());
                }
                dirty.endpoints.add(k);
            }
            case Entry.Claim c -> {
                NetIp k = new NetIp(c.network(), c.ip());
                claims.put(k, c);
                claimsIn.computeIfAbsent(c.network(), x -> new HashSet<>()).add(c.ip());
                dirty.claims.add(k);
            }
        }
        if (!(e instanceof Entry.Host) && e.lease() != 0) {
            leaseUse.merge(e.lease(), 1, Integer::sum);
            relsOfHost.computeIfAbsent(hostOf(e), x -> new HashSet<>()).add(e.rel());
        }
    }

    void unfold(Entry e) {
        byRel.remove(e.rel());
        switch (e) {
            case Entry.Host h -> {
                hosts.remove(h.name());
                dirty.hosts.add(h.name());
            }
            case Entry.Network n -> {
                networks.remove(n.name());
                dirty.networks.add(n.name());
            }
            case Entry.Member m -> {
                NetHost k = new NetHost(m.network(), m.host());
                members.remove(k);
                dirty.members.add(k);
            }
            case Entry.Endpoint ep -> {
                NetMac k = new NetMac(ep.network(), ep.value());
                endpoints.remove(k);
                removeFrom(endpointsOf, new NetHost(ep.network(), ep.host()), ep.value());
                if (ep.ip() != null) {
                    removeFrom(endpointsAt, new NetIp(ep.network(), ep.ip()), ep.value());
                    if (!lingering.isEmpty()) {
                        recheck(Keys.ADDRESSES + ep.network() + "/" + ep.ip().getHostAddress());
                    }
                }
                if (!lingering.isEmpty()) {
                    recheck(Keys.MEMBERS + ep.network() + "/" + ep.host());
                }
                dirty.endpoints.add(k);
            }
            case Entry.Claim c -> {
                NetIp k = new NetIp(c.network(), c.ip());
                claims.remove(k);
                Set<InetAddress> in = claimsIn.get(c.network());
                if (in != null && in.remove(c.ip()) && in.isEmpty()) {
                    claimsIn.remove(c.network());
                }
                dirty.claims.add(k);
            }
        }
        if (!(e instanceof Entry.Host) && e.lease() != 0) {
            if (leaseUse.merge(e.lease(), -1, Integer::sum) <= 0) {
                leaseUse.remove(e.lease());
                if (!lingering.isEmpty()) {
                    recheck(Keys.HOSTS + hostOf(e));
                }
            }
            Set<String> rels = relsOfHost.get(hostOf(e));
            if (rels != null && rels.remove(e.rel()) && rels.isEmpty()) {
                relsOfHost.remove(hostOf(e));
            }
        }
    }

    private static <K> void removeFrom(Map<K, Set<Long>> index, K key, long mac) {
        Set<Long> s = index.get(key);
        if (s != null && s.remove(mac) && s.isEmpty()) {
            index.remove(key);
        }
    }

    /** A lingering key whose dependents changed: decided again at commit. */
    private void recheck(String rel) {
        if (lingering.contains(rel)) {
            dirty.deletes.add(rel);
        }
    }

    /**
     * Whether deleted entry {@code e} must linger: a key of the same lease still depends on it (a
     * host: any key of its lease; a member: the host's endpoints in that network; a claim: the
     * host's endpoint with that address).
     */
    boolean needed(Entry e) {
        return switch (e) {
            case Entry.Host h -> leaseUse.getOrDefault(h.lease(), 0) > 0;
            case Entry.Member m -> anyUnder(endpointsOf(new NetHost(m.network(), m.host())), m.host(), m.lease());
            case Entry.Claim c -> anyUnder(endpointsAt(new NetIp(c.network(), c.ip())), c.host(), c.lease());
            default -> false;
        };
    }

    private boolean anyUnder(List<NetMac> macs, String host, long lease) {
        for (NetMac k : macs) {
            Entry.Endpoint ep = endpoints.get(k);
            if (ep != null && ep.host().equals(host) && ep.lease() == lease) {
                return true;
            }
        }
        return false;
    }

    /** Forgets every entry (a list follows); what was there is marked, to be derived again. */
    void clear() {
        new ArrayList<>(byRel.values()).forEach(this::unfold);
        lingering.clear();
        dirty.deletes = new LinkedHashSet<>();
    }
}
