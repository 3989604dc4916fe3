package io.vswitch.nativetap;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

import static io.vswitch.nativetap.Rtnetlink.IFLA_ADDRESS;
import static io.vswitch.nativetap.Rtnetlink.IFLA_IFALIAS;
import static io.vswitch.nativetap.Rtnetlink.IFLA_IFNAME;
import static io.vswitch.nativetap.Rtnetlink.IFLA_OPERSTATE;
import static io.vswitch.nativetap.Rtnetlink.IFLA_QDISC;
import static io.vswitch.nativetap.Rtnetlink.IFLA_STATS64;
import static io.vswitch.nativetap.Rtnetlink.NLM_F_ACK;
import static io.vswitch.nativetap.Rtnetlink.NLM_F_REQUEST;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A flyweight over the socket's buffer: a request written into it (header, struct ifinfomsg,
 * attributes, each padded to 4 bytes), and a link read out of a reply, both as
 * {@link Rtnetlink} draws them:
 * <pre>
 *   struct nlmsghdr  { u32 len; u16 type; u16 flags; u32 seq; u32 pid; }               16 bytes
 *   struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change; } 16 bytes
 *   struct rtattr    { u16 len; u16 type; } + value, padded to 4
 * </pre>
 * One request at a time, by the thread that uses the socket.
 */
final class NetlinkMessage {
    static final int HEADER = 16;
    private static final ValueLayout.OfLong JAVA_LONG_UNALIGNED = JAVA_LONG.withByteAlignment(1);

    private final MemorySegment buffer;
    private int seq;
    private int at;

    NetlinkMessage(MemorySegment buffer) {
        this.buffer = buffer;
    }

    /** The request's sequence number: its answer carries it. */
    int seq() {
        return seq;
    }

    /** Takes the next {@code bytes} of the request for a struct the caller writes there; returns where it starts. */
    int reserve(int bytes) {
        int s = at;
        at += bytes;
        return s;
    }

    /** Ends the request: its length written into its header; returns it. */
    int finish() {
        buffer.set(JAVA_INT, 0, at);
        return at;
    }

    /** Begins a request of {@code type} (RTM_*) with NLM_F_REQUEST, NLM_F_ACK and {@code flags}. */
    void start(int type, int flags) {
        at = 0;
        buffer.set(JAVA_INT, 0, 0);
        buffer.set(JAVA_SHORT, 4, (short) type);
        buffer.set(JAVA_SHORT, 6, (short) (NLM_F_REQUEST | NLM_F_ACK | flags));
        buffer.set(JAVA_INT, 8, ++seq);
        buffer.set(JAVA_INT, 12, 0);
        at = HEADER;
    }

    /** A struct ifinfomsg for link {@code index} (0: by name). */
    void ifinfo(int index, int flags, int change) {
        buffer.set(JAVA_BYTE, at, (byte) 0);        // AF_UNSPEC
        buffer.set(JAVA_BYTE, at + 1, (byte) 0);
        buffer.set(JAVA_SHORT, at + 2, (short) 0);
        buffer.set(JAVA_INT, at + 4, index);
        buffer.set(JAVA_INT, at + 8, flags);
        buffer.set(JAVA_INT, at + 12, change);
        at += 16;
    }

    void attr(int type, int value) {
        buffer.set(JAVA_SHORT, at, (short) 8);
        buffer.set(JAVA_SHORT, at + 2, (short) type);
        buffer.set(JAVA_INT, at + 4, value);
        at += 8;
    }

    void attr(int type, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
        attr(type, bytes, true);
    }

    void attr(int type, byte[] value, boolean nulTerminated) {
        int length = 4 + value.length + (nulTerminated ? 1 : 0);
        buffer.set(JAVA_SHORT, at, (short) length);
        buffer.set(JAVA_SHORT, at + 2, (short) type);
        MemorySegment.copy(value, 0, buffer, JAVA_BYTE, at + 4, value.length);
        int padded = (length + 3) & ~3;
        for (int i = 4 + value.length; i < padded; i++) {
            buffer.set(JAVA_BYTE, at + i, (byte) 0);
        }
        at += padded;
    }

    /** The link an RTM_NEWLINK reply at {@code m} describes. */
    Rtnetlink.Link link(int m) {
        int length = buffer.get(JAVA_INT, m);
        int info = m + HEADER;
        int index = buffer.get(JAVA_INT, info + 4);
        int flags = buffer.get(JAVA_INT, info + 8);
        String name = null;
        String alias = null;
        String qdisc = null;
        long mac = 0;
        int oper = 0;
        long rxDropped = 0;
        long txDropped = 0;
        for (int a = info + 16; a + 4 <= m + length; ) {
            int alen = buffer.get(JAVA_SHORT, a) & 0xFFFF;
            int type = buffer.get(JAVA_SHORT, a + 2) & 0x3FFF;
            if (alen < 4) {
                break;
            }
            switch (type) {
                case IFLA_IFNAME -> name = buffer.getString(a + 4, StandardCharsets.US_ASCII);
                case IFLA_OPERSTATE -> oper = buffer.get(JAVA_BYTE, a + 4) & 0xFF;
                case IFLA_IFALIAS -> alias = buffer.getString(a + 4, StandardCharsets.UTF_8);
                case IFLA_QDISC -> qdisc = buffer.getString(a + 4, StandardCharsets.US_ASCII);
                case IFLA_ADDRESS -> {
                    if (alen - 4 == 6) {
                        for (int i = 0; i < 6; i++) {
                            mac = (mac << 8) | (buffer.get(JAVA_BYTE, a + 4 + i) & 0xFF);
                        }
                    }
                }
                case IFLA_STATS64 -> {
                    // struct rtnl_link_stats64: rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors,
                    // tx_errors, rx_dropped, tx_dropped, ... (u64 each)
                    rxDropped = buffer.get(JAVA_LONG_UNALIGNED, a + 4 + 6 * 8);
                    txDropped = buffer.get(JAVA_LONG_UNALIGNED, a + 4 + 7 * 8);
                }
                default -> {
                }
            }
            a += (alen + 3) & ~3;
        }
        return new Rtnetlink.Link(index, name, flags, oper, rxDropped, txDropped, alias, mac, qdisc);
    }

}
