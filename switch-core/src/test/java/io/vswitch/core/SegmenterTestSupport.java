package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/** Builds the frames the segmentation and coalescing tests start from. */
final class SegmenterTestSupport {
    private static final int H = VirtioNetHeader.LENGTH;

    private SegmenterTestSupport() {
    }

    /** A GSO frame as a TAP with offloads hands it over: header, Ethernet, IP, TCP/UDP, payload. */
    static ByteBuf gsoFrame(boolean ipv6, boolean udp, boolean vlan, int payload, int mss, int tcpFlags) {
        return gsoFrame(ipv6, udp, vlan ? 1 : 0, payload, mss, tcpFlags);
    }

    /** As above with {@code tags} VLAN tags: 1 is 802.1Q, 2 is QinQ (802.1ad outer, 802.1Q inner). */
    static ByteBuf gsoFrame(boolean ipv6, boolean udp, int tags, int payload, int mss, int tcpFlags) {
        int l2 = 14 + 4 * tags;
        int l3len = ipv6 ? 40 : 20;
        int l4len = udp ? 8 : 32; // TCP with 12 bytes of options
        ByteBuf b = Unpooled.buffer(H + l2 + l3len + l4len + payload);
        b.writeZero(H + l2 + l3len + l4len + payload);
        b.setByte(0, 1); // NEEDS_CSUM
        b.setByte(1, udp ? VirtioNetHeader.GSO_UDP_L4 : ipv6 ? VirtioNetHeader.GSO_TCPV6 : VirtioNetHeader.GSO_TCPV4);
        b.setShortLE(4, mss);
        int e = H;
        EthernetFrame.writeMac(b, e, 0x020000000002L);
        EthernetFrame.writeMac(b, e + 6, 0x020000000001L);
        for (int t = 0; t < tags; t++) {
            b.setShort(e + 12 + 4 * t, t == 0 && tags == 2 ? 0x88A8 : 0x8100);
            b.setShort(e + 14 + 4 * t, 42 + t);
        }
        b.setShort(e + 12 + 4 * tags, ipv6 ? 0x86DD : 0x0800);
        int ip = e + l2;
        if (ipv6) {
            b.setInt(ip, 0x60000000);
            b.setShort(ip + 4, l4len + payload);
            b.setByte(ip + 6, udp ? 17 : 6);
            b.setByte(ip + 7, 64);
            b.setLong(ip + 8, 0xfd00000000000000L);
            b.setLong(ip + 16, 1);
            b.setLong(ip + 24, 0xfd00000000000000L);
            b.setLong(ip + 32, 2);
        } else {
            b.setByte(ip, 0x45);
            b.setShort(ip + 2, 20 + l4len + payload);
            b.setShort(ip + 4, 1000);
            b.setShort(ip + 6, 0x4000);
            b.setByte(ip + 8, 64);
            b.setByte(ip + 9, udp ? 17 : 6);
            b.setInt(ip + 12, 0xC6120001);
            b.setInt(ip + 16, 0xC6120002);
        }
        int l4 = ip + l3len;
        b.setShort(l4, 40000);
        b.setShort(l4 + 2, 5201);
        if (udp) {
            b.setShort(l4 + 4, 8 + payload);
        } else {
            b.setInt(l4 + 4, 0xFFFFF000); // near wrap-around
            b.setInt(l4 + 8, 77);
            b.setByte(l4 + 12, (32 / 4) << 4);
            b.setByte(l4 + 13, tcpFlags);
            b.setShort(l4 + 14, 502);
            b.setInt(l4 + 20, 0x0101080A); // NOP NOP timestamp
            b.setInt(l4 + 24, 12345);
            b.setInt(l4 + 28, 67890);
        }
        for (int i = 0; i < payload; i++) {
            b.setByte(l4 + l4len + i, i * 31 + 7);
        }
        b.readerIndex(H);
        return b;
    }

}
