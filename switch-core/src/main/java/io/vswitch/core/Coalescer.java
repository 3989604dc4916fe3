package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * Receive-side coalescing (what the kernel's GRO does, and wireguard-go does for its TUN):
 * consecutive TCP segments of one flow, arriving as separate frames (from a VXLAN peer), are
 * joined into one large frame that an offload-capable TAP takes with a single write, its
 * virtio-net header saying how the kernel would cut it again (GSO type, segment size) and that
 * the TCP checksum is left to do over the pseudo-header of the whole.
 *
 * <p>A segment joins the frame before it only when nothing but the payload differs: the same
 * Ethernet header, IPv4 without options or fragmentation (or IPv6 without extension headers),
 * the same addresses, TOS/TTL (traffic class/hop limit), ports, acknowledgement, window and
 * TCP options byte for byte; flags ACK only on the frame so far (PSH may close it); the
 * sequence number continuing the frame; every segment but the last exactly the first one's
 * size; at most 64 KB in all. Anything else starts a new frame. Pure: no I/O.
 */
public final class Coalescer {
    private static final int IPV4 = 0x0800;
    private static final int IPV6 = 0x86DD;
    private static final int MAX_IP = 65535;
    private static final int ACK = 0x10;
    private static final int PSH = 0x08;

    private Coalescer() {
    }

    /**
     * Appends {@code next} to {@code frame} when it continues it (see above); returns whether
     * it did. {@code frame} has a virtio-net header in front and room to grow up to its capacity.
     */
    public static boolean tryAppend(ByteBuf frame, ByteBuf next) {
        int a = frame.readerIndex();
        int b = next.readerIndex();
        int type = frame.getUnsignedShort(a + 12);
        if (type != next.getUnsignedShort(b + 12) || frame.getLong(a) != next.getLong(b)
                || frame.getInt(a + 8) != next.getInt(b + 8)) {
            return false;
        }
        int l3 = 14;
        int l4;
        if (type == IPV4) {
            if (frame.getUnsignedByte(a + l3) != 0x45 || next.getUnsignedByte(b + l3) != 0x45
                    || frame.getUnsignedByte(a + l3 + 9) != 6 || next.getUnsignedByte(b + l3 + 9) != 6
                    || (frame.getUnsignedShort(a + l3 + 6) & 0x3FFF) != 0 || (next.getUnsignedShort(b + l3 + 6) & 0x3FFF) != 0
                    || frame.getUnsignedByte(a + l3 + 1) != next.getUnsignedByte(b + l3 + 1)
                    || frame.getUnsignedByte(a + l3 + 8) != next.getUnsignedByte(b + l3 + 8)
                    || frame.getLong(a + l3 + 12) != next.getLong(b + l3 + 12)) {
                return false;
            }
            l4 = l3 + 20;
        } else if (type == IPV6) {
            if (frame.getUnsignedByte(a + l3 + 6) != 6 || next.getUnsignedByte(b + l3 + 6) != 6
                    || frame.getInt(a + l3) != next.getInt(b + l3)
                    || frame.getUnsignedByte(a + l3 + 7) != next.getUnsignedByte(b + l3 + 7)
                    || !sameBytes(frame, a + l3 + 8, next, b + l3 + 8, 32)) {
                return false;
            }
            l4 = l3 + 40;
        } else {
            return false;
        }
        if (frame.readableBytes() < l4 + 20 || next.readableBytes() < l4 + 20) {
            return false;
        }
        int tcpLen = (frame.getUnsignedByte(a + l4 + 12) >> 4) * 4;
        if (tcpLen < 20 || tcpLen != (next.getUnsignedByte(b + l4 + 12) >> 4) * 4
                || frame.readableBytes() < l4 + tcpLen || next.readableBytes() < l4 + tcpLen) {
            return false;
        }
        int headers = l4 + tcpLen;
        int have = frame.readableBytes() - headers;
        int add = next.readableBytes() - headers;
        int frameFlags = frame.getUnsignedByte(a + l4 + 13);
        int nextFlags = next.getUnsignedByte(b + l4 + 13);
        if (have <= 0 || add <= 0 || frameFlags != ACK || (nextFlags & ~PSH) != ACK
                || frame.getInt(a + l4) != next.getInt(b + l4)                    // ports
                || frame.getInt(a + l4 + 8) != next.getInt(b + l4 + 8)            // ack
                || frame.getShort(a + l4 + 14) != next.getShort(b + l4 + 14)      // window
                || !sameBytes(frame, a + l4 + 20, next, b + l4 + 20, tcpLen - 20)  // options
                || (frame.getUnsignedInt(a + l4 + 4) + have & 0xFFFF_FFFFL) != next.getUnsignedInt(b + l4 + 4)) {
            return false;
        }
        int header = a - VirtioNetHeader.LENGTH;
        int mss = VirtioNetHeader.gsoType(frame) == VirtioNetHeader.GSO_NONE ? have
                : frame.getUnsignedShortLE(header + VirtioNetHeader.GSO_SIZE_OFFSET);
        if (have % mss != 0 || add > mss || headers - l3 + have + add > MAX_IP
                || frame.writerIndex() + add > frame.capacity()) {
            return false;
        }
        frame.writeBytes(next, b + headers, add);
        frame.setByte(a + l4 + 13, nextFlags);
        if (VirtioNetHeader.gsoType(frame) == VirtioNetHeader.GSO_NONE) {
            frame.setByte(header + VirtioNetHeader.GSO_TYPE_OFFSET, type == IPV4 ? VirtioNetHeader.GSO_TCPV4 : VirtioNetHeader.GSO_TCPV6);
            frame.setShortLE(header + VirtioNetHeader.GSO_SIZE_OFFSET, mss);
        }
        return true;
    }

    /**
     * Finishes a frame that {@link #tryAppend} grew: IP lengths and IPv4 header checksum for
     * the whole, and the virtio-net header's checksum request (csum_start at TCP, offset 16,
     * the TCP checksum field holding the pseudo-header sum of the whole segment), as a TSO
     * frame from the kernel would have them. A frame that was not grown is left alone.
     */
    public static void finish(ByteBuf frame) {
        if (VirtioNetHeader.gsoType(frame) == VirtioNetHeader.GSO_NONE) {
            return;
        }
        int a = frame.readerIndex();
        int l3 = 14;
        boolean ipv4 = frame.getUnsignedShort(a + 12) == IPV4;
        int l4 = l3 + (ipv4 ? 20 : 40);
        int l4Length = frame.readableBytes() - l4;
        if (ipv4) {
            frame.setShort(a + l3 + 2, 20 + l4Length);
            frame.setShort(a + l3 + 10, 0);
            frame.setShort(a + l3 + 10, ~Segmenter.fold(Segmenter.sum(frame, a + l3, 20, 0)) & 0xFFFF);
        } else {
            frame.setShort(a + l3 + 4, l4Length);
        }
        frame.setShort(a + l4 + 16, Segmenter.fold(Segmenter.pseudoHeaderSum(frame, a + l3, ipv4, 6, l4Length)));
        int header = a - VirtioNetHeader.LENGTH;
        int tcpLen = (frame.getUnsignedByte(a + l4 + 12) >> 4) * 4;
        frame.setByte(header, VirtioNetHeader.FLAG_NEEDS_CSUM);
        frame.setShortLE(header + 2, l4 + tcpLen);   // hdr_len
        frame.setShortLE(header + 6, l4);            // csum_start
        frame.setShortLE(header + 8, 16);            // csum_offset
    }

    private static boolean sameBytes(ByteBuf x, int i, ByteBuf y, int j, int length) {
        for (int k = 0; k < length; k++) {
            if (x.getByte(i + k) != y.getByte(j + k)) {
                return false;
            }
        }
        return true;
    }
}
