package io.vswitch.core;

import io.netty.buffer.ByteBuf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Software segmentation and checksum completion, for an egress that cannot take what a TAP with
 * offloads handed over: a 64 KB TCP (or UDP, with USO) frame announced by its virtio-net header,
 * or a frame whose checksum was left to do ({@code NEEDS_CSUM}).
 *
 * <p>Segmentation does what the kernel's GSO does: every segment gets a copy of the Ethernet,
 * IP and TCP/UDP headers and at most {@code gso_size} bytes of payload; IPv4 total length, ID
 * (+1 per segment) and header checksum, IPv6 payload length, the TCP sequence number (+MSS per
 * segment) and flags (CWR only on the first, FIN and PSH only on the last segment), the UDP
 * length, and the TCP/UDP checksum over the pseudo-header are all recomputed. One 802.1Q tag is
 * looked through. Pure: reads one buffer, writes another, no I/O.
 */
public final class Segmenter {
    private static final int IPV4 = 0x0800;
    private static final int IPV6 = 0x86DD;
    private static final int TCP = 6;
    private static final int UDP = 17;
    private static final int TCP_FIN = 0x01;
    private static final int TCP_PSH = 0x08;
    private static final int TCP_CWR = 0x80;
    /** All of memory, for reading direct buffers by address without a bounds check per word. */
    private static final MemorySegment MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /** Where the layers of a frame start. */
    private record Layers(int l3, int l4, int payload, boolean ipv4, int proto) {
    }

    private Segmenter() {
    }

    /** Receives each finished segment (a buffer valid only during the call). */
    @FunctionalInterface
    public interface SegmentSink {
        void accept(ByteBuf segment);
    }

    /**
     * Receives each segment as its headers (readable bytes of {@code headers}, valid only during
     * the call) and where its payload lies, unchanged, in the frame being cut.
     */
    @FunctionalInterface
    public interface HeaderSink {
        void accept(ByteBuf headers, int payloadIndex, int payloadLength);
    }

    /**
     * Cuts the GSO frame {@code frame} (its virtio-net header in front) into segments built one
     * after the other in {@code scratch} (at its writer index 0 plus {@code headroom}) and hands
     * each to {@code sink}. Returns the number of segments, or -1 when the frame cannot be
     * segmented (not TCP/UDP over IPv4/IPv6, inconsistent lengths).
     */
    public static int segment(ByteBuf frame, ByteBuf scratch, int headroom, SegmentSink sink) {
        return segment(frame, scratch, headroom, 0, sink);
    }

    /**
     * As {@link #segment(ByteBuf, ByteBuf, int, SegmentSink)}, segment {@code i} built at
     * {@code i * stride + headroom} (a stride of 0 reuses the same place), so a caller that sends
     * later can keep every segment; returns -1 also when they would not fit {@code scratch}.
     */
    public static int segment(ByteBuf frame, ByteBuf scratch, int headroom, int stride, SegmentSink sink) {
        return cut(frame, scratch, headroom, stride, sink, null);
    }

    /**
     * As {@link #segment(ByteBuf, ByteBuf, int, int, SegmentSink)} without copying payload: only
     * each segment's headers are built in {@code scratch} (segment {@code i} at {@code i * stride
     * + headroom}), checksums covering the payload where it lies in {@code frame}, for a sender
     * that gathers headers and payload with two iovecs.
     */
    public static int segmentHeaders(ByteBuf frame, ByteBuf scratch, int headroom, int stride, HeaderSink sink) {
        return cut(frame, scratch, headroom, stride, null, sink);
    }

