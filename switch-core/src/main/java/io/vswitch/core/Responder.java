package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * The switch's own answers, in the data path of one lane: ARP requests and IPv6 neighbour
 * solicitations for an address its network knows ({@link Directory}) are answered on the port
 * they came in on, instead of flooding the network and the overlay; DNS queries to the gateway
 * of a network with DNS on are answered for the names of its endpoints, handed to the
 * {@link Upstream} for other names, or REFUSED at once when there is none.
 *
 * <p>Other traffic pays for two reads it already has in cache (the EtherType and, when the
 * network has a gateway, the destination MAC). Nothing allocates: each answer of a batch is
 * written into a reply buffer of its own, kept by the lane and reused from the next batch on
 * (a tunnel port only queues a frame's address until the batch is flushed), unless a port kept it. What is not answered (an address or
 * name the network does not know, a probe, a request for one's own address) goes on as before.
 *
 * <p>Not answered on purpose: ARP probes (sender 0.0.0.0) and IPv6 duplicate address detection
 * (source ::), so a container that claims a taken address still finds out; gratuitous ARP; a
 * request for the asker's own address; from an isolated port (icc off), anything but the
 * gateway, since the container could not reach the address anyway.
 */
public final class Responder {
    /** Room in front of a reply: the virtio-net header and what a sender may prepend. */
    public static final int HEADROOM = 64;
    static final int ETHER_ARP = 0x0806;
    static final int ARP_LENGTH = 28;
    static final int ND_NS = 135;
    static final int ND_NA = 136;
    /** Time to live of the switch's answers: names follow containers that come and go. */
    static final int TTL = 30;
    private static final int MIN_FRAME = 60;
    private static final int NOT_DNS = Integer.MIN_VALUE;

    /** The longest query taken: a question (at most 259 bytes) and EDNS options fit many times over. */
    static final int MAX_QUERY = 1232;

    private final int lane;
    private final Dns.Question question = new Dns.Question();
    private final DnsQuery query = new DnsQuery();
    private final ByteBuf[] replies;
    private int used;

    public Responder(int lane, int maxBatch) {
        this.lane = lane;
        this.replies = new ByteBuf[maxBatch];
    }

    /** A new batch: the reply buffers of the last one were flushed with it. */
    public void startBatch() {
        used = 0;
    }

    /**
     * Looks at one valid frame that is to be forwarded ({@code decision}: an egress or flood) and
     * returns what becomes of it: the same decision, {@link Forwarder#ANSWERED} when the switch
     * answered it, or a drop ({@code arp-malformed}, {@code dns-malformed}, {@code no-gateway}).
     */
    public int inspect(Port ingress, ByteBuf frame, Directory dir, int decision, Counters network) {
        int r = frame.readerIndex();
        int type = frame.getUnsignedShort(r + EthernetFrame.ETHER_TYPE_OFFSET);
        if (type == ETHER_ARP) {
            return arp(ingress, frame, r, dir, decision, network);
        }
        if (!dir.isActive()) {
            return decision;
        }
        if (type == Ipv6Header.ETHER_TYPE && decision == Forwarder.FLOOD && frame.getUnsignedShort(r) == 0x3333) {
            return neighbour(ingress, frame, r, dir, decision, network);
        }
        long gateway = dir.gatewayMac();
        if (gateway != 0 && EthernetFrame.destination(frame) == gateway) {
            if (type == Ipv6Header.ETHER_TYPE && !dir.hasGatewayPort()) {
                // A unicast solicitation (reachability probe) of the gateway only the switch can answer.
                int answered = neighbour(ingress, frame, r, dir, NOT_DNS, network);
                if (answered != NOT_DNS) {
                    return answered;
                }
            }
            if (dir.dns()) {
                int answered = dns(ingress, frame, r, type, dir, network);
                if (answered != NOT_DNS) {
                    return answered;
                }
            }
            if (!dir.hasGatewayPort()) {
                return Forwarder.drop(DropReason.NO_GATEWAY);
            }
        }
        return decision;
    }

    // ---------------------------------------------------------------- ARP

    private int arp(Port ingress, ByteBuf f, int r, Directory dir, int decision, Counters network) {
        int a = r + EthernetFrame.HEADER_LENGTH;
        if (f.readableBytes() < EthernetFrame.HEADER_LENGTH + ARP_LENGTH
                || f.getUnsignedShort(a) != 1 || f.getUnsignedShort(a + 2) != Ipv4Header.ETHER_TYPE
                || f.getUnsignedByte(a + 4) != 6 || f.getUnsignedByte(a + 5) != 4) {
            return Forwarder.drop(DropReason.ARP_MALFORMED);
        }
        int op = f.getUnsignedShort(a + 6);
        if (op != 1 && op != 2) {
            return Forwarder.drop(DropReason.ARP_MALFORMED);
        }
        if (op != 1 || !dir.isActive()) {
            return decision;
        }
        long senderMac = EthernetFrame.mac(f, a + 8);
        int senderIp = f.getInt(a + 14);
        int targetIp = f.getInt(a + 24);
        if (senderIp == 0 || senderIp == targetIp || !MacAddress.isValidSource(senderMac)) {
            return decision;
        }
        long mac = dir.macOf4(targetIp);
        if (mac == 0 || mac == senderMac || ingress.isIsolated() && !dir.isGateway4(targetIp)) {
            return decision;
        }
        ByteBuf out = replyBuffer();
        int o = HEADROOM;
        EthernetFrame.writeMac(out, o, senderMac);
        EthernetFrame.writeMac(out, o + 6, mac);
        out.setShort(o + 12, ETHER_ARP);
        int p = o + EthernetFrame.HEADER_LENGTH;
        out.setShort(p, 1);
        out.setShort(p + 2, Ipv4Header.ETHER_TYPE);
        out.setByte(p + 4, 6);
        out.setByte(p + 5, 4);
        out.setShort(p + 6, 2);
        EthernetFrame.writeMac(out, p + 8, mac);
        out.setInt(p + 14, targetIp);
        EthernetFrame.writeMac(out, p + 18, senderMac);
        out.setInt(p + 24, senderIp);
        out.setZero(p + ARP_LENGTH, MIN_FRAME - EthernetFrame.HEADER_LENGTH - ARP_LENGTH);
        send(ingress, out, MIN_FRAME);
        network.increment(lane, NetworkCounter.ARP_ANSWERED.ordinal());
        return Forwarder.ANSWERED;
    }

    // ---------------------------------------------------------------- IPv6 neighbour discovery

    private int neighbour(Port ingress, ByteBuf f, int r, Directory dir, int decision, Counters network) {
        int ip = r + EthernetFrame.HEADER_LENGTH;
        int icmp = ip + Ipv6Header.LENGTH;
        if (f.readableBytes() < EthernetFrame.HEADER_LENGTH + Ipv6Header.LENGTH + 24
                || (f.getUnsignedByte(ip) >>> 4) != 6
                || f.getUnsignedByte(ip + Ipv6Header.NEXT_HEADER_OFFSET) != 58
                || f.getUnsignedByte(ip + Ipv6Header.HOP_LIMIT_OFFSET) != 255
                || f.getUnsignedByte(icmp) != ND_NS || f.getUnsignedByte(icmp + 1) != 0) {
            return decision;
        }
        int payload = f.getUnsignedShort(ip + Ipv6Header.PAYLOAD_LENGTH_OFFSET);
        if (payload < 24 || EthernetFrame.HEADER_LENGTH + Ipv6Header.LENGTH + payload > f.readableBytes()) {
            return decision;
        }
        long srcHi = f.getLong(ip + Ipv6Header.SOURCE_OFFSET);
        long srcLo = f.getLong(ip + Ipv6Header.SOURCE_OFFSET + 8);
        if (srcHi == 0 && srcLo == 0) {
            return decision; // duplicate address detection: the owner must hear it
        }
        long targetHi = f.getLong(icmp + 8);
        long targetLo = f.getLong(icmp + 16);
        long asker = EthernetFrame.source(f);
        long mac = dir.macOf6(targetHi, targetLo);
        if (mac == 0 || mac == asker || ingress.isIsolated() && !dir.isGateway6(targetHi, targetLo)) {
            return decision;
        }
        ByteBuf out = replyBuffer();
        int o = HEADROOM;
        EthernetFrame.writeMac(out, o, asker);
        EthernetFrame.writeMac(out, o + 6, mac);
        out.setShort(o + 12, Ipv6Header.ETHER_TYPE);
        int oip = o + EthernetFrame.HEADER_LENGTH;
        int na = oip + Ipv6Header.LENGTH;
        int naLength = 24 + 8;
        out.setInt(oip, 0x6000_0000);
        out.setShort(oip + Ipv6Header.PAYLOAD_LENGTH_OFFSET, naLength);
        out.setByte(oip + Ipv6Header.NEXT_HEADER_OFFSET, 58);
        out.setByte(oip + Ipv6Header.HOP_LIMIT_OFFSET, 255);
        out.setLong(oip + Ipv6Header.SOURCE_OFFSET, targetHi);
        out.setLong(oip + Ipv6Header.SOURCE_OFFSET + 8, targetLo);
        out.setLong(oip + Ipv6Header.DESTINATION_OFFSET, srcHi);
        out.setLong(oip + Ipv6Header.DESTINATION_OFFSET + 8, srcLo);
        out.setByte(na, ND_NA);
        out.setByte(na + 1, 0);
        out.setShort(na + 2, 0);
        // Router (the gateway of a gateway port, which routes), Solicited, Override.
        boolean router = dir.hasGatewayPort() && dir.isGateway6(targetHi, targetLo);
        out.setInt(na + 4, (router ? 0x8000_0000 : 0) | 0x6000_0000);
        out.setLong(na + 8, targetHi);
        out.setLong(na + 16, targetLo);
        out.setByte(na + 24, 2); // target link-layer address option, 8 bytes
        out.setByte(na + 25, 1);
        EthernetFrame.writeMac(out, na + 26, mac);
        long sum = Segmenter.pseudoHeaderSum(out, oip, false, 58, naLength);
        out.setShort(na + 2, ~Segmenter.fold(Segmenter.sum(out, na, naLength, sum)) & 0xFFFF);
        send(ingress, out, EthernetFrame.HEADER_LENGTH + Ipv6Header.LENGTH + naLength);
        network.increment(lane, NetworkCounter.ND_ANSWERED.ordinal());
        return Forwarder.ANSWERED;
    }

    // ---------------------------------------------------------------- DNS

    private int dns(Port ingress, ByteBuf f, int r, int type, Directory dir, Counters network) {
        int ip = r + EthernetFrame.HEADER_LENGTH;
        int length = f.readableBytes() - EthernetFrame.HEADER_LENGTH;
        DnsQuery q = query;
        int udp;
        int ipPayload;
        if (type == Ipv4Header.ETHER_TYPE) {
            if (length < Ipv4Header.MIN_LENGTH + UdpHeader.LENGTH || Ipv4Header.version(f, ip) != 4
                    || Ipv4Header.protocol(f, ip) != 17 || !dir.isGateway4(Ipv4Header.destination(f, ip))) {
                return NOT_DNS;
            }
            int header = Ipv4Header.length(f, ip);
            if (header < Ipv4Header.MIN_LENGTH || Ipv4Header.isFragment(f, ip)) {
                return NOT_DNS;
            }
            udp = ip + header;
            if (header + UdpHeader.LENGTH > length || f.getUnsignedShort(udp + 2) != 53) {
                return NOT_DNS;
            }
            int total = Ipv4Header.totalLength(f, ip);
            if (total > length || total < header + UdpHeader.LENGTH) {
                return Forwarder.drop(DropReason.DNS_MALFORMED);
            }
            ipPayload = total - header;
            q.v6 = false;
            q.client4 = Ipv4Header.source(f, ip);
            q.server4 = Ipv4Header.destination(f, ip);
        } else if (type == Ipv6Header.ETHER_TYPE) {
            if (length < Ipv6Header.LENGTH + UdpHeader.LENGTH || (f.getUnsignedByte(ip) >>> 4) != 6
                    || f.getUnsignedByte(ip + Ipv6Header.NEXT_HEADER_OFFSET) != 17) {
                return NOT_DNS;
            }
            long dstHi = f.getLong(ip + Ipv6Header.DESTINATION_OFFSET);
            long dstLo = f.getLong(ip + Ipv6Header.DESTINATION_OFFSET + 8);
            udp = ip + Ipv6Header.LENGTH;
            if (!dir.isGateway6(dstHi, dstLo) || f.getUnsignedShort(udp + 2) != 53) {
                return NOT_DNS;
            }
            ipPayload = f.getUnsignedShort(ip + Ipv6Header.PAYLOAD_LENGTH_OFFSET);
            if (ipPayload > length - Ipv6Header.LENGTH || ipPayload < UdpHeader.LENGTH) {
                return Forwarder.drop(DropReason.DNS_MALFORMED);
            }
            q.v6 = true;
            q.client6Hi = f.getLong(ip + Ipv6Header.SOURCE_OFFSET);
            q.client6Lo = f.getLong(ip + Ipv6Header.SOURCE_OFFSET + 8);
            q.server6Hi = dstHi;
            q.server6Lo = dstLo;
        } else {
            return NOT_DNS;
        }
        int udpLength = f.getUnsignedShort(udp + 4);
        if (udpLength < UdpHeader.LENGTH || udpLength > ipPayload) {
            return Forwarder.drop(DropReason.DNS_MALFORMED);
        }
        int message = udp + UdpHeader.LENGTH;
        int messageLength = udpLength - UdpHeader.LENGTH;
        Dns.Question question = this.question;
        if (messageLength > MAX_QUERY || !Dns.parse(f, message, messageLength, question)) {
            return Forwarder.drop(DropReason.DNS_MALFORMED);
        }
        q.ingress = ingress;
        q.lane = lane;
        q.network = network;
        q.clientMac = EthernetFrame.source(f);
        q.serverMac = EthernetFrame.destination(f);
        q.clientPort = f.getUnsignedShort(udp);
        q.mtu = ingress.domain() != null ? ingress.domain().mtu() : 1500;

        if (question.opcode() != 0) {
            answer(f, message, question, q, Dns.RCODE_NOTIMP, null, false, dir.upstream() != null);
            network.increment(lane, NetworkCounter.DNS_REFUSED.ordinal());
            return Forwarder.ANSWERED;
        }
        NameTable.Entry entry = null;
        int n = question.nameLength;
        byte[] domain = dir.domain();
        if (question.qclass == Dns.CLASS_IN || question.qclass == Dns.TYPE_ANY) {
            entry = dir.names().find(question.name, n);
            if (entry == null && domain.length > 0 && n > domain.length + 1 && question.name[n - domain.length - 1] == '.'
                    && java.util.Arrays.equals(question.name, n - domain.length, n, domain, 0, domain.length)) {
                entry = dir.names().find(question.name, n - domain.length - 1); // NAME.NETWORK
            }
        }
        if (entry != null) {
            answer(f, message, question, q, 0, entry, true, dir.upstream() != null);
            network.increment(lane, NetworkCounter.DNS_ANSWERED.ordinal());
            return Forwarder.ANSWERED;
        }
        // Not a name of this network (the network's name may well be a real top-level domain:
        // "dev", "io"): the host's resolvers decide.
        Upstream upstream = dir.upstream();
        if (upstream == null || !upstream.forward(q.copy(f, message, messageLength))) {
            answer(f, message, question, q, Dns.RCODE_REFUSED, null, false, upstream != null);
            network.increment(lane, NetworkCounter.DNS_REFUSED.ordinal());
            return Forwarder.ANSWERED;
        }
        network.increment(lane, NetworkCounter.DNS_FORWARDED.ordinal());
        return Forwarder.ANSWERED;
    }

    /** Writes and sends the answer to {@code question}: the question, then the entry's addresses of its type. */
    private void answer(ByteBuf f, int message, Dns.Question question, DnsQuery q, int rcode, NameTable.Entry entry,
            boolean authoritative, boolean recursion) {
        ByteBuf out = replyBuffer();
        int base = HEADROOM;
        int m = base + q.messageOffset();
        boolean notImplemented = rcode == Dns.RCODE_NOTIMP;
        int questionLength = notImplemented ? 0 : question.end - Dns.HEADER;
        int limit = Math.min(q.maxMessage(), question.edns ? Math.min(question.udpSize, Dns.EDNS_UDP) : Dns.CLASSIC_UDP);
        int opt = question.edns && !notImplemented ? 11 : 0;
        out.setShort(m, question.id);
        out.setShort(m + 4, notImplemented ? 0 : 1);
        out.setShort(m + 8, 0);
        out.setBytes(m + Dns.HEADER, f, message + Dns.HEADER, questionLength);
        int p = m + Dns.HEADER + questionLength;
        int answers = 0;
        boolean truncated = false;
        if (entry != null) {
            boolean a = question.type == Dns.TYPE_A || question.type == Dns.TYPE_ANY;
            boolean aaaa = question.type == Dns.TYPE_AAAA || question.type == Dns.TYPE_ANY;
            if (a) {
                for (int address : entry.v4) {
                    if (p - m + 16 + opt > limit) {
                        truncated = true;
                        break;
                    }
                    p = record(out, p, Dns.TYPE_A, 4);
                    out.setInt(p - 4, address);
                    answers++;
                }
            }
            if (aaaa && !truncated) {
                for (byte[] address : entry.v6) {
                    if (p - m + 28 + opt > limit) {
                        truncated = true;
                        break;
                    }
                    p = record(out, p, Dns.TYPE_AAAA, 16);
                    out.setBytes(p - 16, address);
                    answers++;
                }
            }
        }
        if (opt > 0) {
            out.setByte(p, 0);
            out.setShort(p + 1, Dns.TYPE_OPT);
            out.setShort(p + 3, Dns.EDNS_UDP);
            out.setInt(p + 5, 0);
            out.setShort(p + 9, 0);
            p += opt;
        }
        int flags = 0x8000 | (question.flags & 0x7800) | (authoritative ? 0x0400 : 0) | (truncated ? 0x0200 : 0)
                | (question.flags & 0x0100) | (recursion ? 0x0080 : 0) | rcode;
        out.setShort(m + 2, flags);
        out.setShort(m + 6, answers);
        out.setShort(m + 10, opt > 0 ? 1 : 0);
        q.finish(out, base, p - m);
        send(q.ingress, out, out.readableBytes());
    }

    /** A record for the question's name (a pointer to offset 12), class IN, the switch's TTL; returns its end. */
    private static int record(ByteBuf out, int p, int type, int length) {
        out.setShort(p, 0xC000 | Dns.HEADER);
        out.setShort(p + 2, type);
        out.setShort(p + 4, Dns.CLASS_IN);
        out.setInt(p + 6, TTL);
        out.setShort(p + 10, length);
        return p + 12 + length;
    }

    // ---------------------------------------------------------------- sending

    /** A reply buffer of this batch, a new one when a port kept the last user's frame. */
    private ByteBuf replyBuffer() {
        int i = used < replies.length ? used++ : replies.length - 1;
        ByteBuf b = replies[i];
        if (b == null || b.refCnt() != 1) {
            if (b != null) {
                b.release();
            }
            b = replies[i] = PooledByteBufAllocator.DEFAULT.directBuffer(HEADROOM + 2048, HEADROOM + 2048);
            b.setZero(0, HEADROOM);
        }
        b.setIndex(HEADROOM, HEADROOM);
        return b;
    }

    private void send(Port port, ByteBuf out, int length) {
        out.setIndex(HEADROOM, HEADROOM + length);
        VirtioNetHeader.clear(out);
        port.transmit(out, lane);
    }

    /** Gives back the reply buffers; the lane is stopping. */
    public void release() {
        for (int i = 0; i < replies.length; i++) {
            if (replies[i] != null) {
                replies[i].release();
                replies[i] = null;
            }
        }
    }
}
