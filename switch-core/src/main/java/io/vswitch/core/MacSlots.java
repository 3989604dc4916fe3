package io.vswitch.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One generation of a {@link MacTable}'s arrays: keys and values side by side, open addressing
 * with linear probing over a power-of-two number of slots, a key of zero marking an empty slot.
 * The table replaces it whole when it compacts or grows ({@link #copyLiveFrom}); readers that
 * still hold the old one keep reading it safely, and {@link #retired} tells learners not to
 * write into it any more.
 *
 * <p>Every read here is an acquire load, so a lane that finds a key also sees its value as
 * published; the table makes the writes (CAS on keys and values).
 */
final class MacSlots {
    static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    static final long EMPTY = 0;

    final long[] keys;
    final long[] values;
    final int mask;
    volatile boolean retired;

    MacSlots(int capacity) {
        keys = new long[capacity];
        values = new long[capacity];
        mask = capacity - 1;
    }

    /** The first slot to probe for {@code key}. */
    static int index(long key, int mask) {
        // Murmur3's 64-bit finaliser: the low bits of a MAC (NIC serials) are well spread
        // already, but the vendor prefix is shared, so mix everything.
        long h = key;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return (int) h & mask;
    }

    long key(int i) {
        return (long) LONGS.getAcquire(keys, i);
    }

    long value(int i) {
        return (long) LONGS.getAcquire(values, i);
    }

    /** The slot holding {@code key}, or -1 when it is not here. Wait-free. */
    int slotOf(long key) {
        int i = index(key, mask);
        for (int probes = 0; probes <= mask; probes++) {
            long k = key(i);
            if (k == key) {
                return i;
            }
            if (k == EMPTY) {
                return -1;
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    /** How many slots hold a key, live or dead. */
    int usedSlots() {
        int used = 0;
        for (int i = 0; i <= mask; i++) {
            if (key(i) != EMPTY) {
                used++;
            }
        }
        return used;
    }

    /** Visits every live entry (a weakly consistent snapshot), its key masked with {@code keyMask}. */
    void forEachLive(long keyMask, MacTable.EntryVisitor visitor) {
        for (int i = 0; i <= mask; i++) {
            long k = key(i);
            if (k == EMPTY) {
                continue;
            }
            long v = value(i);
            if (v != 0) {
                visitor.visit(k & keyMask, v);
            }
        }
    }

    /**
     * Copies the live entries of {@code old} into these fresh arrays (no reader sees them yet).
     * Returns how many, in the low 32 bits, and how many of them are static, in the high ones.
     */
    long copyLiveFrom(MacSlots old) {
        int count = 0;
        int statics = 0;
        for (int i = 0; i <= old.mask; i++) {
            long k = old.key(i);
            long v = k == EMPTY ? 0 : old.value(i);
            if (v == 0) {
                continue;
            }
            int j = index(k, mask);
            while (keys[j] != EMPTY) {
                j = (j + 1) & mask;
            }
            keys[j] = k;
            values[j] = v;
            count++;
            if (MacTable.isStatic(v)) {
                statics++;
            }
        }
        return ((long) statics << 32) | count;
    }
}
