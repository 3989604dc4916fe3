package io.vswitch.cluster;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.vswitch.cluster.KeyTable.NetHost;
import io.vswitch.cluster.KeyTable.NetIp;
import io.vswitch.cluster.KeyTable.NetMac;

/**
 * The cluster's keys as this host believes them, and what it applies from them.
 *
 * <p><b>Raw entries.</b> Each put is read by {@link KeyReader}; a refused value is counted
 * ({@link Refusals}) and not folded in: the key's earlier accepted value stays. A put that reads
 * well is still refused when the rest of the cluster contradicts it: a key naming a known host
 * but under another lease than that host's ({@link Refusal#LEASE}), an endpoint whose address
 * another host has claimed ({@link Refusal#CLAIM}), a claim outside its network's subnet
 * ({@link Refusal#SUBNET}), a key naming this host that it did not write
 * ({@link Refusal#FORGED_SELF}, deleted again by the store). A key under another lease than its
 * host's is kept aside, and admitted if the host's key comes under that lease (a host that
 * restarted). This host's own keys are the
 * store's ({@link Owner}): another writer's value for one is not folded in but written back.
 *
 * <p><b>Applied</b> ({@link Applied}). From the raw entries follow, each a pure function of them: a network's peers
 * (members whose host is known, under that host's lease), the remote MACs (an endpoint of a peer,
 * under its lease, whose address is claimed by the same host inside the network's subnet) and
 * the addresses other hosts hold. Every change marks what depends on it (a host: its members,
 * endpoints and claims; a member: its endpoints; a claim: the endpoints naming it) and
 * {@link #commit} derives only those, recording what differs in {@link ClusterChanges}. So a
 * change costs work in proportion to what depends on it, never the table.
 *
 * <p><b>Lingering deletes.</b> etcd deletes all keys of a lease in one revision when it expires or
 * is revoked. A host key deleted while keys of its lease remain, a member while the host's
 * endpoints in that network remain, a claim while the host's endpoint still names the address,
 * was deleted by a writer, not by the lease: it lingers (still applied) until its dependents go
 * or its owner writes it back. So one delete stops no forwarding, and an address whose claim was
 * deleted is not handed out again meanwhile. Decided at {@link #commit}, after a whole watch
 * response, so a lease's keys going together never linger.
 *
 * <p>Not thread-safe: the store holds its lock around every call.
 */
public final class ClusterState {
    /** The store's side of this host's own keys. */
    public interface Owner {
        /** What to do with a put of an own key. */
        enum Verdict { APPLY, IGNORE, KEEP, RELEASED }

        boolean owns(String rel);

        /**
         * A put of own key {@code rel}: APPLY when it is this host's own write as it stands, IGNORE
         * when an earlier write of its own, KEEP when someone else's (not folded in; written back), RELEASED when the host gives the key up
         * ({@code legitOther}: another live host claimed the address after this host's claim
         * vanished) and it is folded in as any other.
         */
        Verdict ownPut(String rel, String value, long lease, long modRevision, boolean legitOther);

        /**
         * Someone deleted own key {@code rel}: written back; returns true when the key was not
         * really this host's (a claim it had given up), so the delete is folded in.
         */
        boolean ownDeleted(String rel);

        /**
         * {@code rel} names this host, which did not write it: deleted again (if unchanged since);
         * returns whether it counts as forged (not before this host has put all of its keys once:
         * until then it may be its own from before a restart).
         */
        boolean stray(String rel, long modRevision);
    }

    private final String self;
    private final KeyReader reader;
    private final Refusals refusals;
    private final Owner owner;
    private final KeyTable t = new KeyTable();
    private final KeyTable.Dirty dirty = t.dirty;

    private final Applied applied;
    /** Keys under another lease than their (known) host's: kept aside, admitted if the host's key comes under it. */
    private final Map<String, Entry> stash = new HashMap<>();
    private final Map<String, Set<String>> stashOf = new HashMap<>();
    private long revision;

    public ClusterState(String self, KeyReader reader, Refusals refusals, Owner owner) {
        this.self = self;
        this.reader = reader;
        this.refusals = refusals;
        this.owner = owner;
        this.applied = new Applied(self, t);
    }

    /** A put of {@code rel} (the key without the prefix), as the watch or a list gives it. */
    public void put(String rel, String value, long lease, long version, long modRevision) {
        KeyReader.Read read = reader.read(rel, value, lease, version);
        Entry e = read.entry();
        if (owner.owns(rel)) {
            boolean legit = e instanceof Entry.Claim c && c.version() == 1 && !c.host().equals(self)
                    && leaseOf(c.host()) == lease;
            switch (owner.ownPut(rel, value, lease, modRevision, legit)) {
                case KEEP -> refusals.refuse(rel, Refusal.OURS, "written back");
                case APPLY -> {
                    if (e != null) {
                        accept(rel, e);
                    }
                }
                case IGNORE -> { }
                case RELEASED -> admit(rel, read);
            }
            return;
        }
        if (e != null && !(e instanceof Entry.Network) && self.equals(hostOf(e))) {
            if (owner.stray(rel, modRevision)) {
                refusals.refuse(rel, Refusal.FORGED_SELF, "deleted again");
            }
            return;
        }
        admit(rel, read);
    }

