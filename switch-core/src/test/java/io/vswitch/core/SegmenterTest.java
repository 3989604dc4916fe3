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

    private static ByteBuf gsoFrame(boolean ipv6, boolean udp, boolean vlan, int payload, int mss, int tcpFlags) {
        return SegmenterTestSupport.gsoFrame(ipv6, udp, vlan, payload, mss, tcpFlags);
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
        check(ipv6, udp, vlan ? 1 : 0);
    }

    private static void check(boolean ipv6, boolean udp, int tags) {
        int payload = 5000;
        int mss = 1400;
        ByteBuf frame = SegmenterTestSupport.gsoFrame(ipv6, udp, tags, payload, mss, 0x80 | 0x10 | 0x08 | 0x01);
        int l2 = 14 + 4 * tags;
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

    /** RFC 1071 the slow way: 16-bit big-endian words, the odd byte padded, carries folded. */
    private static int referenceSum(byte[] data, int from, int length) {
        long sum = 0;
        for (int i = 0; i < length; i += 2) {
            int hi = data[from + i] & 0xFF;
            int lo = i + 1 < length ? data[from + i + 1] & 0xFF : 0;
            sum += (hi << 8) | lo;
        }
        return Segmenter.fold(sum);
    }

    @Test
    void wideSumFoldsToTheRfc1071SumForAnyOffsetLengthAndContent() {
        java.util.Random random = new java.util.Random(1071);
        byte[] ones = new byte[4096];
        java.util.Arrays.fill(ones, (byte) 0xFF);
        List<byte[]> contents = List.of(new byte[4096], ones, randomBytes(random, 4096), randomBytes(random, 4096));
        for (byte[] data : contents) {
            ByteBuf heap = Unpooled.wrappedBuffer(data);
            ByteBuf direct = Unpooled.directBuffer(data.length).writeBytes(data);
            assertTrue(direct.hasMemoryAddress(), "the by-address path is the one tested");
            for (int trial = 0; trial < 400; trial++) {
                int from = random.nextInt(64);
                int length = trial < 40 ? trial : random.nextInt(data.length - from);
                long initial = random.nextInt(1 << 20);
                int expected = Segmenter.fold(referenceSum(data, from, length) + initial);
                assertEquals(expected, Segmenter.fold(Segmenter.sum(heap, from, length, initial)), "heap " + from + "+" + length);
                assertEquals(expected, Segmenter.fold(Segmenter.sum(direct, from, length, initial)), "direct " + from + "+" + length);
            }
            direct.release();
        }
    }

    private static byte[] randomBytes(java.util.Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    @Test
    void headersOnlySegmentationGivesTheSameBytesAsCopyingWithThePayloadWhereItLies() {
        for (boolean ipv6 : new boolean[] {false, true}) {
            for (boolean udp : new boolean[] {false, true}) {
                for (boolean vlan : new boolean[] {false, true}) {
                    ByteBuf frame = gsoFrame(ipv6, udp, vlan, 5000, 1400, 0x19);
                    List<byte[]> whole = segments(frame);
                    List<byte[]> split = new ArrayList<>();
                    ByteBuf scratch = Unpooled.directBuffer(8 * 2048);
                    int n = Segmenter.segmentHeaders(frame, Layers.UNPARSED, scratch, 64, 2048, (headers, at, length) -> {
                        byte[] bytes = new byte[headers.readableBytes() + length];
                        headers.getBytes(headers.readerIndex(), bytes, 0, headers.readableBytes());
                        frame.getBytes(at, bytes, headers.readableBytes(), length);
                        split.add(bytes);
                    });
                    String what = (ipv6 ? "IPv6" : "IPv4") + (udp ? " UDP" : " TCP") + (vlan ? " VLAN" : "");
                    assertEquals(whole.size(), n, what);
                    for (int i = 0; i < n; i++) {
                        assertArrayEquals(whole.get(i), split.get(i), what + " segment " + i);
                    }
                    scratch.release();
                }
            }
        }
    }

    @Test
    void cutsQinQFramesLookingThroughBothTags() {
        check(false, false, 2);
        check(true, true, 2);
    }
}
