package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * The {@code struct virtio_net_hdr} (10 bytes, little-endian on this platform) that a TAP opened
 * with IFF_VNET_HDR puts in front of every frame, read in place: it sits in the receive
 * headroom, just before the frame's reader index.
 * <pre>
 *   0       1         2          4          6            8             10
 *   +-------+---------+----------+----------+------------+-------------+
 *   | flags | gso_type| hdr_len  | gso_size | csum_start | csum_offset |
 *   +-------+---------+----------+----------+------------+-------------+
 * </pre>
 * With checksum and segmentation offloads on, the kernel hands over TCP frames of up to 64 KB
 * ({@code gso_type} TCPV4/TCPV6) with their checksum left to do ({@code NEEDS_CSUM}); passed
 * unchanged to another offload-capable TAP, the receiving kernel takes them as they are, so a
 * 64 KB frame crosses the switch as one read and one write.
 */
public final class VirtioNetHeader {
    public static final int LENGTH = 10;
    public static final int FLAGS_OFFSET = 0;
    public static final int GSO_TYPE_OFFSET = 1;
    public static final int HDR_LEN_OFFSET = 2;
    public static final int GSO_SIZE_OFFSET = 4;
    public static final int CSUM_START_OFFSET = 6;
    public static final int CSUM_OFFSET_OFFSET = 8;
    public static final int FLAG_NEEDS_CSUM = 1;
    public static final int FLAG_DATA_VALID = 2;
    public static final int GSO_NONE = 0;
    public static final int GSO_TCPV4 = 1;
    public static final int GSO_UDP = 3;
    public static final int GSO_TCPV6 = 4;
    public static final int GSO_UDP_L4 = 5;
    public static final int GSO_ECN = 0x80;
    /** Largest frame a segmentation offload can hand over: a 64 KB IP packet, Ethernet and one tag. */
    public static final int MAX_GSO_FRAME = 65535 + EthernetFrame.MAX_OVERHEAD;

    private VirtioNetHeader() {
    }

    /** The GSO type of the header in front of {@code frame} (ECN bit cleared). */
    public static int gsoType(ByteBuf frame) {
        return frame.getUnsignedByte(frame.readerIndex() - LENGTH + GSO_TYPE_OFFSET) & ~GSO_ECN;
    }

    public static int gsoSize(ByteBuf frame) {
        return frame.getUnsignedShortLE(frame.readerIndex() - LENGTH + GSO_SIZE_OFFSET);
    }

    public static int flags(ByteBuf frame) {
        return frame.getUnsignedByte(frame.readerIndex() - LENGTH + FLAGS_OFFSET);
    }

    /** Writes an empty header (no offload work) in front of {@code frame}. */
    public static void clear(ByteBuf frame) {
        int at = frame.readerIndex() - LENGTH;
        frame.setLong(at, 0);
        frame.setShort(at + 8, 0);
    }
}
