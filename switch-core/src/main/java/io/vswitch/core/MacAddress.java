package io.vswitch.core;

import java.util.Locale;

/**
 * A 48-bit Ethernet address at the edges: config, CLI, API, logs. In the data plane a MAC is a
 * {@code long} holding the six octets in its low 48 bits, first octet most significant; these
 * static methods convert between the two.
 */
public final class MacAddress {
    public static final long BROADCAST = 0xFFFF_FFFF_FFFFL;
    private static final long GROUP_BIT = 0x0100_0000_0000L;

    private MacAddress() {
    }

    /** Parses {@code aa:bb:cc:dd:ee:ff} (or with '-'); throws IllegalArgumentException saying what is wrong. */
    public static long parse(String text) {
        String[] parts = text.trim().split("[:-]");
        if (parts.length != 6) {
            throw new IllegalArgumentException("bad MAC address \"" + text + "\": expected six hex octets like 02:00:00:00:00:01");
        }
        long mac = 0;
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 2) {
                throw new IllegalArgumentException("bad MAC address \"" + text + "\": octet \"" + part + "\" is not 1-2 hex digits");
            }
            int octet;
            try {
                octet = Integer.parseInt(part, 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad MAC address \"" + text + "\": octet \"" + part + "\" is not hex");
            }
            mac = (mac << 8) | octet;
        }
        return mac;
    }

    public static String toString(long mac) {
        return String.format(Locale.ROOT, "%02x:%02x:%02x:%02x:%02x:%02x",
                (mac >>> 40) & 0xff, (mac >>> 32) & 0xff, (mac >>> 24) & 0xff,
                (mac >>> 16) & 0xff, (mac >>> 8) & 0xff, mac & 0xff);
    }

    /** Group (multicast or broadcast) addresses have the least significant bit of the first octet set. */
    public static boolean isGroup(long mac) {
        return (mac & GROUP_BIT) != 0;
    }

    public static boolean isBroadcast(long mac) {
        return mac == BROADCAST;
    }

    /** Whether a frame may carry this as its source: not zero, not a group address. */
    public static boolean isValidSource(long mac) {
        return mac != 0 && !isGroup(mac);
    }
}
