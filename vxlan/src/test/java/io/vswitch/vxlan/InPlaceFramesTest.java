package io.vswitch.vxlan;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.vswitch.core.Coalescer;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.dataplane.Lane;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The receive path's frames left where the kernel read them: which frames of a UDP GRO run have
 * room for a virtio-net header in front, and joining a TCP segment to the frame before it in the
 * same read buffer (a move within the buffer, source and destination overlapping).
 */
class InPlaceFramesTest {
    private static final int HEADERS = 14 + 20 + 20;
    private static final int PAYLOAD = 1000;
    private static final int DATAGRAM = VxlanHeader.LENGTH + HEADERS + PAYLOAD;

    @Test
    void theFirstFrameOfARunHasRoomForAVirtioNetHeaderInTheHeadroom() {
        assertTrue(TunnelReceiver.fitsInPlace(Lane.HEADROOM + VxlanHeader.LENGTH, 0, true));
    }

    @Test
    void anOffloadFrameRightBehindAFrameLeftInPlaceHasOnlyItsVxlanHeaderInFrontAndIsCopied() {
        int previousEnd = Lane.HEADROOM + DATAGRAM;
        assertFalse(TunnelReceiver.fitsInPlace(previousEnd + VxlanHeader.LENGTH, previousEnd, true));
    }

    @Test
    void aFrameWithoutOffloadsNeedsNothingInFrontAndStaysInPlace() {
        int previousEnd = Lane.HEADROOM + DATAGRAM;
        assertTrue(TunnelReceiver.fitsInPlace(previousEnd + VxlanHeader.LENGTH, previousEnd, false));
    }

    @Test
    void aFrameBehindOneWhosePayloadMovedBackHasRoomAgain() {
        // Segment 2 was joined to frame 1: frame 1 now ends HEADERS + VXLAN bytes before where
        // segment 2 ended, and segment 3's frame starts 8 bytes after that.
        int frameEnd = Lane.HEADROOM + DATAGRAM + PAYLOAD;
        int thirdStart = Lane.HEADROOM + 2 * DATAGRAM + VxlanHeader.LENGTH;
        assertTrue(TunnelReceiver.fitsInPlace(thirdStart, frameEnd, true));
    }

    @Test
    void aSegmentJoinedToTheFrameBeforeItInTheSameReadBufferMovesItsPayloadBackIntact() {
        ByteBuf read = PooledByteBufAllocator.DEFAULT.directBuffer(Lane.HEADROOM + 65536, Lane.HEADROOM + 65536);
        try {
            int first = Lane.HEADROOM;
            int second = first + DATAGRAM;
            segment(read, first, 1, 0);
            segment(read, second, 1 + PAYLOAD, 100);
            ByteBuf frame = read.duplicate().setIndex(first + VxlanHeader.LENGTH, first + DATAGRAM);
            VirtioNetHeader.clear(frame);
            read.setIndex(second + VxlanHeader.LENGTH, second + DATAGRAM);

            assertTrue(Coalescer.tryAppend(frame, read));
            Coalescer.finish(frame);

            assertEquals(HEADERS + 2 * PAYLOAD, frame.readableBytes());
            assertEquals(VirtioNetHeader.GSO_TCPV4, VirtioNetHeader.gsoType(frame));
            assertEquals(PAYLOAD, VirtioNetHeader.gsoSize(frame));
            for (int i = 0; i < 2 * PAYLOAD; i++) {
                int expected = i < PAYLOAD ? i : 100 + i - PAYLOAD;
                assertEquals((byte) expected, frame.getByte(frame.readerIndex() + HEADERS + i), "payload byte " + i);
            }
            assertEquals(1, read.refCnt(), "the frame is a view of the read buffer, not a buffer of its own");
        } finally {
            read.release();
        }
    }

    /** A VXLAN datagram at {@code at}: header, then a TCP/IPv4 segment with sequence {@code seq}, payload bytes counting from {@code fill}. */
    private static void segment(ByteBuf b, int at, int seq, int fill) {
        VxlanHeader.write(b, at, 42);
        int f = at + VxlanHeader.LENGTH;
        b.setZero(f, HEADERS);
        b.setLong(f, 0x0200_0000_000B_0200L);
        b.setInt(f + 8, 0x0000_000A);
        b.setShort(f + 12, 0x0800);
        b.setByte(f + 14, 0x45);
        b.setShort(f + 16, 40 + PAYLOAD);
        b.setByte(f + 22, 64);
        b.setByte(f + 23, 6);
        b.setInt(f + 26, 0xC6120001);
        b.setInt(f + 30, 0xC6120002);
        b.setShort(f + 34, 40000);
        b.setShort(f + 36, 5201);
        b.setInt(f + 38, seq);
        b.setInt(f + 42, 1);
        b.setByte(f + 46, 0x50);
        b.setByte(f + 47, 0x10);
        b.setShort(f + 48, 1000);
        for (int i = 0; i < PAYLOAD; i++) {
            b.setByte(f + HEADERS + i, fill + i);
        }
    }
}
