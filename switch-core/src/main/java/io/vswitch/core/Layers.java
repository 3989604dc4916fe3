package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * Where the layers of a frame start, found once and packed in one {@code long} so that finding
 * them allocates nothing:
 * <pre>
 *   63      56 55      48 47            32 31            16 15             0
 *   +---------+----------+----------------+----------------+---------------+
 *   | unused  | protocol |   l3 offset    |   l4 offset    | payload offset|
 *   +---------+----------+----------------+----------------+---------------+
 * </pre>
 * Offsets are relative to the frame's reader index. Up to two VLAN tags (802.1Q, or QinQ:
 * 802.1ad then 802.1Q) are looked through; IPv4
 * with options and the fixed IPv6 header are understood; TCP and UDP are the transports.
 * {@link #NONE} (negative) means the frame is not TCP or UDP over IPv4 or IPv6, or is too short
 * for what its headers claim.
 */
public final class Layers {
    public static final long NONE = -1;
    /** Not parsed yet (a batch's mark; {@link #of} never returns it: L3 starts at 14 or later). */
    public static final long UNPARSED = 0;

    private Layers() {
    }

    /** The layers of {@code frame}, or {@link #NONE}. */
    public static long of(ByteBuf frame) {
        int base = frame.readerIndex();
        int length = frame.readableBytes();
        if (length < EthernetFrame.HEADER_LENGTH) {
            return NONE;
        }
        int l3 = EthernetFrame.HEADER_LENGTH;
        int type = frame.getUnsignedShort(base + EthernetFrame.ETHER_TYPE_OFFSET);
        // Up to two tags: 802.1Q, or 802.1ad (QinQ) with its inner 802.1Q.
        for (int tags = 0; tags < 2 && (type == EthernetFrame.ETHER_TYPE_VLAN || type == EthernetFrame.ETHER_TYPE_QINQ)
                && length > l3 + 4; tags++) {
            type = frame.getUnsignedShort(base + l3 + 2);
            l3 += 4;
        }
        int l4;
        int proto;
        if (type == Ipv4Header.ETHER_TYPE && length >= l3 + Ipv4Header.MIN_LENGTH) {
            int ihl = Ipv4Header.length(frame, base + l3);
            if (ihl < Ipv4Header.MIN_LENGTH) {
                return NONE;
            }
            l4 = l3 + ihl;
            proto = Ipv4Header.protocol(frame, base + l3);
        } else if (type == Ipv6Header.ETHER_TYPE && length >= l3 + Ipv6Header.LENGTH) {
            l4 = l3 + Ipv6Header.LENGTH;
            proto = Ipv6Header.nextHeader(frame, base + l3);
        } else {
            return NONE;
        }
        int payload;
        if (proto == TcpHeader.PROTOCOL && length >= l4 + TcpHeader.MIN_LENGTH) {
            int tcp = TcpHeader.length(frame, base + l4);
            if (tcp < TcpHeader.MIN_LENGTH) {
                return NONE;
            }
            payload = l4 + tcp;
        } else if (proto == UdpHeader.PROTOCOL && length >= l4 + UdpHeader.LENGTH) {
            payload = l4 + UdpHeader.LENGTH;
        } else {
            return NONE;
        }
        if (payload > length) {
            return NONE;
        }
        return ((long) proto << 48) | ((long) l3 << 32) | ((long) l4 << 16) | payload;
    }

    public static int l3(long layers) {
        return (int) (layers >>> 32) & 0xFFFF;
    }

    public static int l4(long layers) {
        return (int) (layers >>> 16) & 0xFFFF;
    }

    public static int payload(long layers) {
        return (int) layers & 0xFFFF;
    }

    public static int protocol(long layers) {
        return (int) (layers >>> 48) & 0xFF;
    }

    public static boolean isTcp(long layers) {
        return protocol(layers) == TcpHeader.PROTOCOL;
    }

    /** Whether the network layer is IPv4 (else IPv6): an IPv6 header is exactly 40 bytes before L4. */
    public static boolean isIpv4(ByteBuf frame, long layers) {
        int l3 = l3(layers);
        return frame.getUnsignedShort(frame.readerIndex() + l3 - 2) == Ipv4Header.ETHER_TYPE;
    }
}
