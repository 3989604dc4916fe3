package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * A hash of a frame's flow: the entropy an overlay puts in its outer header (for VXLAN the outer
 * UDP source port, RFC 7348 section 5: "it is recommended that the UDP source port number be
 * calculated using a hash of fields from the inner packet"), so underlay ECMP spreads flows while
 * every packet of one flow takes one path. IPv4 and IPv6 use addresses, protocol and, for
 * unfragmented TCP/UDP/SCTP, the ports; other frames use the MAC addresses. One 802.1Q tag is
 * looked through. Computed once per frame by its batch ({@link Batch#flowHash}), however many
 * tunnels a flood reaches. Non-negative.
 */
public final class FlowHash {
    private FlowHash() {
    }

    public static int of(ByteBuf frame) {
        int base = frame.readerIndex();
        int end = frame.writerIndex();
        long h = frame.getLong(base) ^ ((long) frame.getInt(base + 8) << 17);
        int l3 = base + EthernetFrame.HEADER_LENGTH;
        int type = frame.getUnsignedShort(base + EthernetFrame.ETHER_TYPE_OFFSET);
        if (type == EthernetFrame.ETHER_TYPE_VLAN && end >= l3 + 4) {
            type = frame.getUnsignedShort(l3 + 2);
            l3 += 4;
        }
        if (type == Ipv4Header.ETHER_TYPE && end >= l3 + Ipv4Header.MIN_LENGTH) {
            int ihl = Ipv4Header.length(frame, l3);
            int proto = Ipv4Header.protocol(frame, l3);
            h = Ipv4Header.addresses(frame, l3) * 31 + proto;
            if (!Ipv4Header.isFragment(frame, l3) && hasPorts(proto) && end >= l3 + ihl + 4) {
                h = h * 31 + frame.getInt(l3 + ihl);
            }
        } else if (type == Ipv6Header.ETHER_TYPE && end >= l3 + Ipv6Header.LENGTH) {
            int next = Ipv6Header.nextHeader(frame, l3);
            int src = l3 + Ipv6Header.SOURCE_OFFSET;
            h = frame.getLong(src) ^ frame.getLong(src + 8) * 31 ^ frame.getLong(src + 16) * 961
                    ^ frame.getLong(src + 24) * 29791 ^ next;
            if (hasPorts(next) && end >= l3 + Ipv6Header.LENGTH + 4) {
                h = h * 31 + frame.getInt(l3 + Ipv6Header.LENGTH);
            }
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return (int) h & 0x7FFF_FFFF;
    }

    private static boolean hasPorts(int proto) {
        return proto == 6 || proto == 17 || proto == 132;
    }
}
