package io.vswitch.core;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A network's names and their addresses, looked up by the bytes of a DNS question without
 * allocating: an open-addressing table of lower-case ASCII names, built once, read by any lane.
 */
public final class NameTable {
    /** One name: its IPv4 addresses (big-endian ints) and IPv6 addresses (16 bytes each). */
    static final class Entry {
        final byte[] key;
        final int[] v4;
        final byte[][] v6;

        Entry(byte[] key, int[] v4, byte[][] v6) {
            this.key = key;
            this.v4 = v4;
            this.v6 = v6;
        }
    }

    private final Entry[] slots;
    private final int mask;
    private final int size;

    NameTable(Map<String, List<byte[]>> names, byte[] domain) {
        int capacity = Integer.highestOneBit(Math.max(4, names.size() * 4) - 1) << 1;
        this.slots = new Entry[capacity];
        this.mask = capacity - 1;
        this.size = names.size();
        for (Map.Entry<String, List<byte[]>> e : names.entrySet()) {
            byte[] key = e.getKey().getBytes(StandardCharsets.US_ASCII);
            int[] v4 = e.getValue().stream().filter(a -> a.length == 4).mapToInt(Directory::int4).distinct().toArray();
            byte[][] v6 = e.getValue().stream().filter(a -> a.length == 16).distinct().toArray(byte[][]::new);
            int i = hash(key, 0, key.length) & mask;
            while (slots[i] != null) {
                i = (i + 1) & mask;
            }
            slots[i] = new Entry(key, v4, v6);
        }
    }

    /** How many names. */
    public int size() {
        return size;
    }

    /** The entry for {@code name[0..length)} (lower-case already), or null. */
    Entry find(byte[] name, int length) {
        int i = hash(name, 0, length) & mask;
        for (Entry e = slots[i]; e != null; e = slots[i = (i + 1) & mask]) {
            if (e.key.length == length && Arrays.equals(e.key, 0, length, name, 0, length)) {
                return e;
            }
        }
        return null;
    }

    /** IPv4 addresses of a name, for tests and the CLI; empty when unknown. */
    public int[] ipv4(String name) {
        byte[] key = name.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
        Entry e = find(key, key.length);
        return e == null ? new int[0] : e.v4.clone();
    }

    private static int hash(byte[] b, int from, int length) {
        int h = 0x811C9DC5;
        for (int i = from; i < from + length; i++) {
            h = (h ^ (b[i] & 0xFF)) * 0x01000193;
        }
        return h ^ (h >>> 16);
    }

    /**
     * A name as the table keeps it: lower case, without a final dot; null when it cannot be a
     * DNS name (empty, over 253 characters, an empty label or one over 63, or a byte outside
     * letters, digits, '-', '_' and '.').
     */
    public static String normal(String name) {
        if (name == null) {
            return null;
        }
        String n = name.toLowerCase(Locale.ROOT);
        if (n.endsWith(".")) {
            n = n.substring(0, n.length() - 1);
        }
        if (n.isEmpty() || n.length() > 253) {
            return null;
        }
        int label = 0;
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            if (c == '.') {
                if (label == 0) {
                    return null;
                }
                label = 0;
                continue;
            }
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                return null;
            }
            if (++label > 63) {
                return null;
            }
        }
        return label == 0 ? null : n;
    }
}
