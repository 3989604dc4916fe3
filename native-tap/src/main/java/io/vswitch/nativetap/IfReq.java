package io.vswitch.nativetap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * {@code struct ifreq} (linux/if.h), 40 bytes on x86-64:
 * <pre>
 *   0                   16                  20                                  40
 *   +-------------------+-------------------+-----------------------------------+
 *   | ifr_name[IFNAMSIZ]| ifr_flags (short) / ifr_mtu / ifr_ifindex (int) ...    |
 *   +-------------------+-------------------------------------------------------+
 * </pre>
 */
final class IfReq {
    static final int SIZE = 40;
    static final int NAME_OFFSET = 0;
    static final int IFNAMSIZ = 16;
    static final int UNION_OFFSET = 16;

    private IfReq() {
    }

    static MemorySegment allocate(Arena arena, String name) {
        MemorySegment req = arena.allocate(SIZE, 8);
        byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length >= IFNAMSIZ) {
            throw new IllegalArgumentException("interface name \"" + name + "\" is longer than 15 bytes");
        }
        MemorySegment.copy(bytes, 0, req, JAVA_BYTE, NAME_OFFSET, bytes.length);
        return req;
    }

    static String name(MemorySegment req) {
        return req.getString(NAME_OFFSET, StandardCharsets.US_ASCII);
    }

    static short flags(MemorySegment req) {
        return req.get(JAVA_SHORT_UNALIGNED, UNION_OFFSET);
    }

    static void flags(MemorySegment req, short flags) {
        req.set(JAVA_SHORT_UNALIGNED, UNION_OFFSET, flags);
    }

    static int intValue(MemorySegment req) {
        return req.get(JAVA_INT_UNALIGNED, UNION_OFFSET);
    }

    static void intValue(MemorySegment req, int value) {
        req.set(JAVA_INT_UNALIGNED, UNION_OFFSET, value);
    }
}
