package io.vswitch.capture;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.ChannelPort;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.MacAddress;
import io.vswitch.core.NetworkSettings;
import io.vswitch.core.Pipeline;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Captures through the pipeline with in-memory ports, read back by tcpdump itself. */
class CaptureTest {
    private static final long A = 0x0200_0000_000AL;
    private static final long B = 0x0200_0000_000BL;
    private static final long NOW = 9_000_000_000_000L;

    private BridgeDomain net;
    private ChannelPort p1;
    private ChannelPort p2;
    private ChannelPort p3;
    private Pipeline pipeline;
    private final Captures captures = new Captures();

    @BeforeEach
    void setUp() {
        net = new BridgeDomain(1, NetworkSettings.defaults("cap"), 2);
        p1 = new ChannelPort("p1", 2);
        p2 = new ChannelPort("p2", 2);
        p3 = new ChannelPort("p3", 2);
        net.addPort(p1);
        net.addPort(p2);
        net.addPort(p3);
        pipeline = new Pipeline(1, 64);
    }

    @AfterEach
    void tearDown() {
        captures.close();
        for (ChannelPort p : new ChannelPort[] {p1, p2, p3}) {
            p.clear();
        }
    }

    /** An IPv4 frame: ICMP (protocol 1) or UDP (17) to port {@code dport}. */
    private static ByteBuf ipv4(long dst, long src, int protocol, int dport) {
        ByteBuf f = Unpooled.directBuffer(64);
        f.writeZero(64);
        EthernetFrame.writeMac(f, 0, dst);
        EthernetFrame.writeMac(f, 6, src);
        f.setShort(12, 0x0800);
        f.setByte(14, 0x45);
        f.setShort(16, 50);
        f.setByte(22, 64);
        f.setByte(23, protocol);
        f.setInt(26, 0xC6120001);
        f.setInt(30, 0xC6120002);
        f.setShort(36, dport);
        return f;
    }

    private void send(ChannelPort in, ByteBuf f) {
        pipeline.process(in, new ByteBuf[] {f}, 1, NOW);
        f.release();
    }

    private static List<String> tcpdump(Path file) throws Exception {
        Process p = new ProcessBuilder("tcpdump", "-n", "-e", "-r", file.toString()).redirectErrorStream(false).start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.exitValue(), new String(p.getErrorStream().readAllBytes()));
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    private static boolean hasTcpdump() {
        return Files.isExecutable(Path.of("/usr/bin/tcpdump")) || Files.isExecutable(Path.of("/usr/sbin/tcpdump"));
    }

    @Test
    void aPortsCaptureHoldsExactlyItsFramesBothWaysAsTcpdumpReadsThem(@TempDir Path dir) throws Exception {
        assumeTrue(hasTcpdump(), "needs tcpdump");
        Path file = dir.resolve("p1.pcap");
        CaptureSession s = captures.start(net, "p1", "icmp", 4, file);
        send(p2, ipv4(A, B, 17, 53)); // UDP: filtered out
        send(p1, ipv4(B, A, 1, 0));   // in on p1
        send(p2, ipv4(A, B, 1, 0));   // sent to p1 (A was learned there)
        send(p3, ipv4(B, Frames.C, 1, 0)); // neither
        send(p1, ipv4(MacAddress.BROADCAST, A, 1, 0)); // in on p1
        send(p3, ipv4(MacAddress.BROADCAST, Frames.C, 1, 0)); // flooded, so sent to p1
        send(p1, ipv4(B, A, 1, 0)); // a fifth: past the count
        assertTrue(s.await(5000), "ends by itself at its count");
        assertEquals("count reached", s.endedBecause());
        List<String> lines = tcpdump(file);
        assertEquals(4, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).contains("02:00:00:00:00:0a > 02:00:00:00:00:0b"), lines.get(0));
        assertTrue(lines.get(1).contains("02:00:00:00:00:0b > 02:00:00:00:00:0a"), lines.get(1));
        assertTrue(lines.stream().allMatch(l -> l.contains("ICMP")), String.join("\n", lines));
        assertNull(net.taps(), "a capture that ended costs the data path nothing");
    }

    @Test
    void withoutAPortEveryFrameTheNetworkReceivesOnce(@TempDir Path dir) throws Exception {
        assumeTrue(hasTcpdump(), "needs tcpdump");
        Path file = dir.resolve("all.pcap");
        CaptureSession s = captures.start(net, null, null, 3, file);
        send(p1, ipv4(MacAddress.BROADCAST, A, 1, 0));
        send(p2, ipv4(A, B, 1, 0));
        send(p3, ipv4(B, Frames.C, 17, 53));
        assertTrue(s.await(5000));
        assertEquals(3, tcpdump(file).size());
    }

    @Test
    void aReaderThatIsTooSlowLosesFramesNotTheSwitch(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("slow.fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        CaptureSession s = captures.start(net, null, null, 0, fifo);
        // Nobody reads the FIFO: the writer waits in open(); the data path never does.
        long t0 = System.nanoTime();
        for (int i = 0; i < CaptureSession.QUEUE + 1000; i++) {
            send(p1, ipv4(B, A, 1, 0));
        }
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30));
        assertEquals(1000, s.lost());
        assertTrue(captures.stop(s.id()));
        assertTrue(s.await(5000), "a stopped capture ends even though its FIFO never had a reader");
    }

    @Test
    void refusals() throws Exception {
        Path existing = Files.createTempFile("cap", ".pcap");
        try {
            assertThrows(IllegalArgumentException.class, () -> captures.start(net, null, null, 0, existing),
                    "never overwrites a file");
            assertThrows(IllegalArgumentException.class, () -> captures.start(net, null, null, 0, Path.of("rel.pcap")));
            assertThrows(IllegalArgumentException.class, () -> captures.start(net, null, null, -1,
                    existing.resolveSibling("x.pcap")));
            if (hasTcpdump()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> captures.start(net, null, "icmpp or", 0, existing.resolveSibling("y.pcap")));
                assertTrue(e.getMessage().contains("tcpdump cannot compile"), e.getMessage());
            }
            assertFalse(Files.exists(existing.resolveSibling("y.pcap")));
        } finally {
            Files.delete(existing);
        }
    }

    /** MACs of the test. */
    static final class Frames {
        static final long C = 0x0200_0000_000CL;
    }
}
