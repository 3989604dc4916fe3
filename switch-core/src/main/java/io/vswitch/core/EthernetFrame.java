package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * Static accessors over an Ethernet II frame held in a {@link ByteBuf}, starting at its reader
 * index. Nothing is copied or allocated; the indices of the buffer are never changed.
 * <pre>
 *  0                   6                   12      14
 *  +-------------------+-------------------+-------+----------------------------------
 *  | destination MAC   | source MAC        | type  | payload (46..MTU bytes)
 *  +-------------------+-------------------+-------+----------------------------------
 *                                          | 0x8100 | PCP/DEI/VID | inner type | ...   (802.1Q)
 * </pre>
 * An 802.1Q tag is not interpreted by forwarding: tagged frames are switched on their MACs and
 * pass through with the tag untouched, the way an access-less Linux bridge without
 * {@code vlan_filtering} does. The tag adds 4 bytes, hence the MTU + 18 bound.
 */
public final class EthernetFrame {
    public static final int DESTINATION_OFFSET = 0;
    public static final int SOURCE_OFFSET = 6;
    public static final int ETHER_TYPE_OFFSET = 12;
    public static final int HEADER_LENGTH = 14;
    /** Header and one 802.1Q tag; a frame may be at most MTU + this long. */
    public static final int MAX_OVERHEAD = 18;
    public static final int ETHER_TYPE_VLAN = 0x8100;
    public static final int ETHER_TYPE_QINQ = 0x88A8;

    private EthernetFrame() {
    }

    public static long destination(ByteBuf frame) {
        return mac(frame, frame.readerIndex() + DESTINATION_OFFSET);
    }

    public static long source(ByteBuf frame) {
        return mac(frame, frame.readerIndex() + SOURCE_OFFSET);
    }

    public static int etherType(ByteBuf frame) {
        return frame.getUnsignedShort(frame.readerIndex() + ETHER_TYPE_OFFSET);
    }

    /** The VLAN id of an 802.1Q or 802.1ad outer tag, or -1 for an untagged frame. */
    public static int vlanId(ByteBuf frame) {
        int type = etherType(frame);
        if ((type != ETHER_TYPE_VLAN && type != ETHER_TYPE_QINQ) || frame.readableBytes() < HEADER_LENGTH + 4) {
            return -1;
        }
        return frame.getUnsignedShort(frame.readerIndex() + HEADER_LENGTH) & 0x0FFF;
    }

    static long mac(ByteBuf buf, int index) {
        return ((long) buf.getUnsignedShort(index) << 32) | buf.getUnsignedInt(index + 2);
    }

    /** Writes a MAC at {@code index}; used by tests and traffic generators, not by forwarding. */
    public static void writeMac(ByteBuf buf, int index, long mac) {
        buf.setShort(index, (int) (mac >>> 32));
        buf.setInt(index + 2, (int) mac);
    }
}
