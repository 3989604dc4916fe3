package io.vswitch.vxlan;

import io.netty.buffer.ByteBuf;

/**
 * The 8-byte VXLAN header (RFC 7348, section 5), read and written in place:
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|R|R|R|I|R|R|R|            Reserved                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                VXLAN Network Identifier (VNI) |   Reserved    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 * The I flag must be set for the VNI to be valid; reserved bits are sent as zero and ignored on
 * receipt. The inner Ethernet frame follows directly (no FCS). UDP destination port 4789.
 */
public final class VxlanHeader {
    public static final int LENGTH = 8;
    public static final int FLAGS_OFFSET = 0;
    public static final int VNI_OFFSET = 4;
    public static final int FLAG_I = 0x08;
    public static final int IANA_PORT = 4789;
    public static final int MAX_VNI = 0xFF_FFFF;
    /** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14): what an overlay costs per frame. */
    public static final int IPV4_OVERHEAD = 50;

    private VxlanHeader() {
    }

    public static void write(ByteBuf buf, int index, int vni) {
        buf.setInt(index + FLAGS_OFFSET, FLAG_I << 24);
        buf.setInt(index + VNI_OFFSET, vni << 8);
    }

    public static boolean hasVni(ByteBuf buf, int index) {
        return (buf.getByte(index + FLAGS_OFFSET) & FLAG_I) != 0;
    }

    public static int vni(ByteBuf buf, int index) {
        return buf.getInt(index + VNI_OFFSET) >>> 8;
    }
}
