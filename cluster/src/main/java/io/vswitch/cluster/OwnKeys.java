package io.vswitch.cluster;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * This host's own keys (its host key, memberships, endpoints and address claims) and what must
 * be written to make etcd hold them: they are this host's truth.
 * <ul>
 *   <li>A key the daemon changed ({@link #put}, {@link #remove}) is written once.</li>
 *   <li>A key someone else overwrote or deleted is written back ({@link Rewrite}: a Txn that puts
 *       it only if the key is still as seen, so nothing newer is clobbered).</li>
 *   <li>A key naming this host that it did not write is deleted ({@link Rewrite} with no value),
 *       once the daemon has put all of its keys ({@link #ready}): before that it may be this
 *       host's own from before a restart.</li>
 *   <li>An address claim another live host took by compare-create after this host's claim had
 *       vanished (etcd away past the lease) is given up, reported once, not fought over.</li>
 * </ul>
 * A key fought over (rewritten three times within {@link #WINDOW_MS}) is written back after a
 * growing pause, 1 s doubling to {@link #MAX_PAUSE_MS}: a writer that keeps at it (or a second
 * daemon with this host's name) costs a write every few seconds, not a loop.
 *
 * <p>Thread-safe: the daemon's threads put and remove, the watch's thread reports what it saw,
 * the session's thread takes the work.
 */
final class OwnKeys implements ClusterState.Owner {
    private static final Logger LOG = LoggerFactory.getLogger(OwnKeys.class);
    static final long WINDOW_MS = 10_000;
    static final long MAX_PAUSE_MS = 8_000;

    /** A put only if the key's mod revision is still {@code seen} (0: the key is absent), or such a delete ({@code value} null). */
    record Rewrite(String key, String value, long seen) {
    }

    /** What the session writes next. */
    record Work(Map<String, String> puts, List<String> deletes, Map<String, String> claims, List<Rewrite> rewrites) {
        boolean isEmpty() {
            return puts.isEmpty() && deletes.isEmpty() && claims.isEmpty() && rewrites.isEmpty();
        }

        int size() {
            return puts.size() + deletes.size() + claims.size() + rewrites.size();
        }
    }

    private static final class Pause {
        int count;
        long windowStart;
        long nextAt;
    }

    private final Keys keys;
    private final String claimsPrefix;
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> dirty = new HashSet<>();
    private final Set<String> conflicted = new HashSet<>();
    private final Map<String, String> lastSent = new HashMap<>();
    private final Map<String, Long> rewrites = new HashMap<>();
    private final Map<String, Long> strays = new HashMap<>();
    private final Map<String, Pause> pauses = new HashMap<>();
    private final java.util.function.LongSupplier clock;
    private long lease;
    private boolean ready;
    private long rewritten;

    /** This host's host key: written alone first under a new lease ({@link #take}). */
    private final String hostKey;
    private boolean hostFirst;

    OwnKeys(Keys keys, String hostKey, java.util.function.LongSupplier clock) {
        this.keys = keys;
        this.hostKey = hostKey;
        this.claimsPrefix = keys.root() + Keys.ADDRESSES;
        this.clock = clock;
    }

    // ---- the daemon's side ------------------------------------------------------------------

    /** Keeps {@code key} = {@code value}; returns whether that is a change to write. */
    synchronized boolean put(String key, String value) {
        if (conflicted.contains(key)) {
            return false; // another host holds it: not fought over
        }
        if (value.equals(values.put(key, value))) {
            return false;
        }
        dirty.add(key);
        return true;
    }

    /** Lets {@code key} go; returns whether there is a delete to write. */
    synchronized boolean remove(String key) {
        conflicted.remove(key);
        rewrites.remove(key);
        if (values.remove(key) == null) {
            return false;
        }
        dirty.add(key);
        return true;
    }

    synchronized Set<String> keysUnder(String prefix) {
        Set<String> out = new HashSet<>();
        for (String k : values.keySet()) {
            if (k.startsWith(prefix)) {
                out.add(k);
            }
        }
        return out;
    }

    synchronized String value(String key) {
        return values.get(key);
    }

    /** The daemon has put every key it has: keys naming this host that it did not put are forged from now on. */
    synchronized void ready() {
        ready = true;
    }

    /**
     * A claim about to be made by compare-create (outside the session): kept, and known as
     * written, before the call, since its event may arrive before the call's answer.
     */
    synchronized void claiming(String key, String value) {
        values.put(key, value);
        lastSent.put(key, value);
    }

    /** A claim that was not made (another host holds it, or etcd failed): forgotten, nothing to write. */
    synchronized void unclaimed(String key) {
        values.remove(key);
        lastSent.remove(key);
        rewrites.remove(key);
        dirty.remove(key);
    }

    // ---- the session's side -----------------------------------------------------------------

    /**
     * Under a (new) lease every key is written again, the host key alone first: the others see
     * its new lease before any key under it, so none of them looks like a key under a foreign
     * lease.
     */
    synchronized void lease(long lease) {
        this.lease = lease;
        dirty.addAll(values.keySet());
        rewrites.clear();
        hostFirst = values.containsKey(hostKey);
    }

    /** Takes what is due now: changed keys, and keys to write back or delete whose pause is over. */
    synchronized Work take() {
        if (hostFirst) {
            hostFirst = false;
            String v = values.get(hostKey);
            if (v != null && dirty.remove(hostKey)) {
                lastSent.put(hostKey, v);
                return new Work(Map.of(hostKey, v), List.of(), Map.of(), List.of());
            }
        }
        Map<String, String> puts = new HashMap<>();
        Map<String, String> claims = new HashMap<>();
        List<String> deletes = new ArrayList<>();
        for (String key : dirty) {
            String v = values.get(key);
            if (v == null) {
                deletes.add(key);
            } else if (key.startsWith(claimsPrefix)) {
                claims.put(key, v);
            } else {
                puts.put(key, v);
            }
            lastSent.put(key, v);
            rewrites.remove(key);
        }
        dirty.clear();
        List<Rewrite> due = new ArrayList<>();
        long now = clock.getAsLong();
        for (var it = rewrites.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Long> e = it.next();
            String v = values.get(e.getKey());
            if (v == null) {
                it.remove();
            } else if (due(e.getKey(), now)) {
                due.add(new Rewrite(e.getKey(), v, e.getValue()));
                lastSent.put(e.getKey(), v);
                it.remove();
            }
        }
        if (ready) {
            for (var it = strays.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<String, Long> e = it.next();
                if (values.containsKey(e.getKey())) {
                    it.remove();
                } else if (due(e.getKey(), now)) {
                    due.add(new Rewrite(e.getKey(), null, e.getValue()));
                    it.remove();
                }
            }
        }
        rewritten += due.size();
        return new Work(puts, deletes, claims, due);
    }

    /** When the next paused write back is due (ms, the clock's), or Long.MAX_VALUE. */
    synchronized long nextDue() {
        long next = Long.MAX_VALUE;
        for (String k : rewrites.keySet()) {
            next = Math.min(next, pauses.containsKey(k) ? pauses.get(k).nextAt : 0);
        }
        if (ready) {
            for (String k : strays.keySet()) {
                next = Math.min(next, pauses.containsKey(k) ? pauses.get(k).nextAt : 0);
            }
        }
        return next;
    }

    synchronized boolean hasWork() {
        return !dirty.isEmpty() || nextDue() <= clock.getAsLong();
    }

    /** Writes that failed: tried again next time. */
    synchronized void failed(Work w) {
        for (String k : w.puts().keySet()) {
            markDirty(k);
        }
        for (String k : w.claims().keySet()) {
            markDirty(k);
        }
        for (String k : w.deletes()) {
            markDirty(k);
        }
        for (Rewrite r : w.rewrites()) {
            if (r.value() != null) {
                markDirty(r.key());
            } else {
                strays.putIfAbsent(r.key(), r.seen());
            }
        }
    }

    private void markDirty(String key) {
        dirty.add(key); // written as it stands by then: a put, or a delete if the daemon let it go meanwhile
    }

    /** A claim written again was found held by another host: given up, reported once. */
    synchronized void lost(String key) {
        values.remove(key);
        conflicted.add(key);
        LOG.warn("cluster: {} is claimed by another host too (it was given out while this host's claim was away):"
                + " two endpoints may share that address; detach one of them", keys.relative(key));
    }

    /** Whether the key is due for a write back now, counting it against its pause. */
    private boolean due(String key, long now) {
        Pause p = pauses.computeIfAbsent(key, k -> new Pause());
        if (now < p.nextAt) {
            return false;
        }
        if (now - p.windowStart > WINDOW_MS) {
            p.windowStart = now;
            p.count = 0;
        }
        p.count++;
        if (p.count >= 3) {
            p.nextAt = now + Math.min(MAX_PAUSE_MS, 1000L << Math.min(10, p.count - 3));
            if (p.count == 3) {
                LOG.warn("cluster: {} keeps being written by another writer; writing it back at most every few seconds"
                        + " (another daemon with host name of this one?)", keys.relative(key));
            }
        }
        if (pauses.size() > 10_000) {
            pauses.values().removeIf(x -> now - x.windowStart > WINDOW_MS && now >= x.nextAt);
        }
        return true;
    }

    synchronized long rewritten() {
        return rewritten;
    }

    // ---- what the watch saw (ClusterState.Owner) --------------------------------------------

    @Override
    public synchronized boolean owns(String rel) {
        String key = keys.root() + rel;
        return values.containsKey(key) || conflicted.contains(key);
    }

    @Override
    public synchronized Verdict ownPut(String rel, String value, long lease, long modRevision, boolean legitOther) {
        String key = keys.root() + rel;
        String own = values.get(key);
        if (own == null) {
            return Verdict.RELEASED; // conflicted: another host's, folded in as such
        }
        if (lease == this.lease && own.equals(value)) {
            return Verdict.APPLY;
        }
        if (lease == this.lease && value != null && value.equals(lastSent.get(key))) {
            return Verdict.IGNORE; // an earlier write of this host; the newer one follows
        }
        if (legitOther && key.startsWith(claimsPrefix)) {
            lost(key);
            dirty.remove(key);
            return Verdict.RELEASED;
        }
        rewrites.put(key, modRevision);
        return Verdict.KEEP;
    }

    @Override
    public synchronized boolean ownDeleted(String rel) {
        String key = keys.root() + rel;
        if (conflicted.remove(key)) {
            return true; // the other host's claim went: the address may be claimed again
        }
        if (values.containsKey(key) && !dirty.contains(key)) {
            rewrites.put(key, 0L);
        }
        return false;
    }

    @Override
    public synchronized boolean stray(String rel, long modRevision) {
        String key = keys.root() + rel;
        if (values.containsKey(key)) {
            return false;
        }
        strays.put(key, modRevision);
        return ready;
    }
}
