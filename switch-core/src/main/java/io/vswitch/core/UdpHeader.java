package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * Offsets into a UDP header (RFC 768) and static accessors at an absolute index.
 * <pre>
 *  0      7 8     15 16    23 24    31
 * +--------+--------+--------+--------+
 * |   Source Port   | Destination Port|
 * +--------+--------+--------+--------+
 * |     Length      |    Checksum     |
 * +--------+--------+--------+--------+
 * </pre>
 */
public final class UdpHeader {
    public static final int PROTOCOL = 17;
    public static final int SOURCE_PORT_OFFSET = 0;
    public static final int DESTINATION_PORT_OFFSET = 2;
    public static final int LENGTH_OFFSET = 4;
    public static final int CHECKSUM_OFFSET = 6;
    public static final int LENGTH = 8;

    private UdpHeader() {
    }

    public static int sourcePort(ByteBuf buf, int at) {
        return buf.getUnsignedShort(at + SOURCE_PORT_OFFSET);
    }

    public static int destinationPort(ByteBuf buf, int at) {
        return buf.getUnsignedShort(at + DESTINATION_PORT_OFFSET);
    }

    public static int length(ByteBuf buf, int at) {
        return buf.getUnsignedShort(at + LENGTH_OFFSET);
    }
}
