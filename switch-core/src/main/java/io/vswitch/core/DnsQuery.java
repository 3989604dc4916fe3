package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * A DNS query a container sent to its network's gateway, with what it takes to answer it: the
 * client's and the gateway's MAC and address, the UDP port, the port and lane it came in on.
 * The {@link Responder} fills one in place for each query it answers itself; a query it hands to
 * the {@link Upstream} is a copy that carries the question's bytes ({@link #message()}).
 */
public final class DnsQuery {
    static final int ETHER = EthernetFrame.HEADER_LENGTH;

    Port ingress;
    int lane;
    Counters network;
    long clientMac;
    long serverMac;
    boolean v6;
    int client4;
    int server4;
    long client6Hi;
    long client6Lo;
    long server6Hi;
    long server6Lo;
    int clientPort;
    int mtu;
    byte[] message;

    DnsQuery() {
    }

    /** A copy to outlive the frame, with the DNS message's bytes. */
    DnsQuery copy(ByteBuf frame, int dns, int length) {
        DnsQuery q = new DnsQuery();
        q.ingress = ingress;
        q.lane = lane;
        q.network = network;
        q.clientMac = clientMac;
        q.serverMac = serverMac;
        q.v6 = v6;
        q.client4 = client4;
        q.server4 = server4;
        q.client6Hi = client6Hi;
        q.client6Lo = client6Lo;
        q.server6Hi = server6Hi;
        q.server6Lo = server6Lo;
        q.clientPort = clientPort;
        q.mtu = mtu;
        q.message = new byte[length];
        frame.getBytes(dns, q.message);
        return q;
    }

    /** The DNS message as the container sent it (a forwarded query only). */
    public byte[] message() {
        return message;
    }

    /** The lane that must send the answer (its port's queue is that lane's). */
    public int lane() {
        return lane;
    }

    /** The port the query came in on, where the answer goes. */
    public Port port() {
        return ingress;
    }

    /** Whether the client asked over IPv6. */
    public boolean ipv6() {
        return v6;
    }

    /** Counts an answer that came back from the upstream; on the query's lane. */
    public void countAnswered() {
        network.increment(lane, NetworkCounter.DNS_ANSWERED.ordinal());
    }

    /** Counts an answer the switch had to make itself (REFUSED, SERVFAIL); on the query's lane. */
    public void countRefused() {
        network.increment(lane, NetworkCounter.DNS_REFUSED.ordinal());
    }

    /** rcode of a server that failed: no answer came in time. */
    public static final int SERVFAIL = 2;
    /** rcode of a refusal: no resolver to ask, or none reachable. */
    public static final int REFUSED = Dns.RCODE_REFUSED;

    /** The answer the switch gives itself when the upstream cannot: the question back, with {@code rcode}. */
    public byte[] failure(int rcode) {
        int end = Dns.questionEnd(message, message.length);
        byte[] m = java.util.Arrays.copyOf(message, end);
        int flags = ((message[2] & 0xFF) << 8) | (message[3] & 0xFF);
        flags = 0x8000 | (flags & 0x7900) | 0x0080 | (rcode & 0xF);
        m[2] = (byte) (flags >>> 8);
        m[3] = (byte) flags;
        m[4] = 0;
        m[5] = (byte) (end > Dns.HEADER ? 1 : 0);
        for (int i = 6; i < Dns.HEADER; i++) {
            m[i] = 0;
        }
        return m;
    }

    /**
     * Whether {@code answer} is a response to this query's question (the same name, any case,
     * type and class): what keeps a forged or stray datagram from being passed to the container.
     */
    public boolean answers(byte[] answer, int length) {
        if (length < Dns.HEADER || (answer[2] & 0x80) == 0) {
            return false;
        }
        int end = Dns.questionEnd(message, message.length);
        if (end <= Dns.HEADER || length < end || ((answer[4] << 8) | (answer[5] & 0xFF)) != 1) {
            return false;
        }
        for (int i = Dns.HEADER; i < end; i++) {
            int a = answer[i];
            int b = message[i];
            if (a != b && (a | 0x20) != (b | 0x20)) {
                return false;
            }
            if (a != b && !((a | 0x20) >= 'a' && (a | 0x20) <= 'z')) {
                return false;
            }
        }
        return true;
    }

    /** How long a DNS answer to this client may be in one frame of its network. */
    int maxMessage() {
        return mtu - (v6 ? Ipv6Header.LENGTH : Ipv4Header.MIN_LENGTH) - UdpHeader.LENGTH;
    }

