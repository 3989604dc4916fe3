package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * Offsets into the fixed IPv6 header (RFC 8200, section 3) and static accessors at an absolute
 * index of a buffer. Extension headers are not walked: a frame whose next header is not TCP or
 * UDP is not segmented, coalesced or hashed by ports.
 * <pre>
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Source Address (16 bytes)                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               Destination Address (16 bytes)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class Ipv6Header {
    public static final int ETHER_TYPE = 0x86DD;
    public static final int VERSION_CLASS_FLOW_OFFSET = 0;
    public static final int PAYLOAD_LENGTH_OFFSET = 4;
    public static final int NEXT_HEADER_OFFSET = 6;
    public static final int HOP_LIMIT_OFFSET = 7;
    public static final int SOURCE_OFFSET = 8;
    public static final int DESTINATION_OFFSET = 24;
    public static final int ADDRESS_LENGTH = 16;
    public static final int LENGTH = 40;

    private Ipv6Header() {
    }

    public static int nextHeader(ByteBuf buf, int at) {
        return buf.getUnsignedByte(at + NEXT_HEADER_OFFSET);
    }

    public static int payloadLength(ByteBuf buf, int at) {
        return buf.getUnsignedShort(at + PAYLOAD_LENGTH_OFFSET);
    }

    public static int hopLimit(ByteBuf buf, int at) {
        return buf.getUnsignedByte(at + HOP_LIMIT_OFFSET);
    }
}