    /** Folds in a key of another host, unless it was refused or the rest of the cluster contradicts it. */
    private void admit(String rel, KeyReader.Read read) {
        Entry e = read.entry();
        if (e == null) {
            refusals.refuse(rel, read.refusal(), read.detail());
            return;
        }
        admit(rel, e, true);
    }

    private void admit(String rel, Entry e, boolean count) {
        Refusal context = contradiction(e);
        if (context == Refusal.LEASE) {
            // Kept aside: admitted if its host's key comes under this lease (a host that restarted
            // and wrote its keys in another order than its host key first).
            unstash(rel);
            stash.put(rel, e);
            stashOf.computeIfAbsent(hostOf(e), x -> new HashSet<>()).add(rel);
        }
        if (context != null) {
            if (count) {
                refusals.refuse(rel, context, contradictionDetail(e, context));
            }
            return;
        }
        accept(rel, e);
    }

    private void unstash(String rel) {
        Entry e = stash.remove(rel);
        if (e != null) {
            Set<String> s = stashOf.get(hostOf(e));
            if (s != null && s.remove(rel) && s.isEmpty()) {
                stashOf.remove(hostOf(e));
            }
        }
    }

    private void accept(String rel, Entry e) {
        unstash(rel);
        refusals.accepted(rel);
        dirty.deletes.remove(rel);
        Entry before = t.byRel.get(rel);
        if (before != null && same(before, e) && !t.lingering.contains(rel)) {
            return;
        }
        if (before != null) {
            t.unfold(before);
        }
        t.lingering.remove(rel);
        t.fold(e);
        if (e instanceof Entry.Host h && stashOf.containsKey(h.name())) {
            for (String kept : new ArrayList<>(stashOf.get(h.name()))) {
                Entry x = stash.get(kept);
                unstash(kept);
                admit(kept, x, false);
            }
        }
    }

    /** A delete of {@code rel}: applied at {@link #commit}, or lingering (see the class comment). */
    public void delete(String rel) {
        refusals.accepted(rel);
        unstash(rel);
        if (owner.owns(rel) && !owner.ownDeleted(rel)) {
            return;
        }
        if (t.byRel.containsKey(rel)) {
            dirty.deletes.add(rel);
        }
    }

    /** Forgets every raw entry (a list follows): what is applied stays, to be diffed at {@link #commit}. */
    public void clear() {
        t.clear();
        stash.clear();
        stashOf.clear();
        refusals.clearKeys();
    }

    public void revision(long revision) {
        if (revision < this.revision) {
            applied.wentBack();
        }
        this.revision = revision;
    }

    public long revision() {
        return revision;
    }

    // ---- checks that need the rest of the cluster ------------------------------------------

    private Refusal contradiction(Entry e) {
        String host = hostOf(e);
        if (host != null && !(e instanceof Entry.Host)) {
            long l = leaseOf(host);
            if (l != 0 && l != e.lease()) {
                return Refusal.LEASE;
            }
        }
        if (e instanceof Entry.Claim c) {
            Entry.Network n = t.networks.get(c.network());
            if (n != null && !n.admits(c.ip())) {
                return Refusal.SUBNET;
            }
        }
        if (e instanceof Entry.Endpoint ep && ep.ip() != null) {
            Entry.Network n = t.networks.get(ep.network());
            if (n != null && !n.admits(ep.ip())) {
                return Refusal.SUBNET;
            }
            String holder = applied.holder(ep.network(), ep.ip());
            if (holder != null && !holder.equals(ep.host())) {
                return Refusal.CLAIM;
            }
        }
        return null;
    }

    private String contradictionDetail(Entry e, Refusal r) {
        return switch (r) {
            case LEASE -> "under lease " + Long.toHexString(e.lease()) + ", host " + hostOf(e) + "'s is "
                    + Long.toHexString(leaseOf(hostOf(e)));
            case CLAIM -> "address claimed by " + applied.holder(((Entry.Endpoint) e).network(), ((Entry.Endpoint) e).ip());
            default -> "outside the network's subnet";
        };
    }

    private static String hostOf(Entry e) {
        return KeyTable.hostOf(e);
    }

    private long leaseOf(String host) {
        return t.leaseOf(host);
    }

