package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * Offsets into a TCP header (RFC 9293, section 3.1) and static accessors at an absolute index.
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence Number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Acknowledgment Number                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Checksum            |         Urgent Pointer        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options (Data Offset > 5)                  |
 * </pre>
 */
public final class TcpHeader {
    public static final int PROTOCOL = 6;
    public static final int PORTS_OFFSET = 0;
    public static final int SEQUENCE_OFFSET = 4;
    public static final int ACK_OFFSET = 8;
    public static final int DATA_OFFSET_OFFSET = 12;
    public static final int FLAGS_OFFSET = 13;
    public static final int WINDOW_OFFSET = 14;
    public static final int CHECKSUM_OFFSET = 16;
    public static final int MIN_LENGTH = 20;
    public static final int MAX_LENGTH = 60;
    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;
    public static final int URG = 0x20;
    public static final int ECE = 0x40;
    public static final int CWR = 0x80;
    /**
     * The smallest MSS a Linux stack uses (TCP_MIN_MSS, include/net/tcp.h): a GSO frame that
     * claims smaller segments was not made by a kernel's TCP.
     */
    public static final int MIN_MSS = 88;

    private TcpHeader() {
    }

    /** The header's length in bytes (data offset * 4). */
    public static int length(ByteBuf buf, int at) {
        return (buf.getUnsignedByte(at + DATA_OFFSET_OFFSET) >> 4) * 4;
    }

    public static int flags(ByteBuf buf, int at) {
        return buf.getUnsignedByte(at + FLAGS_OFFSET);
    }

    public static long sequence(ByteBuf buf, int at) {
        return buf.getUnsignedInt(at + SEQUENCE_OFFSET);
    }

    /** Source and destination port as one int (source in the high half). */
    public static int ports(ByteBuf buf, int at) {
        return buf.getInt(at + PORTS_OFFSET);
    }
}