    /** Offset of the DNS message from the start of the frame. */
    int messageOffset() {
        return ETHER + (v6 ? Ipv6Header.LENGTH : Ipv4Header.MIN_LENGTH) + UdpHeader.LENGTH;
    }

    /**
     * The frame that carries {@code dns[0..length)} back to the client, in a new buffer (the
     * caller releases it after sending). An answer too long for the network's MTU goes as its
     * header and question with TC set, as a server would over UDP.
     */
    public ByteBuf frame(ByteBufAllocator alloc, byte[] dns, int length) {
        // At least room for a header and a question, whatever the network's MTU.
        ByteBuf out = alloc.directBuffer(Responder.HEADROOM + messageOffset() + Math.max(Math.min(length, maxMessage()), 272));
        int base = Responder.HEADROOM;
        out.setIndex(base, base);
        out.setZero(0, base);
        int at = base + messageOffset();
        if (length > maxMessage()) {
            int cut = Dns.questionEnd(dns, length);
            out.setBytes(at, dns, 0, cut);
            out.setByte(at + 2, out.getByte(at + 2) | 0x02);
            out.setShort(at + 4, cut > Dns.HEADER ? 1 : 0);
            out.setShort(at + 6, 0);
            out.setShort(at + 8, 0);
            out.setShort(at + 10, 0);
            length = cut;
        } else {
            out.setBytes(at, dns, 0, length);
        }
        finish(out, base, length);
        return out;
    }

    /**
     * Writes Ethernet, IP and UDP headers in front of the DNS message of {@code length} bytes at
     * {@code base + messageOffset()} and sets the buffer's indices to the frame.
     */
    void finish(ByteBuf out, int base, int length) {
        EthernetFrame.writeMac(out, base, clientMac);
        EthernetFrame.writeMac(out, base + 6, serverMac);
        int ip = base + ETHER;
        int udp;
        int udpLength = UdpHeader.LENGTH + length;
        if (v6) {
            out.setShort(base + 12, Ipv6Header.ETHER_TYPE);
            out.setInt(ip, 0x6000_0000);
            out.setShort(ip + Ipv6Header.PAYLOAD_LENGTH_OFFSET, udpLength);
            out.setByte(ip + Ipv6Header.NEXT_HEADER_OFFSET, 17);
            out.setByte(ip + Ipv6Header.HOP_LIMIT_OFFSET, 64);
            out.setLong(ip + Ipv6Header.SOURCE_OFFSET, server6Hi);
            out.setLong(ip + Ipv6Header.SOURCE_OFFSET + 8, server6Lo);
            out.setLong(ip + Ipv6Header.DESTINATION_OFFSET, client6Hi);
            out.setLong(ip + Ipv6Header.DESTINATION_OFFSET + 8, client6Lo);
            udp = ip + Ipv6Header.LENGTH;
        } else {
            out.setShort(base + 12, Ipv4Header.ETHER_TYPE);
            out.setByte(ip, Ipv4Header.VERSION_IHL_PLAIN);
            out.setByte(ip + Ipv4Header.TOS_OFFSET, 0);
            out.setShort(ip + Ipv4Header.TOTAL_LENGTH_OFFSET, Ipv4Header.MIN_LENGTH + udpLength);
            out.setShort(ip + Ipv4Header.ID_OFFSET, 0);
            out.setShort(ip + Ipv4Header.FRAGMENT_OFFSET, 0x4000);
            out.setByte(ip + Ipv4Header.TTL_OFFSET, 64);
            out.setByte(ip + Ipv4Header.PROTOCOL_OFFSET, 17);
            out.setShort(ip + Ipv4Header.CHECKSUM_OFFSET, 0);
            out.setInt(ip + Ipv4Header.SOURCE_OFFSET, server4);
            out.setInt(ip + Ipv4Header.DESTINATION_OFFSET, client4);
            out.setShort(ip + Ipv4Header.CHECKSUM_OFFSET,
                    ~Segmenter.fold(Segmenter.sum(out, ip, Ipv4Header.MIN_LENGTH, 0)) & 0xFFFF);
            udp = ip + Ipv4Header.MIN_LENGTH;
        }
        out.setShort(udp, 53);
        out.setShort(udp + 2, clientPort);
        out.setShort(udp + 4, udpLength);
        out.setShort(udp + 6, 0);
        long sum = Segmenter.pseudoHeaderSum(out, ip, !v6, 17, udpLength);
        int checksum = ~Segmenter.fold(Segmenter.sum(out, udp, udpLength, sum)) & 0xFFFF;
        out.setShort(udp + 6, checksum == 0 ? 0xFFFF : checksum);
        out.setIndex(base, udp + udpLength);
    }
}