    private static boolean same(Entry a, Entry b) {
        if (a instanceof Entry.Network na && b instanceof Entry.Network nb) {
            return na.spec().equals(nb.spec());
        }
        if (a instanceof Entry.Claim ca && b instanceof Entry.Claim cb) {
            return ca.host().equals(cb.host()) && ca.lease() == cb.lease();
        }
        return a.equals(b);
    }

    // ---- deriving what is applied -----------------------------------------------------------

    /**
     * Ends a batch (a watch response, a list): decides the deletes (applied or lingering), then
     * derives everything marked and records what differs; returns whether anything did.
     */
    public boolean commit() {
        // Endpoints and networks first (they never linger), then what depends on endpoints, then hosts.
        for (int pass = 0; pass < 3; pass++) {
            for (String rel : new ArrayList<>(dirty.deletes)) {
                Entry e = t.byRel.get(rel);
                int order = e instanceof Entry.Host ? 2 : e instanceof Entry.Member || e instanceof Entry.Claim ? 1 : 0;
                if (order != pass) {
                    continue;
                }
                dirty.deletes.remove(rel);
                if (e != null && t.needed(e)) {
                    t.lingering.add(rel);
                } else if (e != null) {
                    t.lingering.remove(rel);
                    t.unfold(e);
                }
            }
        }
        for (String h : dirty.hosts) {
            for (String rel : t.relsOf(h)) {
                mark(t.byRel.get(rel));
            }
        }
        for (String n : dirty.networks) {
            applied.deriveNetwork(n);
            for (InetAddress ip : t.claimsIn(n)) {
                dirty.claims.add(new NetIp(n, ip));
            }
        }
        for (NetHost k : dirty.members) {
            applied.derivePeer(k);
            dirty.endpoints.addAll(t.endpointsOf(k));
        }
        for (NetIp k : dirty.claims) {
            applied.deriveHeld(k);
            dirty.endpoints.addAll(t.endpointsAt(k));
        }
        for (NetMac k : dirty.endpoints) {
            applied.deriveRemote(k);
        }
        dirty.clear();
        applied.revision = revision;
        return applied.pending();
    }

    private void mark(Entry e) {
        switch (e) {
            case Entry.Member m -> dirty.members.add(new NetHost(m.network(), m.host()));
            case Entry.Endpoint ep -> dirty.endpoints.add(new NetMac(ep.network(), ep.value()));
            case Entry.Claim c -> dirty.claims.add(new NetIp(c.network(), c.ip()));
            case null, default -> { }
        }
    }

    // ---- reading ----------------------------------------------------------------------------

    public ClusterChanges takeChanges() {
        return applied.takeChanges();
    }

    public ClusterChanges snapshot(String net) {
        return applied.snapshot(net);
    }

    public List<Inet4Address> peers(String net) {
        return applied.peers(net);
    }

    public List<String> peerHosts(String net) {
        return applied.peerHosts(net);
    }

    public String holder(String net, InetAddress ip) {
        return applied.holder(net, ip);
    }

    public Map<String, String> networks() {
        return applied.networks();
    }

    public boolean hasNetwork(String name) {
        return applied.hasNetwork(name);
    }

    public int hostCount() {
        return t.hosts.size();
    }

    public int endpointCount() {
        return t.endpoints.size();
    }

    public int lingeringCount() {
        return t.lingering.size();
    }

    /** A copy for operators ({@code cluster show}): raw entries, as accepted. */
    public ClusterView view() {
        Map<String, ClusterView.Host> h = new HashMap<>();
        t.hosts.forEach((n, e) -> h.put(n, new ClusterView.Host(n, e.vtep(), e.port(), e.since(), e.lease())));
        Map<String, Set<String>> m = new HashMap<>();
        t.members.keySet().forEach(k -> m.computeIfAbsent(k.net(), x -> new java.util.TreeSet<>()).add(k.host()));
        Map<String, Map<String, ClusterView.Endpoint>> ep = new HashMap<>();
        t.endpoints.forEach((k, e) -> ep.computeIfAbsent(k.net(), x -> new HashMap<>())
                .put(e.mac(), new ClusterView.Endpoint(e.mac(), e.value(), e.ipText(), e.host())));
        Map<String, Map<String, String>> a = new HashMap<>();
        t.claims.forEach((k, c) -> a.computeIfAbsent(k.net(), x -> new HashMap<>()).put(k.ip().getHostAddress(), c.host()));
        m.replaceAll((k, v) -> Set.copyOf(v));
        ep.replaceAll((k, v) -> Map.copyOf(v));
        a.replaceAll((k, v) -> Map.copyOf(v));
        return new ClusterView(Map.copyOf(h), applied.networks(), Map.copyOf(m), Map.copyOf(ep), Map.copyOf(a), revision,
                refusals.refusedKeys(), refusals.counts(), t.lingering.size());
    }
}
