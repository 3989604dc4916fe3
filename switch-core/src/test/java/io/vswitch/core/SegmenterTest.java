package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SegmenterTest {
    private static final int H = VirtioNetHeader.LENGTH;

    /** A GSO frame as a TAP with offloads hands it over: header, Ethernet, IP, TCP/UDP, payload. */
    private static ByteBuf gsoFrame(boolean ipv6, boolean udp, boolean vlan, int payload, int mss, int tcpFlags) {
        int l2 = vlan ? 18 : 14;
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
        if (vlan) {
            b.setShort(e + 12, 0x8100);
            b.setShort(e + 14, 42);
            b.setShort(e + 16, ipv6 ? 0x86DD : 0x0800);
        } else {
            b.setShort(e + 12, ipv6 ? 0x86DD : 0x0800);
        }
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

    private static List<byte[]> segments(ByteBuf frame) {
        List<byte[]> out = new ArrayList<>();
        ByteBuf scratch = Unpooled.buffer(70000);
        int n = Segmenter.segment(frame, scratch, 64, s -> {
            byte[] bytes = new byte[s.readableBytes()];
            s.getBytes(s.readerIndex(), bytes);
            out.add(bytes);
        });
        assertEquals(out.size(), n);
        return out;
    }

    /** The one's-complement sum of a finished header or segment is 0xFFFF when its checksum is right. */
    private static boolean checksumOk(ByteBuf b, int from, int length, long pseudo) {
        return Segmenter.fold(Segmenter.sum(b, from, length, pseudo)) == 0xFFFF;
    }

    private static void check(boolean ipv6, boolean udp, boolean vlan) {
        int payload = 5000;
        int mss = 1400;
        ByteBuf frame = gsoFrame(ipv6, udp, vlan, payload, mss, 0x80 | 0x10 | 0x08 | 0x01);
        int l2 = vlan ? 18 : 14;
        int l3len = ipv6 ? 40 : 20;
        int l4len = udp ? 8 : 32;
        int headers = l2 + l3len + l4len;
        byte[] original = new byte[payload];
        frame.getBytes(H + headers, original);
        List<byte[]> segs = segments(frame);
        assertEquals(4, segs.size());
        byte[] joined = new byte[payload];
        int at = 0;
        for (int i = 0; i < segs.size(); i++) {
            ByteBuf s = Unpooled.wrappedBuffer(segs.get(i));
            int len = Math.min(mss, payload - i * mss);
            assertEquals(headers + len, s.readableBytes(), "segment " + i + " size");
            assertArrayEquals(java.util.Arrays.copyOfRange(frame.array(), H, H + 12), java.util.Arrays.copyOfRange(segs.get(i), 0, 12));
            int ip = l2;
            long pseudo;
            if (ipv6) {
                assertEquals(l4len + len, s.getUnsignedShort(ip + 4));
                pseudo = Segmenter.sum(s, ip + 8, 32, 0);
            } else {
                assertEquals(20 + l4len + len, s.getUnsignedShort(ip + 2));
                assertEquals(1000 + i, s.getUnsignedShort(ip + 4), "IPv4 id");
                assertTrue(checksumOk(s, ip, 20, 0), "IPv4 header checksum of segment " + i);
                pseudo = Segmenter.sum(s, ip + 12, 8, 0);
            }
            int l4 = ip + l3len;
            pseudo += (udp ? 17 : 6) + l4len + len;
            assertTrue(checksumOk(s, l4, l4len + len, pseudo), "L4 checksum of segment " + i);
            if (udp) {
                assertEquals(8 + len, s.getUnsignedShort(l4 + 4));
            } else {
                assertEquals((0xFFFFF000L + (long) i * mss) & 0xFFFFFFFFL, s.getUnsignedInt(l4 + 4), "sequence");
                int flags = s.getUnsignedByte(l4 + 13);
                assertEquals(i == 0, (flags & 0x80) != 0, "CWR only on the first");
                assertEquals(i == segs.size() - 1, (flags & 0x01) != 0, "FIN only on the last");
                assertEquals(i == segs.size() - 1, (flags & 0x08) != 0, "PSH only on the last");
                assertTrue((flags & 0x10) != 0, "ACK on all");
                assertEquals(12345, s.getInt(l4 + 24), "options copied");
            }
            s.getBytes(headers, joined, at, len);
            at += len;
        }
        assertArrayEquals(original, joined, "payload in order, nothing lost");
    }

    @Test
    void segmentsTcpOverIpv4() {
        check(false, false, false);
    }

    @Test
    void segmentsTcpOverIpv6() {
        check(true, false, false);
    }

    @Test
    void segmentsUdpOverIpv4AndIpv6AsSeparateDatagrams() {
        check(false, true, false);
        check(true, true, false);
    }

    @Test
    void segmentsThroughAVlanTag() {
        check(false, false, true);
    }

    @Test
    void refusesWhatItCannotSegment() {
        ByteBuf arp = Unpooled.buffer(H + 60).writeZero(H + 60);
        arp.setByte(1, VirtioNetHeader.GSO_TCPV4);
        arp.setShortLE(4, 1400);
        arp.setShort(H + 12, 0x0806);
        arp.readerIndex(H);
        assertEquals(-1, Segmenter.segment(arp, Unpooled.buffer(2000), 64, s -> { }));
    }

    @Test
    void completesALeftOverChecksumAndMarksTheFrameDataValid() {
        ByteBuf frame = gsoFrame(false, false, false, 300, 1400, 0x18);
        frame.setByte(1, 0); // no GSO, checksum only
        int l4 = H + 14 + 20;
        // As the kernel leaves it: csum_start = L4 offset from the Ethernet header, the field = pseudo-header sum.
        frame.setShortLE(6, 14 + 20);
        frame.setShortLE(8, 16);
        long pseudo = Segmenter.sum(frame, H + 14 + 12, 8, 0) + 6 + 32 + 300;
        frame.setShort(l4 + 16, Segmenter.fold(pseudo));
        Segmenter.completeChecksum(frame);
        assertTrue(checksumOk(frame, l4, 32 + 300, pseudo), "finished TCP checksum");
        assertEquals(2, frame.getByte(0), "flags: data valid, no longer needs checksum");
    }
}
