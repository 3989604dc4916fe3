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
    /** All of memory, for reading direct buffers by address without a bounds check per word. */
    private static final MemorySegment MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

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
        return cut(frame, Layers.of(frame), scratch, headroom, stride, sink, null);
    }

    /** As {@link #segment(ByteBuf, ByteBuf, int, int, SegmentSink)} with the frame's {@link Layers} already parsed. */
    public static int segment(ByteBuf frame, long layers, ByteBuf scratch, int headroom, int stride, SegmentSink sink) {
        return cut(frame, layers, scratch, headroom, stride, sink, null);
    }

    /**
     * As {@link #segment(ByteBuf, ByteBuf, int, int, SegmentSink)} without copying payload: only
     * each segment's headers are built in {@code scratch} (segment {@code i} at {@code i * stride
     * + headroom}), checksums covering the payload where it lies in {@code frame}, for a sender
     * that gathers headers and payload with two iovecs. {@code layers}: the frame's
     * {@link Layers}, or {@link Layers#UNPARSED} to have them parsed here.
     */
    public static int segmentHeaders(ByteBuf frame, long layers, ByteBuf scratch, int headroom, int stride,
            HeaderSink sink) {
        return cut(frame, layers, scratch, headroom, stride, null, sink);
    }

    private static int cut(ByteBuf frame, long layers, ByteBuf scratch, int headroom, int stride, SegmentSink whole,
            HeaderSink split) {
        int gso = VirtioNetHeader.gsoType(frame);
        int mss = VirtioNetHeader.gsoSize(frame);
        if (layers == Layers.UNPARSED) {
            layers = Layers.of(frame);
        }
        if (layers == Layers.NONE || mss <= 0) {
            return -1;
        }
        boolean tcp = Layers.isTcp(layers);
        if ((gso == VirtioNetHeader.GSO_TCPV4 || gso == VirtioNetHeader.GSO_TCPV6) != tcp
                || !(tcp || gso == VirtioNetHeader.GSO_UDP_L4)) {
            return -1;
        }
        int l3 = Layers.l3(layers);
        int l4 = Layers.l4(layers);
        int headers = Layers.payload(layers);
        int proto = Layers.protocol(layers);
        boolean ipv4 = Layers.isIpv4(frame, layers);
        int base = frame.readerIndex();
        int payload = frame.writerIndex() - base - headers;
        if (payload <= 0) {
            return -1;
        }
        int segments = (payload + mss - 1) / mss;
        if (stride > 0 && (long) segments * stride > scratch.capacity()) {
            return -1;
        }
        int ipId = ipv4 ? frame.getUnsignedShort(base + l3 + Ipv4Header.ID_OFFSET) : 0;
        long seq = tcp ? TcpHeader.sequence(frame, base + l4) : 0;
        int flags = tcp ? TcpHeader.flags(frame, base + l4) : 0;
        for (int i = 0; i < segments; i++) {
            int length = Math.min(mss, payload - i * mss);
            int from = base + headers + i * mss;
            int s = i * stride + headroom;
            scratch.setIndex(s, s);
            scratch.writeBytes(frame, base, headers);
            int l4Length = headers - l4 + length;
            if (ipv4) {
                scratch.setShort(s + l3 + Ipv4Header.TOTAL_LENGTH_OFFSET, l4 - l3 + l4Length);
                scratch.setShort(s + l3 + Ipv4Header.ID_OFFSET, ipId + i);
                scratch.setShort(s + l3 + Ipv4Header.CHECKSUM_OFFSET, 0);
                scratch.setShort(s + l3 + Ipv4Header.CHECKSUM_OFFSET, ~fold(sum(scratch, s + l3, l4 - l3, 0)) & 0xFFFF);
            } else {
                scratch.setShort(s + l3 + Ipv6Header.PAYLOAD_LENGTH_OFFSET, l4 - l3 - Ipv6Header.LENGTH + l4Length);
            }
            int checksumAt;
            if (tcp) {
                scratch.setInt(s + l4 + TcpHeader.SEQUENCE_OFFSET, (int) (seq + (long) i * mss));
                int f = flags;
                if (i > 0) {
                    f &= ~TcpHeader.CWR;
                }
                if (i < segments - 1) {
                    f &= ~(TcpHeader.FIN | TcpHeader.PSH);
                }
                scratch.setByte(s + l4 + TcpHeader.FLAGS_OFFSET, f);
                checksumAt = s + l4 + TcpHeader.CHECKSUM_OFFSET;
            } else {
                scratch.setShort(s + l4 + UdpHeader.LENGTH_OFFSET, l4Length);
                checksumAt = s + l4 + UdpHeader.CHECKSUM_OFFSET;
            }
            scratch.setShort(checksumAt, 0);
            // The L4 header has an even length, so its sum and the payload's add up as one.
            long l4Sum = pseudoHeaderSum(scratch, s + l3, ipv4, proto, l4Length);
            l4Sum = sum(scratch, s + l4, headers - l4, l4Sum);
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
        int start = frame.getUnsignedShortLE(header + VirtioNetHeader.CSUM_START_OFFSET);
        int offset = frame.getUnsignedShortLE(header + VirtioNetHeader.CSUM_OFFSET_OFFSET);
        int base = frame.readerIndex();
        if (start + offset + 2 > frame.readableBytes()) {
            return;
        }
        int sum = ~fold(sum(frame, base + start, frame.readableBytes() - start, 0)) & 0xFFFF;
        frame.setShort(base + start + offset, sum);
        frame.setByte(header, VirtioNetHeader.FLAG_DATA_VALID);
    }

    /**
     * The unfolded sum of the TCP/UDP pseudo-header (RFC 793/768 for IPv4, RFC 8200 section
     * 8.1 for IPv6) of the IP header at {@code ip}: addresses, protocol and L4 length.
     */
    static long pseudoHeaderSum(ByteBuf buf, int ip, boolean ipv4, int proto, int l4Length) {
        long sum = ipv4 ? sum(buf, ip + Ipv4Header.SOURCE_OFFSET, 8, 0)
                : sum(buf, ip + Ipv6Header.SOURCE_OFFSET, 2 * Ipv6Header.ADDRESS_LENGTH, 0);
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
