package io.vswitch.resolver;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.ChannelPort;
import io.vswitch.core.Directory;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.NetworkCounter;
import io.vswitch.core.NetworkSettings;
import io.vswitch.core.Pipeline;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The forwarder against resolvers on loopback: a real UDP server that answers, one that keeps
 * silent, a port nobody listens on, one that forges. Queries come in through a real pipeline.
 */
class UpstreamResolverTest {
    private static final long CLIENT = 0x02_00_00_00_00_0AL;
    private static final long GATEWAY = 0x02_00_00_00_00_99L;
    private static final byte[] CLIENT_IP = {(byte) 198, 18, 81, 2};
    private static final byte[] GATEWAY_IP = {(byte) 198, 18, 81, 1};

    private final List<AutoCloseable> open = new ArrayList<>();
    private final BridgeDomain net = new BridgeDomain(1, new NetworkSettings("apps", 1500, Duration.ofSeconds(300), 8192), 1);
    private final ChannelPort client = new ChannelPort("client", 1);
    private final ChannelPort other = new ChannelPort("other", 1);
    private final Pipeline pipeline = new Pipeline(0, 8);

    UpstreamResolverTest() {
        net.addPort(client);
        net.addPort(other);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        client.clear();
        other.clear();
        pipeline.release();
    }

    private UpstreamResolver resolver(Duration attempt, InetSocketAddress... servers) throws Exception {
        return resolver(attempt, 0, 0, servers);
    }

    private UpstreamResolver resolver(Duration attempt, int pendingPerPort, int perSecondPerPort, InetSocketAddress... servers)
            throws Exception {
        UpstreamResolver r = UpstreamResolver.start(List.of(servers), (lane, write, done) -> {
            write.run();
            done.run();
        }, attempt, pendingPerPort, perSecondPerPort);
        open.add(r);
        net.setDirectory(Directory.builder().gateway(GATEWAY, false, GATEWAY_IP, null).dns("apps", r).build());
        return r;
    }

