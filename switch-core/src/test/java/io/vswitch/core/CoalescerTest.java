package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CoalescerTest {
    private static final int H = VirtioNetHeader.LENGTH;

    /** Cuts a 64 KB-style TCP frame the way the sender's kernel would have, as separate frames. */
    private static List<ByteBuf> segmentsOf(boolean ipv6, int payload, int mss) {
        ByteBuf gso = SegmenterTestSupport.gsoFrame(ipv6, false, false, payload, mss, 0x10 | 0x08);
        List<ByteBuf> out = new ArrayList<>();
        Segmenter.segment(gso, Unpooled.buffer(70000), 64, s -> {
            ByteBuf copy = Unpooled.buffer(H + s.readableBytes());
            copy.writeZero(H).writeBytes(s, s.readerIndex(), s.readableBytes()).readerIndex(H);
            out.add(copy);
        });
        return out;
    }

    private static void roundTrip(boolean ipv6) {
        int payload = 6000;
        int mss = 1448;
        List<ByteBuf> segs = segmentsOf(ipv6, payload, mss);
        assertEquals(5, segs.size());
        ByteBuf frame = Unpooled.buffer(H + 70000);
        frame.writeZero(H).writeBytes(segs.get(0), segs.get(0).readerIndex(), segs.get(0).readableBytes()).readerIndex(H);
        for (int i = 1; i < segs.size(); i++) {
            assertTrue(Coalescer.tryAppend(frame, segs.get(i)), "segment " + i + " continues the flow");
        }
        Coalescer.finish(frame);
        int l3 = 14;
        int l4 = l3 + (ipv6 ? 40 : 20);
        int headers = l4 + 32;
        assertEquals(headers + payload, frame.readableBytes());
        assertEquals(ipv6 ? VirtioNetHeader.GSO_TCPV6 : VirtioNetHeader.GSO_TCPV4, VirtioNetHeader.gsoType(frame));
        assertEquals(mss, VirtioNetHeader.gsoSize(frame));
        assertEquals(VirtioNetHeader.FLAG_NEEDS_CSUM, VirtioNetHeader.flags(frame));
        assertEquals(l4, frame.getUnsignedShortLE(6), "csum_start");
        assertEquals(16, frame.getUnsignedShortLE(8), "csum_offset");
        if (ipv6) {
            assertEquals(32 + payload, frame.getUnsignedShort(H + l3 + 4));
        } else {
            assertEquals(20 + 32 + payload, frame.getUnsignedShort(H + l3 + 2));
            assertEquals(0xFFFF, Segmenter.fold(Segmenter.sum(frame, H + l3, 20, 0)), "IPv4 header checksum");
        }
        assertEquals(0x18, frame.getUnsignedByte(H + l4 + 13), "PSH of the last segment kept");
        // Segmenting the coalesced frame again gives back exactly the segments we started from.
        List<byte[]> again = new ArrayList<>();
        Segmenter.segment(frame, Unpooled.buffer(70000), 64, s -> {
            byte[] b = new byte[s.readableBytes()];
            s.getBytes(s.readerIndex(), b);
            again.add(b);
        });
        assertEquals(segs.size(), again.size());
        for (int i = 0; i < segs.size(); i++) {
            byte[] original = new byte[segs.get(i).readableBytes()];
            segs.get(i).getBytes(segs.get(i).readerIndex(), original);
            if (!ipv6) {
                // The IPv4 id: the sender's kernel numbered its segments, re-segmentation numbers from the first.
                original[l3 + 4] = again.get(i)[l3 + 4];
                original[l3 + 5] = again.get(i)[l3 + 5];
                original[l3 + 10] = again.get(i)[l3 + 10];
                original[l3 + 11] = again.get(i)[l3 + 11];
            }
            assertArrayEquals(original, again.get(i), "segment " + i + " byte for byte");
        }
    }

    @Test
    void joinsConsecutiveIpv4SegmentsIntoOneGsoFrameThatCutsBackToTheSameSegments() {
        roundTrip(false);
    }

    @Test
    void joinsConsecutiveIpv6Segments() {
        roundTrip(true);
    }

    @Test
    void refusesAnythingButTheNextSegmentOfTheSameFlow() {
        List<ByteBuf> segs = segmentsOf(false, 6000, 1448);
        ByteBuf frame = Unpooled.buffer(H + 70000);
        frame.writeZero(H).writeBytes(segs.get(0), segs.get(0).readerIndex(), segs.get(0).readableBytes()).readerIndex(H);
        assertFalse(Coalescer.tryAppend(frame, segs.get(2)), "a gap in sequence");
        ByteBuf otherPort = segs.get(1).copy(0, segs.get(1).capacity()).readerIndex(H);
        otherPort.setShort(H + 14 + 20, 40001);
        assertFalse(Coalescer.tryAppend(frame, otherPort), "another flow");
        ByteBuf otherAck = segs.get(1).copy(0, segs.get(1).capacity()).readerIndex(H);
        otherAck.setInt(H + 14 + 20 + 8, 78);
        assertFalse(Coalescer.tryAppend(frame, otherAck), "another acknowledgement");
        assertTrue(Coalescer.tryAppend(frame, segs.get(1)));
        ByteBuf fin = segs.get(2).copy(0, segs.get(2).capacity()).readerIndex(H);
        fin.setByte(H + 14 + 20 + 13, 0x11);
        assertFalse(Coalescer.tryAppend(frame, fin), "FIN is not coalesced");
    }
}
