package io.vswitch.core;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The MAC learning table of one network: source MAC -> port on which it was last seen.
 *
 * <h2>What it maps</h2>
 * Keys are the network id (bits 48..63) and the 48-bit MAC, packed in one {@code long}; a key of
 * zero marks an empty slot, and network ids start at 1, so no real key is zero. Values are
 * packed longs too:
 * <pre>
 *   63   62        48 47          32 31                     0
 *   +---+------------+--------------+------------------------+
 *   | S | generation |   port id    |  last-seen tick (s)    |
 *   +---+------------+--------------+------------------------+
 * </pre>
 * S marks a static entry (configured, never ages, never moves). A value of zero means "no
 * entry": either the slot was never filled or the entry was deleted.
 *
 * <h2>Concurrency: lock-free by design</h2>
 * Every data-plane lane learns and looks up concurrently. Lookups are wait-free: a linear probe
 * with acquire loads. Learning is lock-free: a new key claims an empty slot with a CAS on the
 * key, then publishes its value with a CAS from zero; moves and age refreshes are a CAS on the
 * value. In steady state a known MAC on the same port within the same tick writes nothing at
 * all, so the table's cache lines stay shared between cores. The age stamp is rewritten only
 * when the coarse one-second tick changes.
 *
 * <p>Deleting (aging, flush, {@code fdb del}) only zeroes the value: the key stays as a dead
 * slot that the same MAC revives in place. Probe chains therefore never break under a
 * concurrent reader. Dead keys of MACs that never come back are reclaimed by {@link #compact},
 * which builds fresh arrays ({@link MacSlots}) with the live entries and publishes them; it
 * first retires the old arrays and waits a {@link Quiescence}, so no learner can still be
 * writing into them, and
 * learners that see the retired arrays simply skip learning for that frame (it floods or is
 * forwarded by the still-readable old arrays; the next frame learns).
 *
 * <h2>Limit and eviction policy</h2>
 * At most {@code limit} live entries. When full, new MACs are not learned (their frames flood)
 * and nothing established is evicted: a flood of random source MACs (the classic CAM-overflow
 * attack that turns a switch into a hub) cannot push out the hosts that are really there.
 * Every refusal is counted as a limit hit. Entries leave only by aging, a flush, deletion, or
 * when their port is removed (lazily: a value whose generation no longer matches its port is
 * treated as absent and reclaimed by the next sweep).
 *
 * <p>Control-side writers ({@link #sweep}, {@link #compact}, {@link #putStatic}, {@link #remove},
 * {@link #flush}) are serialised with each other by this object's monitor; they never block a
 * lane.
 */
public final class MacTable {
    /** learn() outcomes. */
    public static final int UNCHANGED = 0;
    public static final int REFRESHED = 1;
    public static final int LEARNED = 2;
    public static final int MOVED = 3;
    public static final int LIMIT_HIT = 4;
    public static final int STATIC = 5;
    public static final int RETIRED = 6;

    private static final VarHandle LONGS = MacSlots.LONGS;
    private static final long EMPTY = MacSlots.EMPTY;
    private static final long STATIC_BIT = 1L << 63;
    private static final long MAC_MASK = 0xFFFF_FFFF_FFFFL;
    private static final int MAX_PORT_ID = 0xFFFF;
    private static final int GENERATION_MASK = 0x7FFF;

    private final long keyTag;
    private final int limit;
    /** Slots in the current arrays; grows (by {@link #putStatic} only) when static entries pass the limit. */
    private volatile int capacity;
    private final AtomicInteger live = new AtomicInteger();
    /** Static entries among the live ones: they do not count against the limit on learning. */
    private final AtomicInteger statics = new AtomicInteger();
    private volatile MacSlots slots;

    public MacTable(int networkId, int limit) {
        if (networkId < 1 || networkId > 0xFFFF) {
            throw new IllegalArgumentException("network id must be 1..65535: " + networkId);
        }
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive: " + limit);
        }
        this.keyTag = (long) networkId << 48;
        this.limit = limit;
        // Load factor at most 1/4 when full of live entries, 1/2 before compaction must run.
        this.capacity = Math.max(64, Integer.highestOneBit(Math.max(1, limit) * 4 - 1) << 1);
        this.slots = new MacSlots(capacity);
    }

    // ---- value packing ---------------------------------------------------------------------

    public static long pack(int portId, int generation, int tick, boolean isStatic) {
        return (isStatic ? STATIC_BIT : 0) | ((long) (generation & GENERATION_MASK) << 48)
                | ((long) (portId & MAX_PORT_ID) << 32) | (tick & 0xFFFF_FFFFL);
    }

    public static int portId(long value) {
        return (int) (value >>> 32) & MAX_PORT_ID;
    }

    public static int generation(long value) {
        return (int) (value >>> 48) & GENERATION_MASK;
    }

    public static int tick(long value) {
        return (int) value;
    }

    public static boolean isStatic(long value) {
        return value < 0;
    }

    // ---- data path --------------------------------------------------------------------------

    /** The packed value for {@code mac}, or 0 when it is not in the table. Wait-free. */
    public long lookup(long mac) {
        MacSlots s = slots;
        int i = s.slotOf(keyTag | mac);
        return i < 0 ? 0 : s.value(i);
    }

    /**
     * Learns that {@code mac} was seen on {@code portId} (of {@code generation}) at {@code tick}.
     * Returns one of the outcome constants. Lock-free; allocation-free.
     */
    public int learn(long mac, int portId, int generation, int tick) {
        return (int) (learnFrom(mac, portId, generation, tick) & 0xFF);
    }

    /**
     * As {@link #learn}, and for {@link #MOVED} also where from: the outcome in the low 8 bits,
     * the previous entry's port id in bits 8-23 and its generation in bits 24-38.
     */
    public long learnFrom(long mac, int portId, int generation, int tick) {
        MacSlots s = slots;
        if (s.retired) {
            return RETIRED;
        }
        long key = keyTag | mac;
        int mask = s.mask;
        int i = MacSlots.index(key, mask);
        for (int probes = 0; probes <= mask; probes++) {
            long k = (long) LONGS.getAcquire(s.keys, i);
            if (k == EMPTY) {
                if (!reserve()) {
                    return LIMIT_HIT;
                }
                if (LONGS.compareAndSet(s.keys, i, EMPTY, key)) {
                    if (LONGS.compareAndSet(s.values, i, 0L, pack(portId, generation, tick, false))) {
                        return LEARNED;
                    }
                    // Another learner of the same MAC revived the slot between our two CASes.
                    live.decrementAndGet();
                    return update(s, i, portId, generation, tick);
                }
                live.decrementAndGet();
                k = (long) LONGS.getAcquire(s.keys, i);
            }
            if (k == key) {
                return update(s, i, portId, generation, tick);
            }
            i = (i + 1) & mask;
        }
        // Every slot holds a key (only possible with heavy churn between compactions).
        return LIMIT_HIT;
    }

    private long update(MacSlots s, int i, int portId, int generation, int tick) {
        long fresh = pack(portId, generation, tick, false);
        for (;;) {
            long v = (long) LONGS.getAcquire(s.values, i);
            if (v == 0) {
                if (!reserve()) {
                    return LIMIT_HIT;
                }
                if (LONGS.compareAndSet(s.values, i, 0L, fresh)) {
                    return LEARNED;
                }
                live.decrementAndGet();
                continue;
            }
            if (isStatic(v)) {
                return STATIC;
            }
            if (portId(v) == portId && generation(v) == (generation & GENERATION_MASK)) {
                if (tick(v) == tick) {
                    return UNCHANGED;
                }
                // A lost race here means someone else just wrote a newer value: fine either way.
                LONGS.compareAndSet(s.values, i, v, fresh);
                return REFRESHED;
            }
            if (LONGS.compareAndSet(s.values, i, v, fresh)) {
                return portId(v) == portId ? LEARNED
                        : MOVED | ((long) portId(v) << 8) | ((long) generation(v) << 24);
            }
        }
    }

    private boolean reserve() {
        if (live.incrementAndGet() - statics.get() > limit) {
            live.decrementAndGet();
            return false;
        }
        return true;
    }

    // ---- control path -----------------------------------------------------------------------

    /** Live entries that were learned (not static): what the limit applies to. */
    public int learned() {
        return live.get() - statics.get();
    }

    public int size() {
        return live.get();
    }

    public int limit() {
        return limit;
    }

    /** The largest table: 16 M slots (4 M entries at the load factor kept). */
    private static final int MAX_CAPACITY = 1 << 24;

    /**
     * Adds or replaces a static entry (never ages, never moves); ignores the limit. Static
     * entries may outnumber the limit (an operator's, or a cluster's remote endpoints): the
     * arrays then grow, so the load factor stays at most 1/2 and lookups stay short.
     */
    public synchronized void putStatic(long mac, int portId, int generation) {
        if ((long) (live.get() + 1) * 2 > capacity && capacity < MAX_CAPACITY) {
            rebuild(null, capacity * 2);
        }
        long value = pack(portId, generation, 0, true);
        MacSlots s = slots;
        long key = keyTag | mac;
        int i = MacSlots.index(key, s.mask);
        for (int probes = 0; probes <= s.mask; probes++) {
            long k = (long) LONGS.getAcquire(s.keys, i);
            if (k == EMPTY && LONGS.compareAndSet(s.keys, i, EMPTY, key)) {
                k = key;
            }
            if (k == key) {
                long old = (long) LONGS.getAndSet(s.values, i, value);
                if (old == 0) {
                    live.incrementAndGet();
                }
                if (old == 0 || !isStatic(old)) {
                    statics.incrementAndGet();
                }
                return;
            }
            i = (i + 1) & s.mask;
        }
        // Every slot holds a key, live or dead: rebuild with room (never the same size twice).
        if (capacity >= MAX_CAPACITY && live.get() * 2 >= capacity) {
            throw new IllegalStateException("MAC table of network " + (keyTag >>> 48) + " is full (" + live.get() + " entries)");
        }
        rebuild(null, live.get() * 2 >= capacity ? Math.min(MAX_CAPACITY, capacity * 2) : capacity);
        putStatic(mac, portId, generation);
    }

    /** Removes {@code mac}; returns whether there was an entry. */
    public synchronized boolean remove(long mac) {
        MacSlots s = slots;
        int i = s.slotOf(keyTag | mac);
        return i >= 0 && kill(s, i);
    }

    private boolean kill(MacSlots s, int i) {
        for (;;) {
            long v = (long) LONGS.getAcquire(s.values, i);
            if (v == 0) {
                return false;
            }
            if (LONGS.compareAndSet(s.values, i, v, 0L)) {
                live.decrementAndGet();
                if (isStatic(v)) {
                    statics.decrementAndGet();
                }
                return true;
            }
        }
    }

    /** What a sweep or flush should remove. */
    @FunctionalInterface
    public interface EntryFilter {
        boolean test(long mac, long value);
    }

    /**
     * Removes every entry the filter accepts (including static ones if it accepts them); returns
     * how many were removed. Used by {@code fdb flush}, port removal and aging.
     */
    public synchronized int removeIf(EntryFilter filter) {
        MacSlots s = slots;
        int removed = 0;
        for (int i = 0; i <= s.mask; i++) {
            long k = (long) LONGS.getAcquire(s.keys, i);
            if (k == EMPTY) {
                continue;
            }
            long v = (long) LONGS.getAcquire(s.values, i);
            if (v != 0 && filter.test(k & MAC_MASK, v) && LONGS.compareAndSet(s.values, i, v, 0L)) {
                live.decrementAndGet();
                if (isStatic(v)) {
                    statics.decrementAndGet();
                }
                removed++;
            }
        }
        return removed;
    }

    /** Removes every non-static entry; returns how many. */
    public int flush() {
        return removeIf((mac, v) -> !isStatic(v));
    }

    /**
     * Ages out dynamic entries not seen for {@code agingTicks} ticks, and entries the validity
     * filter rejects (their port was removed). Returns the number aged (not counting invalid).
     */
    public synchronized int sweep(int nowTick, int agingTicks, EntryFilter stillValid, int[] invalidOut) {
        int[] aged = {0};
        int invalid = removeIf((mac, v) -> {
            if (!stillValid.test(mac, v)) {
                return true;
            }
            if (!isStatic(v) && nowTick - tick(v) >= agingTicks) {
                aged[0]++;
                return true;
            }
            return false;
        });
        if (invalidOut != null) {
            invalidOut[0] = invalid - aged[0];
        }
        return aged[0];
    }

    /** How many slots hold a key, live or dead. */
    public synchronized int usedSlots() {
        return slots.usedSlots();
    }

    /** Compacts when dead keys make probe chains long (more than half the slots used). */
    public synchronized boolean compactIfNeeded(Quiescence grace) {
        if (usedSlots() * 2 <= capacity) {
            return false;
        }
        compact(grace);
        return true;
    }

    /**
     * Rebuilds the arrays with only the live entries. Retires the current arrays, waits for the
     * lanes to leave them (when {@code grace} is given), copies and publishes.
     */
    public synchronized void compact(Quiescence grace) {
        rebuild(grace, capacity);
    }

    private void rebuild(Quiescence grace, int newCapacity) {
        MacSlots old = slots;
        old.retired = true;
        if (grace != null && !grace.await(1_000_000_000L)) {
            old.retired = false;
            return; // A lane is stuck in one batch for a second; try again at the next sweep.
        }
        MacSlots fresh = new MacSlots(newCapacity);
        long counts = fresh.copyLiveFrom(old);
        live.set((int) counts);
        statics.set((int) (counts >>> 32));
        capacity = newCapacity;
        slots = fresh;
    }

    /** Receives entries in {@link #forEach}. */
    @FunctionalInterface
    public interface EntryVisitor {
        void visit(long mac, long value);
    }

    /** Visits every live entry (a weakly consistent snapshot). Control path only. */
    public void forEach(EntryVisitor visitor) {
        slots.forEachLive(MAC_MASK, visitor);
    }
}