    /** A resolver on 127.0.0.1 that answers every question with 198.18.81.77, after {@code forgeries} forged datagrams. */
    private InetSocketAddress server(boolean answer, int forgeries, AtomicInteger seen) throws Exception {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        open.add(s);
        Thread.ofPlatform().daemon().start(() -> {
            byte[] buf = new byte[2048];
            while (!s.isClosed()) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    s.receive(p);
                } catch (java.io.IOException e) {
                    return;
                }
                seen.incrementAndGet();
                if (!answer) {
                    continue;
                }
                byte[] q = java.util.Arrays.copyOf(p.getData(), p.getLength());
                try {
                    for (int i = 0; i < forgeries; i++) {
                        byte[] forged = reply(q);
                        forged[1] ^= 0x55; // another id
                        s.send(new DatagramPacket(forged, forged.length, p.getSocketAddress()));
                        byte[] otherQuestion = reply(q);
                        otherQuestion[13] ^= 0x01; // another name
                        s.send(new DatagramPacket(otherQuestion, otherQuestion.length, p.getSocketAddress()));
                    }
                    byte[] r = reply(q);
                    s.send(new DatagramPacket(r, r.length, p.getSocketAddress()));
                } catch (java.io.IOException e) {
                    return;
                }
            }
        });
        return (InetSocketAddress) s.getLocalSocketAddress();
    }

    /** The question back with one A record, 198.18.81.77. */
    static byte[] reply(byte[] q) {
        ByteBuf b = Unpooled.buffer();
        b.writeBytes(q, 0, q.length);
        b.setShort(2, 0x8180);
        b.setShort(6, 1);
        b.setShort(10, 0);
        b.writerIndex(questionEnd(q));
        b.writeShort(0xC00C).writeShort(1).writeShort(1).writeInt(60).writeShort(4).writeBytes(new byte[] {(byte) 198, 18, 81, 77});
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        return out;
    }

    static int questionEnd(byte[] q) {
        int p = 12;
        while (q[p] != 0) {
            p += 1 + q[p];
        }
        return p + 5;
    }

    static byte[] query(String name) {
        ByteBuf m = Unpooled.buffer();
        m.writeShort(0x1234).writeShort(0x0100).writeShort(1).writeShort(0).writeShort(0).writeShort(0);
        for (String label : name.split("\\.")) {
            m.writeByte(label.length()).writeBytes(label.getBytes(StandardCharsets.US_ASCII));
        }
        m.writeByte(0).writeShort(1).writeShort(1);
        byte[] out = new byte[m.readableBytes()];
        m.readBytes(out);
        return out;
    }

    private void ask(String name) {
        ask(client, CLIENT, CLIENT_IP, name);
    }

    private void ask(ChannelPort from, long mac, byte[] ip, String name) {
        byte[] message = query(name);
        int length = 14 + 20 + 8 + message.length;
        ByteBuf f = Unpooled.directBuffer(length).writeZero(length);
        EthernetFrame.writeMac(f, 0, GATEWAY);
        EthernetFrame.writeMac(f, 6, mac);
        f.setShort(12, 0x0800);
        f.setByte(14, 0x45);
        f.setShort(16, 20 + 8 + message.length);
        f.setByte(22, 64);
        f.setByte(23, 17);
        f.setBytes(26, ip);
        f.setBytes(30, GATEWAY_IP);
        f.setShort(34, 40000);
        f.setShort(36, 53);
        f.setShort(38, 8 + message.length);
        f.setBytes(42, message);
        pipeline.process(from, new ByteBuf[] {f}, 1, 5_000_000_000_000L);
        f.release();
    }

    /** The DNS message of the next frame sent to the client, waiting for it up to 10 s. */
    private byte[] answer() throws InterruptedException {
        return answer(client, CLIENT);
    }

    private static byte[] answer(ChannelPort to, long mac) throws InterruptedException {
        for (int i = 0; i < 1000; i++) {
            ByteBuf f = to.poll();
            if (f != null) {
                try {
                    assertEquals(mac, EthernetFrame.destination(f));
                    assertEquals(GATEWAY, EthernetFrame.source(f));
                    byte[] m = new byte[f.getUnsignedShort(38) - 8];
                    f.getBytes(42, m);
                    return m;
                } finally {
                    f.release();
                }
            }
            Thread.sleep(10);
        }
        return null;
    }

    private static int rcode(byte[] m) {
        return m[3] & 0xF;
    }

    @Test
    void anAnswerComesBackWithTheContainersIdFromTheGateway() throws Exception {
        AtomicInteger seen = new AtomicInteger();
        resolver(Duration.ofSeconds(30), server(true, 0, seen));
        ask("example.org");
        byte[] m = answer();
        assertNotNull(m);
        assertEquals(0x1234, ((m[0] & 0xFF) << 8) | (m[1] & 0xFF), "the container's own id");
        assertEquals(0, rcode(m));
        assertEquals(1, m[7], "the resolver's record");
        assertEquals(1, seen.get());
        assertEquals(1, net.count(NetworkCounter.DNS_FORWARDED));
        assertEquals(1, net.count(NetworkCounter.DNS_ANSWERED));
        assertEquals(0, other.pending(), "nobody else sees it");
    }

    @Test
    void forgedAndStrayDatagramsAreNotPassedOn() throws Exception {
        AtomicInteger seen = new AtomicInteger();
        resolver(Duration.ofSeconds(30), server(true, 3, seen));
        ask("example.org");
        byte[] m = answer();
        assertNotNull(m);
        assertEquals(0, rcode(m));
        Thread.sleep(200);
        assertEquals(0, client.pending(), "one answer only");
    }

    @Test
    void aResolverNobodyListensOnIsRefusedByItsIcmpNotByATimeout() throws Exception {
        DatagramSocket closed = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        InetSocketAddress nobody = (InetSocketAddress) closed.getLocalSocketAddress();
        closed.close();
        // Each attempt may take 30 s: an answer within the 10 s answer() waits can only come from the ICMP.
        resolver(Duration.ofSeconds(30), nobody);
        ask("example.org");
        byte[] m = answer();
        assertNotNull(m, "REFUSED at once");
        assertEquals(5, rcode(m));
        assertEquals(1, net.count(NetworkCounter.DNS_REFUSED));
    }

    @Test
    void theNextResolverIsAskedWhenTheFirstCannotBeReached() throws Exception {
        DatagramSocket closed = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        InetSocketAddress nobody = (InetSocketAddress) closed.getLocalSocketAddress();
        closed.close();
        AtomicInteger seen = new AtomicInteger();
        resolver(Duration.ofSeconds(30), nobody, server(true, 0, seen));
        ask("example.org");
        byte[] m = answer();
        assertNotNull(m);
        assertEquals(0, rcode(m));
        assertEquals(1, seen.get());
    }

    @Test
    void aSilentResolverEndsInServfailAfterItsAttempt() throws Exception {
        AtomicInteger seen = new AtomicInteger();
        resolver(Duration.ofMillis(200), server(false, 0, seen));
        ask("example.org");
        byte[] m = answer();
        assertNotNull(m);
        assertEquals(2, rcode(m), "SERVFAIL");
        assertEquals(1, seen.get());
    }

    @Test
    void withoutResolversEveryOtherNameIsRefusedInTheDataPath() throws Exception {
        net.setDirectory(Directory.builder().gateway(GATEWAY, false, GATEWAY_IP, null).dns("apps", null).build());
        ask("example.org");
        byte[] m = answer();
        assertEquals(5, rcode(m));
        assertEquals(0, net.count(NetworkCounter.DNS_FORWARDED));
    }

    /** A resolver that records each question's source port and ID, and answers after {@code forger} (if any) forged one. */
    private InetSocketAddress recordingServer(List<int[]> seen, DatagramSocket forger, long answerAfterMs) throws Exception {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        open.add(s);
        Thread.ofPlatform().daemon().start(() -> {
            byte[] buf = new byte[2048];
            while (!s.isClosed()) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    s.receive(p);
                    byte[] q = java.util.Arrays.copyOf(p.getData(), p.getLength());
                    synchronized (seen) {
                        seen.add(new int[] {p.getPort(), ((q[0] & 0xFF) << 8) | (q[1] & 0xFF)});
                    }
                    if (forger != null) {
                        // Everything right but where it comes from: the ID, the question, the port it goes to.
                        byte[] forged = reply(q);
                        forged[forged.length - 1] = 66;
                        forger.send(new DatagramPacket(forged, forged.length, p.getSocketAddress()));
                    }
                    Thread.sleep(answerAfterMs);
                    byte[] r = reply(q);
                    s.send(new DatagramPacket(r, r.length, p.getSocketAddress()));
                } catch (java.io.IOException | InterruptedException e) {
                    return;
                }
            }
        });
        return (InetSocketAddress) s.getLocalSocketAddress();
    }

    @Test
    void eachQuestionGoesOutFromAFreshRandomPortUnderAFreshRandomId() throws Exception {
        List<int[]> seen = new ArrayList<>();
        resolver(Duration.ofSeconds(30), recordingServer(seen, null, 0));
        java.util.Set<Integer> ports = new java.util.HashSet<>();
        java.util.Set<Integer> ids = new java.util.HashSet<>();
        for (int i = 0; i < 20; i++) {
            ask("n" + i + ".example.org");
            assertEquals(0, rcode(answer()));
        }
        synchronized (seen) {
            for (int[] q : seen) {
                ports.add(q[0]);
                ids.add(q[1]);
            }
        }
        System.out.printf("forwarder: 20 questions went out from %d ports (%s) under %d IDs%n", ports.size(), ports, ids.size());
        // 20 draws from ~28,000 ports or 65,536 IDs collide twice with a chance below 1 in 10^4.
        assertTrue(ports.size() >= 19, "a fresh port per question: " + ports);
        assertTrue(ids.size() >= 19, "a fresh ID per question: " + ids);
        assertTrue(ports.stream().mapToInt(Integer::intValue).max().getAsInt()
                - ports.stream().mapToInt(Integer::intValue).min().getAsInt() > 1000, "spread, not sequential: " + ports);
    }

    @Test
    void aRightAnswerFromAnotherAddressOrPortIsNotPassedOn() throws Exception {
        for (String from : new String[] {"127.0.0.1", "127.0.0.2"}) {
            DatagramSocket forger = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(from), 0));
            open.add(forger);
            resolver(Duration.ofSeconds(30), recordingServer(new ArrayList<>(), forger, 300));
            ask("example.org");
            byte[] m = answer();
            assertNotNull(m);
            assertEquals(77, m[m.length - 1], "the resolver's record, not the one forged from " + from + ":" + forger.getLocalPort());
        }
    }

    @Test
    void aPortsQuestionsBeyondItsShareAreRefusedAndItsNeighboursAreStillForwarded() throws Exception {
        AtomicInteger seen = new AtomicInteger();
        UpstreamResolver r = resolver(Duration.ofSeconds(30), 4, 0, server(false, 0, seen));
        for (int i = 0; i < 10; i++) {
            ask("void" + i + ".example.org");
        }
        for (int i = 0; i < 6; i++) {
            assertEquals(5, rcode(answer()), "REFUSED at once, beyond the port's 4");
        }
        byte[] otherIp = {(byte) 198, 18, 81, 3};
        ask(other, 0x02_00_00_00_00_0BL, otherIp, "ok.example.org");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (seen.get() < 5 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(5, seen.get(), "four of the first port's questions and the neighbour's went out");
        assertEquals(0, other.pending(), "the neighbour's question is out, not refused");
        assertEquals(new UpstreamResolver.Refusals(6, 0, 0), r.refusals());
        assertEquals(5, r.inFlight());
    }

    @Test
    void aPortAskingFasterThanItsRateIsRefusedBeyondIt() throws Exception {
        AtomicInteger seen = new AtomicInteger();
        UpstreamResolver r = resolver(Duration.ofSeconds(30), 0, 5, server(false, 0, seen));
        for (int i = 0; i < 20; i++) {
            ask("void" + i + ".example.org");
        }
        int refused = 0;
        while (client.pending() > 0) {
            assertEquals(5, rcode(answer()));
            refused++;
        }
        // The test asks 20 within far less than the 200 ms that would earn a sixth.
        assertTrue(refused >= 14 && refused <= 15, "refused " + refused);
        assertEquals(refused, r.refusals().portRate());
    }

    @Test
    void resolvConfNameserversAndConfiguredAddressesAreReadAsLiterals(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path conf = dir.resolve("resolv.conf");
        Files.writeString(conf, "# comment\nsearch example\nnameserver 198.18.0.53\nnameserver fd00::53\n"
                + "nameserver not-an-address\nnameserver 198.18.0.54\nnameserver 198.18.0.55\n");
        List<InetSocketAddress> servers = ResolvConf.nameservers(conf);
        assertEquals(3, servers.size(), "three at most, names skipped: " + servers);
        assertEquals(53, servers.get(0).getPort());
        assertTrue(ResolvConf.nameservers(dir.resolve("missing")).isEmpty());
        assertEquals(5353, ResolvConf.parse("127.0.0.1:5353").getPort());
        assertEquals(5353, ResolvConf.parse("[fd00::53]:5353").getPort());
        assertEquals(53, ResolvConf.parse("fd00::53").getPort());
        assertThrows(IllegalArgumentException.class, () -> ResolvConf.parse("dns.example.org"));
        assertThrows(IllegalArgumentException.class, () -> ResolvConf.parse("198.18.0.1:99999"));
        assertNotEquals(null, ResolvConf.parse("198.18.0.1"));
    }
}
