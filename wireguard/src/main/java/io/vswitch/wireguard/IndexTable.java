package io.vswitch.wireguard;

import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;

/**
 * Our 32-bit session indices (whitepaper 5.4.2: random, so they say nothing about peers or
 * sessions) to what they name: a {@link Handshake} waiting for its response, or a {@link Keypair}.
 * Every transport datagram is looked up here by its receiver index.
 *
 * <p>Threading: lock-free reads, locked copy-on-write updates. Reads (every datagram) probe an
 * immutable open-addressed table published through a volatile field, allocating nothing.
 * Changes (a handshake: a few per peer per two minutes) take this table's lock, change a
 * master map and publish a fresh table, so a reader sees either the old table or the new one.
 */
final class IndexTable {
    private record Table(int[] keys, Object[] values, int mask) {
    }

    private final Map<Integer, Object> master = new HashMap<>();
    private volatile Table table = new Table(new int[16], new Object[16], 15);

    /** What {@code index} names, or null. */
    Object get(int index) {
        Table t = table;
        int slot = mix(index) & t.mask;
        while (true) {
            Object v = t.values[slot];
            if (v == null) {
                return null;
            }
            if (t.keys[slot] == index) {
                return v;
            }
            slot = (slot + 1) & t.mask;
        }
    }

    /** Registers {@code value} under a new random index and returns it. */
    synchronized int add(Object value, SecureRandom random) {
        int index;
        do {
            index = random.nextInt();
        } while (master.containsKey(index));
        master.put(index, value);
        publish();
        return index;
    }

    /** Points an existing index at {@code value} (a handshake's index becomes its keypair's). */
    synchronized void replace(int index, Object value) {
        master.put(index, value);
        publish();
    }

    /** Removes {@code index} if it still names {@code value}. */
    synchronized void remove(int index, Object value) {
        if (value != null && master.remove(index, value)) {
            publish();
        }
    }

    synchronized int size() {
        return master.size();
    }

    private void publish() {
        int capacity = 16;
        while (capacity < master.size() * 2) {
            capacity <<= 1;
        }
        int[] keys = new int[capacity];
        Object[] values = new Object[capacity];
        int mask = capacity - 1;
        for (Map.Entry<Integer, Object> e : master.entrySet()) {
            int slot = mix(e.getKey()) & mask;
            while (values[slot] != null) {
                slot = (slot + 1) & mask;
            }
            keys[slot] = e.getKey();
            values[slot] = e.getValue();
        }
        table = new Table(keys, values, mask);
    }

    private static int mix(int index) {
        return index * 0x9E3779B9 >>> 7 ^ index;
    }
}
