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
    private static final int MAX_IP = 65535;
    private static final int L3 = EthernetFrame.HEADER_LENGTH;

    private Coalescer() {
    }

    /**
     * Appends {@code next} to {@code frame} when it continues it (see above); returns whether
     * it did. {@code frame} has a virtio-net header in front and room to grow up to its capacity.
     */
    public static boolean tryAppend(ByteBuf frame, ByteBuf next) {
        int a = frame.readerIndex();
        int b = next.readerIndex();
        int type = EthernetFrame.etherType(frame);
        if (type != EthernetFrame.etherType(next) || frame.getLong(a) != next.getLong(b)
                || frame.getInt(a + 8) != next.getInt(b + 8)) {
            return false;
        }
        int x = a + L3;
        int y = b + L3;
        int l4;
        if (type == Ipv4Header.ETHER_TYPE) {
            if (frame.readableBytes() < L3 + Ipv4Header.MIN_LENGTH || next.readableBytes() < L3 + Ipv4Header.MIN_LENGTH
                    || frame.getUnsignedByte(x) != Ipv4Header.VERSION_IHL_PLAIN || next.getUnsignedByte(y) != Ipv4Header.VERSION_IHL_PLAIN
                    || Ipv4Header.protocol(frame, x) != TcpHeader.PROTOCOL || Ipv4Header.protocol(next, y) != TcpHeader.PROTOCOL
                    || Ipv4Header.isFragment(frame, x) || Ipv4Header.isFragment(next, y)
                    || frame.getUnsignedByte(x + Ipv4Header.TOS_OFFSET) != next.getUnsignedByte(y + Ipv4Header.TOS_OFFSET)
                    || frame.getUnsignedByte(x + Ipv4Header.TTL_OFFSET) != next.getUnsignedByte(y + Ipv4Header.TTL_OFFSET)
                    || Ipv4Header.addresses(frame, x) != Ipv4Header.addresses(next, y)) {
                return false;
            }
            l4 = L3 + Ipv4Header.MIN_LENGTH;
        } else if (type == Ipv6Header.ETHER_TYPE) {
            if (frame.readableBytes() < L3 + Ipv6Header.LENGTH || next.readableBytes() < L3 + Ipv6Header.LENGTH
                    || Ipv6Header.nextHeader(frame, x) != TcpHeader.PROTOCOL || Ipv6Header.nextHeader(next, y) != TcpHeader.PROTOCOL
                    || frame.getInt(x) != next.getInt(y)
                    || Ipv6Header.hopLimit(frame, x) != Ipv6Header.hopLimit(next, y)
                    || !sameBytes(frame, x + Ipv6Header.SOURCE_OFFSET, next, y + Ipv6Header.SOURCE_OFFSET,
                            2 * Ipv6Header.ADDRESS_LENGTH)) {
                return false;
            }
            l4 = L3 + Ipv6Header.LENGTH;
        } else {
            return false;
        }
        if (frame.readableBytes() < l4 + TcpHeader.MIN_LENGTH || next.readableBytes() < l4 + TcpHeader.MIN_LENGTH) {
            return false;
        }
        int tcpLen = TcpHeader.length(frame, a + l4);
        if (tcpLen < TcpHeader.MIN_LENGTH || tcpLen != TcpHeader.length(next, b + l4)
                || frame.readableBytes() < l4 + tcpLen || next.readableBytes() < l4 + tcpLen) {
            return false;
        }
        int headers = l4 + tcpLen;
        int have = frame.readableBytes() - headers;
        int add = next.readableBytes() - headers;
        int frameFlags = TcpHeader.flags(frame, a + l4);
        int nextFlags = TcpHeader.flags(next, b + l4);
        if (have <= 0 || add <= 0 || frameFlags != TcpHeader.ACK || (nextFlags & ~TcpHeader.PSH) != TcpHeader.ACK
                || TcpHeader.ports(frame, a + l4) != TcpHeader.ports(next, b + l4)
                || frame.getInt(a + l4 + TcpHeader.ACK_OFFSET) != next.getInt(b + l4 + TcpHeader.ACK_OFFSET)
                || frame.getShort(a + l4 + TcpHeader.WINDOW_OFFSET) != next.getShort(b + l4 + TcpHeader.WINDOW_OFFSET)
                || !sameBytes(frame, a + l4 + TcpHeader.MIN_LENGTH, next, b + l4 + TcpHeader.MIN_LENGTH, tcpLen - TcpHeader.MIN_LENGTH)
                || (TcpHeader.sequence(frame, a + l4) + have & 0xFFFF_FFFFL) != TcpHeader.sequence(next, b + l4)) {
            return false;
        }
        int header = a - VirtioNetHeader.LENGTH;
        int mss = VirtioNetHeader.gsoType(frame) == VirtioNetHeader.GSO_NONE ? have
                : frame.getUnsignedShortLE(header + VirtioNetHeader.GSO_SIZE_OFFSET);
        // Segments smaller than TCP's minimum MSS are not joined: a frame that claims such a
        // segment size is one the switch refuses from a TAP too (Forwarder.validateOffload).
        if (mss < TcpHeader.MIN_MSS || have % mss != 0 || add > mss || headers - L3 + have + add > MAX_IP
                || frame.writerIndex() + add > frame.capacity()) {
            return false;
        }
        frame.writeBytes(next, b + headers, add);
        frame.setByte(a + l4 + TcpHeader.FLAGS_OFFSET, nextFlags);
        if (VirtioNetHeader.gsoType(frame) == VirtioNetHeader.GSO_NONE) {
            frame.setByte(header + VirtioNetHeader.GSO_TYPE_OFFSET,
                    type == Ipv4Header.ETHER_TYPE ? VirtioNetHeader.GSO_TCPV4 : VirtioNetHeader.GSO_TCPV6);
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
        boolean ipv4 = EthernetFrame.etherType(frame) == Ipv4Header.ETHER_TYPE;
        int l4 = L3 + (ipv4 ? Ipv4Header.MIN_LENGTH : Ipv6Header.LENGTH);
        int l4Length = frame.readableBytes() - l4;
        if (ipv4) {
            frame.setShort(a + L3 + Ipv4Header.TOTAL_LENGTH_OFFSET, Ipv4Header.MIN_LENGTH + l4Length);
            frame.setShort(a + L3 + Ipv4Header.CHECKSUM_OFFSET, 0);
            frame.setShort(a + L3 + Ipv4Header.CHECKSUM_OFFSET,
                    ~Segmenter.fold(Segmenter.sum(frame, a + L3, Ipv4Header.MIN_LENGTH, 0)) & 0xFFFF);
        } else {
            frame.setShort(a + L3 + Ipv6Header.PAYLOAD_LENGTH_OFFSET, l4Length);
        }
        frame.setShort(a + l4 + TcpHeader.CHECKSUM_OFFSET,
                Segmenter.fold(Segmenter.pseudoHeaderSum(frame, a + L3, ipv4, TcpHeader.PROTOCOL, l4Length)));
        int header = a - VirtioNetHeader.LENGTH;
        int tcpLen = TcpHeader.length(frame, a + l4);
        frame.setByte(header, VirtioNetHeader.FLAG_NEEDS_CSUM);
        frame.setShortLE(header + VirtioNetHeader.HDR_LEN_OFFSET, l4 + tcpLen);
        frame.setShortLE(header + VirtioNetHeader.CSUM_START_OFFSET, l4);
        frame.setShortLE(header + VirtioNetHeader.CSUM_OFFSET_OFFSET, TcpHeader.CHECKSUM_OFFSET);
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