    private static int cut(ByteBuf frame, ByteBuf scratch, int headroom, int stride, SegmentSink whole, HeaderSink split) {
        int gso = VirtioNetHeader.gsoType(frame);
        int mss = VirtioNetHeader.gsoSize(frame);
        Layers layers = layers(frame);
        if (layers == null || mss <= 0) {
            return -1;
        }
        boolean tcp = layers.proto == TCP;
        if ((gso == VirtioNetHeader.GSO_TCPV4 || gso == VirtioNetHeader.GSO_TCPV6) != tcp
                || (gso == VirtioNetHeader.GSO_UDP_L4 && layers.proto != UDP)
                || !(tcp || gso == VirtioNetHeader.GSO_UDP_L4)) {
            return -1;
        }
        int base = frame.readerIndex();
        int end = frame.writerIndex();
        int headers = layers.payload;
        int payload = end - base - headers;
        if (payload <= 0) {
            return -1;
        }
        int segments = (payload + mss - 1) / mss;
        if (stride > 0 && (long) segments * stride > scratch.capacity()) {
            return -1;
        }
        int ipId = layers.ipv4 ? frame.getUnsignedShort(base + layers.l3 + 4) : 0;
        long seq = tcp ? frame.getUnsignedInt(base + layers.l4 + 4) : 0;
        int flags = tcp ? frame.getUnsignedByte(base + layers.l4 + 13) : 0;
        for (int i = 0; i < segments; i++) {
            int length = Math.min(mss, payload - i * mss);
            int from = base + headers + i * mss;
            int s = i * stride + headroom;
            scratch.setIndex(s, s);
            scratch.writeBytes(frame, base, headers);
            int l4Length = headers - layers.l4 + length;
            if (layers.ipv4) {
                scratch.setShort(s + layers.l3 + 2, layers.l4 - layers.l3 + l4Length);
                scratch.setShort(s + layers.l3 + 4, ipId + i);
                scratch.setShort(s + layers.l3 + 10, 0);
                scratch.setShort(s + layers.l3 + 10, ~fold(sum(scratch, s + layers.l3, layers.l4 - layers.l3, 0)) & 0xFFFF);
            } else {
                scratch.setShort(s + layers.l3 + 4, layers.l4 - layers.l3 - 40 + l4Length);
            }
            int checksumAt;
            if (tcp) {
                scratch.setInt(s + layers.l4 + 4, (int) (seq + (long) i * mss));
                int f = flags;
                if (i > 0) {
                    f &= ~TCP_CWR;
                }
                if (i < segments - 1) {
                    f &= ~(TCP_FIN | TCP_PSH);
                }
                scratch.setByte(s + layers.l4 + 13, f);
                checksumAt = s + layers.l4 + 16;
            } else {
                scratch.setShort(s + layers.l4 + 4, l4Length);
                checksumAt = s + layers.l4 + 6;
            }
            scratch.setShort(checksumAt, 0);
            // The L4 header has an even length, so its sum and the payload's add up as one.
            long l4Sum = pseudoHeaderSum(scratch, s + layers.l3, layers.ipv4, layers.proto, l4Length);
            l4Sum = sum(scratch, s + layers.l4, headers - layers.l4, l4Sum);
            l4Sum = sum(frame, from, length, l4Sum);
            int checksum = ~fold(l4Sum) & 0xFFFF;
            scratch.setShort(checksumAt, !tcp && checksum == 0 ? 0xFFFF : checksum);
            if (split != null) {
                split.accept(scratch, from, length);
            } else {
                scratch.writeBytes(frame, from, length);
                whole.accept(scratch);
            }
        }
        return segments;
    }

    /**
     * Completes in place the checksum a NEEDS_CSUM frame left to do (at csum_start + csum_offset,
     * over everything from csum_start, the field holding the pseudo-header sum) and marks the
     * header's flags data-valid, so every other egress of the same frame sees it finished too.
     */
    public static void completeChecksum(ByteBuf frame) {
        int header = frame.readerIndex() - VirtioNetHeader.LENGTH;
        int start = frame.getUnsignedShortLE(header + 6);
        int offset = frame.getUnsignedShortLE(header + 8);
        int base = frame.readerIndex();
        if (start + offset + 2 > frame.readableBytes()) {
            return;
        }
        int sum = ~fold(sum(frame, base + start, frame.readableBytes() - start, 0)) & 0xFFFF;
        frame.setShort(base + start + offset, sum);
        frame.setByte(header, 2); // VIRTIO_NET_HDR_F_DATA_VALID
    }

