package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * Offsets into an IPv4 header (RFC 791, section 3.1) and static accessors at an absolute index
 * of a buffer. Nothing is copied or allocated.
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |Flags|      Fragment Offset    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options (IHL > 5)                          |
 * </pre>
 */
public final class Ipv4Header {
    public static final int ETHER_TYPE = 0x0800;
    public static final int VERSION_IHL_OFFSET = 0;
    public static final int TOS_OFFSET = 1;
    public static final int TOTAL_LENGTH_OFFSET = 2;
    public static final int ID_OFFSET = 4;
    public static final int FRAGMENT_OFFSET = 6;
    public static final int TTL_OFFSET = 8;
    public static final int PROTOCOL_OFFSET = 9;
    public static final int CHECKSUM_OFFSET = 10;
    public static final int SOURCE_OFFSET = 12;
    public static final int DESTINATION_OFFSET = 16;
    /** Without options. */
    public static final int MIN_LENGTH = 20;
    /** Version 4, IHL 5: a header without options. */
    public static final int VERSION_IHL_PLAIN = 0x45;
    /** The MF flag and the fragment offset: non-zero for any fragment. */
    public static final int FRAGMENT_MASK = 0x3FFF;

    private Ipv4Header() {
    }

    /** The header's length in bytes (IHL * 4). */
    public static int length(ByteBuf buf, int at) {
        return (buf.getByte(at + VERSION_IHL_OFFSET) & 0x0F) * 4;
    }

    public static int version(ByteBuf buf, int at) {
        return (buf.getUnsignedByte(at + VERSION_IHL_OFFSET) >> 4);
    }

    public static int protocol(ByteBuf buf, int at) {
        return buf.getUnsignedByte(at + PROTOCOL_OFFSET);
    }

    public static int totalLength(ByteBuf buf, int at) {
        return buf.getUnsignedShort(at + TOTAL_LENGTH_OFFSET);
    }

    public static boolean isFragment(ByteBuf buf, int at) {
        return (buf.getUnsignedShort(at + FRAGMENT_OFFSET) & FRAGMENT_MASK) != 0;
    }

    /** Source and destination addresses as one long (source in the high half). */
    public static long addresses(ByteBuf buf, int at) {
        return buf.getLong(at + SOURCE_OFFSET);
    }

    public static int source(ByteBuf buf, int at) {
        return buf.getInt(at + SOURCE_OFFSET);
    }

    public static int destination(ByteBuf buf, int at) {
        return buf.getInt(at + DESTINATION_OFFSET);
    }
}
