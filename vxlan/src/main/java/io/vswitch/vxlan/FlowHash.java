package io.vswitch.vxlan;

import io.netty.buffer.ByteBuf;
import io.vswitch.core.EthernetFrame;

/**
 * A hash of an inner frame's flow, for the outer UDP source port (RFC 7348 section 5: "it is
 * recommended that the UDP source port number be calculated using a hash of fields from the
 * inner packet"), so underlay ECMP spreads flows while every packet of one flow takes one path.
 * IPv4 and IPv6 use addresses, protocol and, for unfragmented TCP/UDP/SCTP, the ports; other
 * frames use the MAC addresses. One 802.1Q tag is looked through.
 */
public final class FlowHash {
    private static final int IPV4 = 0x0800;
    private static final int IPV6 = 0x86DD;

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
        if (type == IPV4 && end >= l3 + 20) {
            int ihl = (frame.getByte(l3) & 0x0F) * 4;
            int proto = frame.getUnsignedByte(l3 + 9);
            h = frame.getLong(l3 + 12) * 31 + proto;
            boolean fragment = (frame.getUnsignedShort(l3 + 6) & 0x3FFF) != 0;
            if (!fragment && hasPorts(proto) && end >= l3 + ihl + 4) {
                h = h * 31 + frame.getInt(l3 + ihl);
            }
        } else if (type == IPV6 && end >= l3 + 40) {
            int next = frame.getUnsignedByte(l3 + 6);
            h = frame.getLong(l3 + 8) ^ frame.getLong(l3 + 16) * 31 ^ frame.getLong(l3 + 24) * 961
                    ^ frame.getLong(l3 + 32) * 29791 ^ next;
            if (hasPorts(next) && end >= l3 + 44) {
                h = h * 31 + frame.getInt(l3 + 40);
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