    private static Layers layers(ByteBuf frame) {
        int base = frame.readerIndex();
        int length = frame.readableBytes();
        int l3 = EthernetFrame.HEADER_LENGTH;
        int type = frame.getUnsignedShort(base + 12);
        if (type == EthernetFrame.ETHER_TYPE_VLAN && length > l3 + 4) {
            type = frame.getUnsignedShort(base + 16);
            l3 += 4;
        }
        int l4;
        int proto;
        boolean ipv4 = type == IPV4;
        if (ipv4 && length >= l3 + 20) {
            l4 = l3 + (frame.getByte(base + l3) & 0x0F) * 4;
            proto = frame.getUnsignedByte(base + l3 + 9);
        } else if (type == IPV6 && length >= l3 + 40) {
            l4 = l3 + 40;
            proto = frame.getUnsignedByte(base + l3 + 6);
        } else {
            return null;
        }
        int payload;
        if (proto == TCP && length >= l4 + 20) {
            payload = l4 + ((frame.getUnsignedByte(base + l4 + 12) >> 4) * 4);
        } else if (proto == UDP && length >= l4 + 8) {
            payload = l4 + 8;
        } else {
            return null;
        }
        return payload <= length ? new Layers(l3, l4, payload, ipv4, proto) : null;
    }

    /**
     * The unfolded sum of the TCP/UDP pseudo-header (RFC 793/768 for IPv4, RFC 8200 section
     * 8.1 for IPv6) of the IP header at {@code ip}: addresses, protocol and L4 length.
     */
    static long pseudoHeaderSum(ByteBuf buf, int ip, boolean ipv4, int proto, int l4Length) {
        long sum = ipv4 ? sum(buf, ip + 12, 8, 0) : sum(buf, ip + 8, 32, 0);
        return sum + proto + l4Length;
    }

    /**
     * The one's-complement sum (unfolded) of {@code length} bytes at {@code index}: congruent
     * modulo 0xFFFF to the sum of their big-endian 16-bit words (RFC 1071), zero only for zeros.
     * Eight bytes at a time: a direct buffer as the 32-bit halves of native-order longs added
     * into a long (no carries to track, a loop the JIT vectorises), folded and swapped to network
     * order (RFC 1071 2.B); a heap buffer as big-endian longs with an end-around carry (2^64 - 1
     * is a multiple of 0xFFFF, so the 64-bit sum folds to the same 16 bits). {@code initial}
     * must stay below 2^62.
     */
    static long sum(ByteBuf buf, int index, int length, long initial) {
        long sum = initial;
        int i = index;
        int end = index + length;
        if (length >= 16 && buf.hasMemoryAddress()) {
            buf.getByte(end - 1); // the bounds check the raw reads below do not make
            long address = buf.memoryAddress() + index;
            int words = length >>> 3;
            long wide = 0; // sums of 32-bit halves: no carry can be lost below 2^31 words
            for (int k = 0; k < words; k++) {
                long word = MEMORY.get(ValueLayout.JAVA_LONG_UNALIGNED, address + ((long) k << 3));
                wide += (word >>> 32) + (word & 0xFFFFFFFFL);
            }
            i += (int) (words << 3);
            // Summed in the machine's order: fold to 16 bits, then swap to network order (RFC 1071 2.B).
            int folded = fold(wide);
            sum += ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN
                    ? folded : ((folded & 0xFF) << 8) | (folded >>> 8);
        } else if (length >= 16) {
            long wide = 0;
            for (; i + 8 <= end; i += 8) {
                long word = buf.getLong(i);
                wide += word;
                if (Long.compareUnsigned(wide, word) < 0) {
                    wide++;
                }
            }
            sum += (wide >>> 32) + (wide & 0xFFFFFFFFL);
        }
        for (; i + 4 <= end; i += 4) {
            sum += buf.getUnsignedInt(i);
        }
        for (; i + 2 <= end; i += 2) {
            sum += buf.getUnsignedShort(i);
        }
        if (i < end) {
            sum += (buf.getUnsignedByte(i) << 8);
        }
        return sum;
    }

    static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }
}
