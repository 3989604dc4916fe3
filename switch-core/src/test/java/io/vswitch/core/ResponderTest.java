package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ARP, neighbour discovery and DNS answered by the switch, through the whole pipeline, with in-memory ports. */
class ResponderTest {
    private static final long NOW = 5_000_000_000_000L;
    static final long A = Frames.mac(0xA);
    static final long B = Frames.mac(0xB);
    static final long C = Frames.mac(0xC);
    static final long GW = Frames.mac(0x99);
    static final byte[] IP_A = ip("198.18.80.2");
    static final byte[] IP_B = ip("198.18.80.3");
    static final byte[] IP_GW = ip("198.18.80.1");
    static final byte[] IP6_A = ip("fd00:80::2");
    static final byte[] IP6_B = ip("fd00:80::3");
    static final byte[] IP6_GW = ip("fd00:80::1");

    private BridgeDomain net;
    private ChannelPort pa;
    private ChannelPort pb;
    private ChannelPort pc;
    private Pipeline pipeline;
    private final List<DnsQuery> forwarded = new ArrayList<>();

    static byte[] ip(String text) {
        try {
            return InetAddress.getByName(text).getAddress();
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @BeforeEach
    void setUp() {
        net = new BridgeDomain(1, new NetworkSettings("apps", 1500, Duration.ofSeconds(300), 8192), 2);
        pa = new ChannelPort("pa", 2);
        pb = new ChannelPort("pb", 2);
        pc = new ChannelPort("pc", 2);
        net.addPort(pa);
        net.addPort(pb);
        net.addPort(pc);
        pipeline = new Pipeline(1, 64);
        directory(false, true);
    }

    private void directory(boolean gatewayPort, boolean upstream) {
        net.setDirectory(Directory.builder()
                .gateway(GW, gatewayPort, IP_GW, IP6_GW)
                .neighbor(IP_A, A).neighbor(IP_B, B).neighbor(IP6_A, A).neighbor(IP6_B, B)
                .dns("apps", upstream ? forwarded::add : null)
                .name("web", IP_B).name("web", IP6_B).name("Alias-B", IP_B).name("db", IP_A)
                .build());
    }

    @AfterEach
    void tearDown() {
        for (ChannelPort p : new ChannelPort[] {pa, pb, pc}) {
            p.clear();
        }
        pipeline.release();
    }

    private void send(Port ingress, ByteBuf frame) {
        pipeline.process(ingress, new ByteBuf[] {frame}, 1, NOW);
        frame.release();
    }

    private static int count(ChannelPort port) {
        int n = port.pending();
        port.clear();
        return n;
    }

    // ------------------------------------------------------------ frames

    static ByteBuf arp(long srcMac, int op, long senderMac, byte[] senderIp, byte[] targetIp) {
        ByteBuf f = Unpooled.directBuffer(60).writeZero(60);
        EthernetFrame.writeMac(f, 0, MacAddress.BROADCAST);
        EthernetFrame.writeMac(f, 6, srcMac);
        f.setShort(12, 0x0806);
        f.setShort(14, 1);
        f.setShort(16, 0x0800);
        f.setByte(18, 6);
        f.setByte(19, 4);
        f.setShort(20, op);
        EthernetFrame.writeMac(f, 22, senderMac);
        f.setBytes(28, senderIp);
        f.setBytes(38, targetIp);
        return f;
    }

    static ByteBuf solicit(long srcMac, byte[] src, byte[] target) {
        int icmpLength = 24 + 8;
        ByteBuf f = Unpooled.directBuffer(14 + 40 + icmpLength).writeZero(14 + 40 + icmpLength);
        EthernetFrame.writeMac(f, 0, 0x3333_FF00_0000L | (target[13] & 0xFF) << 16 | (target[14] & 0xFF) << 8 | target[15] & 0xFF);
        EthernetFrame.writeMac(f, 6, srcMac);
        f.setShort(12, 0x86DD);
        f.setInt(14, 0x6000_0000);
        f.setShort(18, icmpLength);
        f.setByte(20, 58);
        f.setByte(21, 255);
        f.setBytes(22, src);
        byte[] group = ip("ff02::1:ff00:0");
        group[13] = target[13];
        group[14] = target[14];
        group[15] = target[15];
        f.setBytes(38, group);
        int icmp = 54;
        f.setByte(icmp, 135);
        f.setBytes(icmp + 8, target);
        f.setByte(icmp + 24, 1);
        f.setByte(icmp + 25, 1);
        EthernetFrame.writeMac(f, icmp + 26, srcMac);
        long sum = Segmenter.pseudoHeaderSum(f, 14, false, 58, icmpLength);
        f.setShort(icmp + 2, ~Segmenter.fold(Segmenter.sum(f, icmp, icmpLength, sum)) & 0xFFFF);
        return f;
    }

    /** A DNS query message: id 0x1234, RD, one question, optionally an EDNS OPT record. */
    static byte[] query(String name, int type, boolean edns) {
        ByteBuf m = Unpooled.buffer();
        m.writeShort(0x1234).writeShort(0x0100).writeShort(1).writeShort(0).writeShort(0).writeShort(edns ? 1 : 0);
        if (!name.isEmpty()) {
            for (String label : name.split("\\.")) {
                m.writeByte(label.length()).writeBytes(label.getBytes(StandardCharsets.US_ASCII));
            }
        }
        m.writeByte(0).writeShort(type).writeShort(1);
        if (edns) {
            m.writeByte(0).writeShort(41).writeShort(4096).writeInt(0).writeShort(0);
        }
        byte[] bytes = new byte[m.readableBytes()];
        m.readBytes(bytes);
        return bytes;
    }

    /** The message in a UDP datagram from {@code srcIp}:40000 to {@code dstIp}:53, in a frame to {@code dstMac}. */
    static ByteBuf udp(long srcMac, long dstMac, byte[] srcIp, byte[] dstIp, int dstPort, byte[] message) {
        boolean v6 = srcIp.length == 16;
        int ipLength = v6 ? 40 : 20;
        int length = 14 + ipLength + 8 + message.length;
        ByteBuf f = Unpooled.directBuffer(length).writeZero(length);
        EthernetFrame.writeMac(f, 0, dstMac);
        EthernetFrame.writeMac(f, 6, srcMac);
        int ip = 14;
        if (v6) {
            f.setShort(12, 0x86DD);
            f.setInt(ip, 0x6000_0000);
            f.setShort(ip + 4, 8 + message.length);
            f.setByte(ip + 6, 17);
            f.setByte(ip + 7, 64);
            f.setBytes(ip + 8, srcIp);
            f.setBytes(ip + 24, dstIp);
        } else {
            f.setShort(12, 0x0800);
            f.setByte(ip, 0x45);
            f.setShort(ip + 2, 20 + 8 + message.length);
            f.setByte(ip + 8, 64);
            f.setByte(ip + 9, 17);
            f.setBytes(ip + 12, srcIp);
            f.setBytes(ip + 16, dstIp);
        }
        int udp = ip + ipLength;
        f.setShort(udp, 40000);
        f.setShort(udp + 2, dstPort);
        f.setShort(udp + 4, 8 + message.length);
        f.setBytes(udp + 8, message);
        return f;
    }

    /** What an answer says: rcode, flags, and each record's type and address. */
    record Answer(int id, int flags, int rcode, int questions, List<String> records, int additional) {
    }

    static Answer decode(ByteBuf frame) throws Exception {
        boolean v6 = frame.getUnsignedShort(12) == 0x86DD;
        int udp = 14 + (v6 ? 40 : 20);
        assertEquals(53, frame.getUnsignedShort(udp), "from port 53");
        assertEquals(40000, frame.getUnsignedShort(udp + 2), "to the client's port");
        int udpLength = frame.getUnsignedShort(udp + 4);
        assertEquals(frame.readableBytes() - udp, udpLength);
        long pseudo = Segmenter.pseudoHeaderSum(frame, 14, !v6, 17, udpLength);
        assertEquals(0xFFFF, Segmenter.fold(Segmenter.sum(frame, udp, udpLength, pseudo)), "UDP checksum");
        if (!v6) {
            assertEquals(0xFFFF, Segmenter.fold(Segmenter.sum(frame, 14, 20, 0)), "IPv4 header checksum");
        }
        int m = udp + 8;
        int qd = frame.getUnsignedShort(m + 4);
        int an = frame.getUnsignedShort(m + 6);
        int p = m + 12;
        for (int i = 0; i < qd; i++) {
            while (frame.getUnsignedByte(p) != 0) {
                p += 1 + frame.getUnsignedByte(p);
            }
            p += 5;
        }
        List<String> records = new ArrayList<>();
        for (int i = 0; i < an; i++) {
            assertEquals(0xC00C, frame.getUnsignedShort(p), "the name points at the question");
            int type = frame.getUnsignedShort(p + 2);
            int rdLength = frame.getUnsignedShort(p + 10);
            byte[] rd = new byte[rdLength];
            frame.getBytes(p + 12, rd);
            records.add((type == 1 ? "A " : type == 28 ? "AAAA " : type + " ") + InetAddress.getByAddress(rd).getHostAddress());
            p += 12 + rdLength;
        }
        int flags = frame.getUnsignedShort(m + 2);
        return new Answer(frame.getUnsignedShort(m), flags, flags & 0xF, qd, records, frame.getUnsignedShort(m + 10));
    }

    private Answer ask(ChannelPort from, long srcMac, byte[] srcIp, byte[] dstIp, byte[] message) throws Exception {
        send(from, udp(srcMac, GW, srcIp, dstIp, 53, message));
        ByteBuf reply = from.poll();
        assertNotNull(reply, "an answer on the asking port");
        try {
            assertEquals(srcMac, EthernetFrame.destination(reply));
            assertEquals(GW, EthernetFrame.source(reply), "from the gateway's MAC");
            return decode(reply);
        } finally {
            reply.release();
            assertEquals(0, pb.pending() + pc.pending(), "nobody else sees the query");
        }
    }

    // ------------------------------------------------------------ ARP

    @Test
    void anArpRequestForAKnownAddressIsAnsweredOnItsPortAndFloodsNowhere() {
        send(pa, arp(A, 1, A, IP_A, IP_B));
        ByteBuf reply = pa.poll();
        assertNotNull(reply);
        assertEquals(A, EthernetFrame.destination(reply));
        assertEquals(B, EthernetFrame.source(reply));
        assertEquals(0x0806, reply.getUnsignedShort(12));
        assertEquals(2, reply.getUnsignedShort(20), "a reply");
        assertEquals(B, EthernetFrame.mac(reply, 22), "sender: B's MAC");
        byte[] spa = new byte[4];
        reply.getBytes(28, spa);
        assertArrayEquals(IP_B, spa);
        assertEquals(A, EthernetFrame.mac(reply, 32));
        byte[] tpa = new byte[4];
        reply.getBytes(38, tpa);
        assertArrayEquals(IP_A, tpa);
        assertEquals(60, reply.readableBytes());
        reply.release();
        assertEquals(0, count(pb) + count(pc), "no other port sees it");
        assertEquals(1, net.count(NetworkCounter.ARP_ANSWERED));
        assertEquals(0, net.count(NetworkCounter.FLOODED));
    }

    @Test
    void theGatewayAddressIsAnsweredWithTheGatewaysMac() {
        send(pa, arp(A, 1, A, IP_A, IP_GW));
        ByteBuf reply = pa.poll();
        assertEquals(GW, EthernetFrame.mac(reply, 22));
        reply.release();
    }

    @Test
    void unknownAddressesProbesAnnouncementsAndOnesOwnAddressFloodAsBefore() {
        send(pa, arp(A, 1, A, IP_A, ip("198.18.80.77")));
        send(pa, arp(A, 1, A, new byte[4], IP_B));
        send(pa, arp(A, 1, A, IP_B, IP_B));
        send(pb, arp(B, 1, B, IP_A, IP_B));
        send(pa, arp(A, 2, A, IP_A, IP_B));
        assertEquals(0, net.count(NetworkCounter.ARP_ANSWERED));
        assertEquals(5, net.count(NetworkCounter.FLOODED));
        count(pa);
        count(pb);
        count(pc);
    }

    @Test
    void anIsolatedPortIsAnsweredOnlyForTheGateway() {
        pa.setIsolated(true);
        send(pa, arp(A, 1, A, IP_A, IP_B));
        send(pa, arp(A, 1, A, IP_A, IP_GW));
        assertEquals(1, net.count(NetworkCounter.ARP_ANSWERED));
        count(pa);
        count(pb);
        count(pc);
    }

    @Test
    void malformedArpIsDroppedAndCountedOnEveryNetwork() {
        net.setDirectory(Directory.EMPTY);
        ByteBuf shortArp = Frames.frame(MacAddress.BROADCAST, A, 0x0806, 30);
        send(pa, shortArp);
        ByteBuf wrongHardware = arp(A, 1, A, IP_A, IP_B);
        wrongHardware.setShort(14, 6);
        send(pa, wrongHardware);
        ByteBuf wrongLength = arp(A, 1, A, IP_A, IP_B);
        wrongLength.setByte(19, 16);
        send(pa, wrongLength);
        ByteBuf wrongOp = arp(A, 9, A, IP_A, IP_B);
        send(pa, wrongOp);
        assertEquals(4, pa.counters().get(PortCounter.dropIndex(DropReason.ARP_MALFORMED)));
        assertEquals(0, count(pb) + count(pc));
        send(pa, arp(A, 1, A, IP_A, IP_B));
        assertEquals(2, count(pb) + count(pc), "a good one floods: this network knows nothing");
    }

    // ------------------------------------------------------------ IPv6

    @Test
    void aNeighbourSolicitationForAKnownAddressGetsAnAdvertisementWithAValidChecksum() {
        send(pa, solicit(A, IP6_A, IP6_B));
        ByteBuf na = pa.poll();
        assertNotNull(na);
        try {
            assertEquals(A, EthernetFrame.destination(na));
            assertEquals(B, EthernetFrame.source(na));
            assertEquals(58, na.getUnsignedByte(20));
            assertEquals(255, na.getUnsignedByte(21));
            int icmp = 54;
            assertEquals(136, na.getUnsignedByte(icmp));
            assertEquals(0x6000_0000, na.getInt(icmp + 4), "solicited, override, not a router");
            byte[] target = new byte[16];
            na.getBytes(icmp + 8, target);
            assertArrayEquals(IP6_B, target);
            assertEquals(2, na.getUnsignedByte(icmp + 24), "target link-layer address option");
            assertEquals(B, EthernetFrame.mac(na, icmp + 26));
            long sum = Segmenter.pseudoHeaderSum(na, 14, false, 58, 32);
            assertEquals(0xFFFF, Segmenter.fold(Segmenter.sum(na, icmp, 32, sum)), "ICMPv6 checksum");
        } finally {
            na.release();
        }
        assertEquals(0, count(pb) + count(pc));
        assertEquals(1, net.count(NetworkCounter.ND_ANSWERED));
    }

    @Test
    void duplicateAddressDetectionIsNeverAnswered() {
        send(pa, solicit(A, new byte[16], IP6_B));
        assertEquals(0, net.count(NetworkCounter.ND_ANSWERED));
        assertEquals(0, count(pa));
        assertEquals(2, count(pb) + count(pc));
    }

    // ------------------------------------------------------------ DNS

    @Test
    void aQueryForAnEndpointsNameIsAnsweredWithItsAddressesFromTheGateway() throws Exception {
        Answer a = ask(pa, A, IP_A, IP_GW, query("web", 1, false));
        assertEquals(0x1234, a.id());
        assertEquals(0, a.rcode());
        assertTrue((a.flags() & 0x8000) != 0 && (a.flags() & 0x0400) != 0, "a response, authoritative");
        assertTrue((a.flags() & 0x0100) != 0 && (a.flags() & 0x0080) != 0, "RD echoed, RA with an upstream");
        assertEquals(List.of("A 198.18.80.3"), a.records());
        assertEquals(List.of("AAAA fd00:80:0:0:0:0:0:3"), ask(pa, A, IP_A, IP_GW, query("WEB", 28, false)).records());
        assertEquals(List.of("A 198.18.80.3"), ask(pa, A, IP_A, IP_GW, query("alias-b.apps", 1, false)).records(),
                "any case, and under the network's name");
        assertEquals(List.of("A 198.18.80.3", "AAAA fd00:80:0:0:0:0:0:3"), ask(pa, A, IP_A, IP_GW, query("web", 255, false)).records());
        Answer overIpv6 = ask(pa, A, IP6_A, IP6_GW, query("db", 1, true));
        assertEquals(List.of("A 198.18.80.2"), overIpv6.records());
        assertEquals(1, overIpv6.additional(), "EDNS asked, EDNS answered");
        assertEquals(5, net.count(NetworkCounter.DNS_ANSWERED));
        assertTrue(forwarded.isEmpty());
    }

    @Test
    void aKnownNameWithoutThatTypeIsNoDataAndUnknownNamesUnderTheNetworksNameGoUpstream() throws Exception {
        Answer noData = ask(pa, A, IP_A, IP_GW, query("db", 28, false));
        assertEquals(0, noData.rcode());
        assertTrue(noData.records().isEmpty());
        Answer mx = ask(pa, A, IP_A, IP_GW, query("db", 15, false));
        assertEquals(0, mx.rcode());
        assertTrue(mx.records().isEmpty());
        assertTrue(forwarded.isEmpty());
        send(pa, udp(A, GW, IP_A, IP_GW, 53, query("nobody.apps", 1, false)));
        assertEquals(1, forwarded.size(), "a network's name may be a real domain (dev, io): the resolvers decide");
        assertEquals(0, count(pa));
    }

    @Test
    void otherNamesGoUpstreamWithEverythingNeededToAnswerLater() throws Exception {
        send(pa, udp(A, GW, IP_A, IP_GW, 53, query("example.org", 1, false)));
        assertEquals(0, count(pa) + count(pb) + count(pc), "nothing sent yet");
        assertEquals(1, forwarded.size());
        DnsQuery q = forwarded.get(0);
        assertArrayEquals(query("example.org", 1, false), q.message());
        assertEquals(1, q.lane());
        assertEquals(pa, q.port());
        // The upstream's answer, as it would come back.
        byte[] answer = query("example.org", 1, false);
        answer[2] = (byte) 0x81;
        answer[3] = (byte) 0x80;
        ByteBuf frame = q.frame(io.netty.buffer.PooledByteBufAllocator.DEFAULT, answer, answer.length);
        try {
            assertEquals(A, EthernetFrame.destination(frame));
            Answer a = decode(frame.slice());
            assertEquals(0x1234, a.id());
            assertEquals(0x8180, a.flags());
        } finally {
            frame.release();
        }
        assertEquals(1, net.count(NetworkCounter.DNS_FORWARDED));
    }

    @Test
    void withoutAnUpstreamOtherNamesAreRefusedAtOnce() throws Exception {
        directory(false, false);
        Answer a = ask(pa, A, IP_A, IP_GW, query("example.org", 1, false));
        assertEquals(5, a.rcode(), "REFUSED");
        assertEquals(1, net.count(NetworkCounter.DNS_REFUSED));
    }

    @Test
    void anUpstreamAnswerTooLongForTheMtuGoesAsItsQuestionWithTruncationSet() throws Exception {
        send(pa, udp(A, GW, IP_A, IP_GW, 53, query("big.example.org", 16, false)));
        DnsQuery q = forwarded.get(0);
        byte[] question = query("big.example.org", 16, false);
        byte[] huge = java.util.Arrays.copyOf(question, 3000);
        huge[2] = (byte) 0x81;
        huge[7] = 9; // ancount: records follow, too many to fit
        ByteBuf frame = q.frame(io.netty.buffer.PooledByteBufAllocator.DEFAULT, huge, huge.length);
        try {
            assertTrue(frame.readableBytes() <= 1514);
            Answer a = decode(frame.slice());
            assertTrue((a.flags() & 0x0200) != 0, "TC");
            assertEquals(1, a.questions());
            assertTrue(a.records().isEmpty());
        } finally {
            frame.release();
        }
    }

    @Test
    void malformedQueriesAreDroppedAndCountedAndNothingIsAnswered() {
        List<byte[]> bad = new ArrayList<>();
        bad.add(new byte[5]);
        byte[] response = query("web", 1, false);
        response[2] |= (byte) 0x80;
        bad.add(response);
        byte[] twoQuestions = query("web", 1, false);
        twoQuestions[5] = 2;
        bad.add(twoQuestions);
        byte[] hugeCounts = query("web", 1, false);
        hugeCounts[6] = (byte) 0xFF;
        hugeCounts[7] = (byte) 0xFF;
        bad.add(hugeCounts);
        byte[] pointerLoop = query("web", 1, false);
        pointerLoop[12] = (byte) 0xC0;
        pointerLoop[13] = 12;
        bad.add(pointerLoop);
        byte[] longLabel = query("web", 1, false);
        longLabel[12] = 64;
        bad.add(longLabel);
        bad.add(java.util.Arrays.copyOf(query("web", 1, false), 15));
        byte[] badOpt = query("web", 1, true);
        badOpt[badOpt.length - 9] = 5; // OPT's type is not 41
        bad.add(badOpt);
        bad.add(query("a".repeat(63) + "." + "b".repeat(63) + "." + "c".repeat(63) + "." + "d".repeat(63), 1, false));
        for (byte[] m : bad) {
            send(pa, udp(A, GW, IP_A, IP_GW, 53, m));
        }
        ByteBuf lyingUdpLength = udp(A, GW, IP_A, IP_GW, 53, query("web", 1, false));
        lyingUdpLength.setShort(14 + 20 + 4, 2000);
        send(pa, lyingUdpLength);
        assertEquals(bad.size() + 1, pa.counters().get(PortCounter.dropIndex(DropReason.DNS_MALFORMED)));
        assertEquals(0, count(pa) + count(pb) + count(pc));
        assertTrue(forwarded.isEmpty());
    }

    @Test
    void otherTrafficToTheGatewayIsForwardedToItsPortOrDroppedWithoutOne() {
        directory(true, true);
        ByteBuf toGatewayPort = udp(A, GW, IP_A, IP_GW, 80, new byte[20]);
        send(pa, toGatewayPort);
        assertEquals(2, count(pb) + count(pc), "unknown unicast to the gateway port floods like any other");
        directory(false, true);
        send(pa, udp(A, GW, IP_A, IP_GW, 80, new byte[20]));
        assertEquals(1, pa.counters().get(PortCounter.dropIndex(DropReason.NO_GATEWAY)));
        send(pa, udp(A, B, IP_A, IP_B, 53, query("web", 1, false)));
        assertEquals(2, count(pb) + count(pc), "DNS to another container's address is its business");
        assertEquals(0, count(pa));
    }

    @Test
    void aNetworkWithoutDnsForwardsQueriesToTheGatewayPort() {
        net.setDirectory(Directory.builder().gateway(GW, true, IP_GW, null).neighbor(IP_A, A).build());
        send(pa, udp(A, GW, IP_A, IP_GW, 53, query("web", 1, false)));
        assertEquals(2, count(pb) + count(pc));
        assertEquals(0, count(pa));
    }

    @Test
    void anAddressGivenToAnotherMacIsAnnouncedToEveryOtherPort() {
        long newMac = Frames.mac(0x77);
        Announcer.announce(net, pb, newMac, IP_B, 1).release();
        assertEquals(0, pb.pending(), "not to its own port");
        for (ChannelPort p : new ChannelPort[] {pa, pc}) {
            ByteBuf garp = p.poll();
            assertNotNull(garp);
            assertEquals(MacAddress.BROADCAST, EthernetFrame.destination(garp));
            assertEquals(newMac, EthernetFrame.source(garp));
            assertEquals(1, garp.getUnsignedShort(20), "a request for its own address");
            byte[] spa = new byte[4];
            byte[] tpa = new byte[4];
            garp.getBytes(28, spa);
            garp.getBytes(38, tpa);
            assertArrayEquals(IP_B, spa);
            assertArrayEquals(IP_B, tpa);
            garp.release();
        }
        Announcer.announce(net, pb, newMac, IP6_B, 1).release();
        ByteBuf na = pa.poll();
        try {
            assertEquals(0x3333_0000_0001L, EthernetFrame.destination(na));
            assertEquals(136, na.getUnsignedByte(54));
            assertEquals(0x2000_0000, na.getInt(58), "override, unsolicited");
            long sum = Segmenter.pseudoHeaderSum(na, 14, false, 58, 32);
            assertEquals(0xFFFF, Segmenter.fold(Segmenter.sum(na, 54, 32, sum)), "ICMPv6 checksum");
        } finally {
            na.release();
        }
        pc.clear();
    }

    @Test
    void theAnswersOfOneBatchNeverShareMemoryForAPortThatOnlyQueuesThem() {
        // A tunnel port keeps only a frame's address until the batch is flushed.
        List<Long> addresses = new ArrayList<>();
        List<ByteBuf> queued = new ArrayList<>();
        Port queueing = new Port("tunnel", 2) {
            @Override
            public void transmit(ByteBuf frame, int lane) {
                addresses.add(frame.memoryAddress() + frame.readerIndex());
                queued.add(frame);
            }

            @Override
            public String kind() {
                return "queueing";
            }
        };
        net.addPort(queueing);
        ByteBuf[] batch = {arp(C, 1, C, ip("198.18.80.9"), IP_A), arp(C, 1, C, ip("198.18.80.9"), IP_B),
                solicit(C, ip("fd00:80::9"), IP6_A)};
        pipeline.process(queueing, batch, batch.length, NOW);
        assertEquals(3, addresses.size());
        assertEquals(3, new java.util.HashSet<>(addresses).size(), "three replies, three buffers");
        assertEquals(A, EthernetFrame.mac(queued.get(0), queued.get(0).readerIndex() + 22), "the first reply is still A's after the batch");
        assertEquals(B, EthernetFrame.mac(queued.get(1), queued.get(1).readerIndex() + 22));
        for (ByteBuf f : batch) {
            f.release();
        }
    }

    @Test
    void theNameTableIgnoresWhatCannotBeADnsName() {
        assertNull(NameTable.normal(""));
        assertNull(NameTable.normal("a..b"));
        assertNull(NameTable.normal("x".repeat(64)));
        assertNull(NameTable.normal("bad name"));
        assertEquals("web.apps", NameTable.normal("Web.Apps."));
        Directory d = Directory.builder().name("bad name", IP_A).name("ok", IP_A).name("ok", IP_B).build();
        assertEquals(1, d.names().size());
        assertEquals(2, d.names().ipv4("OK").length);
        assertFalse(d.isActive(), "names alone answer nothing without DNS on and a gateway");
    }
}
