package io.vswitch.ctl;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Rows printed in columns as wide as their widest cell, so that long values (a 64-hex id, an
 * IPv6 subnet, a namespace path) never push the columns after them out of line. Text is
 * left-aligned, numbers right-aligned; an absent value prints as {@code -}; the last column is
 * not padded.
 */
final class Table {
    private final String[] header;
    private final List<String[]> rows = new ArrayList<>();

    Table(String... header) {
        this.header = header;
    }

    Table row(Object... cells) {
        if (cells.length != header.length) {
            throw new IllegalArgumentException(cells.length + " cells for " + header.length + " columns");
        }
        rows.add(Arrays.stream(cells).map(c -> c == null ? "-" : c.toString()).toArray(String[]::new));
        return this;
    }

    void print(PrintWriter out) {
        int[] width = new int[header.length];
        boolean[] numeric = new boolean[header.length];
        for (int c = 0; c < header.length; c++) {
            width[c] = header[c].length();
            numeric[c] = !rows.isEmpty();
            for (String[] row : rows) {
                width[c] = Math.max(width[c], row[c].length());
                numeric[c] &= row[c].matches("-?[0-9]+s?|-");
            }
        }
        line(out, header, width, numeric);
        for (String[] row : rows) {
            line(out, row, width, numeric);
        }
    }

    private static void line(PrintWriter out, String[] cells, int[] width, boolean[] numeric) {
        StringBuilder b = new StringBuilder();
        for (int c = 0; c < cells.length; c++) {
            if (c > 0) {
                b.append("  ");
            }
            String pad = " ".repeat(width[c] - cells[c].length());
            b.append(numeric[c] ? pad + cells[c] : c == cells.length - 1 ? cells[c] : cells[c] + pad);
        }
        out.println(b);
    }

    /** A Docker or podman id (64 hex digits, perhaps with /IFNAME after) cut to 12 digits, as docker ps shows it. */
    static String shortId(String id) {
        if (id != null && id.length() >= 64 && id.substring(0, 64).matches("[0-9a-f]{64}")) {
            return id.substring(0, 12) + id.substring(64);
        }
        return id;
    }
}
