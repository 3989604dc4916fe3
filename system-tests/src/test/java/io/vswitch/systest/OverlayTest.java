package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two hosts, each with its own vswitchd, joined by a veth underlay; blue (VNI 42) has two
 * containers on each host, green (VNI 43) one on each. All containers share one IPv4 subnet,
 * so a leak between VNIs would show up as a working ping.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OverlayTest {
    /** container port -> [host index, network, address] */
    private static final Map<String, String[]> CONTAINERS = new LinkedHashMap<>();

    static {
        CONTAINERS.put("ob11", new String[] {"1", "blue", "198.18.0.1"});
        CONTAINERS.put("ob12", new String[] {"1", "blue", "198.18.0.2"});
        CONTAINERS.put("ob21", new String[] {"2", "blue", "198.18.0.3"});
        CONTAINERS.put("ob22", new String[] {"2", "blue", "198.18.0.4"});
        CONTAINERS.put("og1", new String[] {"1", "green", "198.18.0.5"});
        CONTAINERS.put("og2", new String[] {"2", "green", "198.18.0.6"});
    }

    private Netns netns;
    private Underlay underlay;
    private Vswitchd d1;
    private Vswitchd d2;

    private String ns(String port) {
        return underlay.h1.replace("ovh1", "o-" + port);
    }

    private static String config(String local, String peer, String blue, String green) {
        return """
                dataplane:
                  threads: 2
                vxlan:
                  local: %s
                networks:
                  - name: blue
                    vni: 42
                    peers: [%s]
                    ports: [%s]
                  - name: green
                    vni: 43
                    peers: [%s]
                    ports: [%s]
                """.formatted(local, peer, blue, peer, green);
    }

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        underlay = new Underlay(netns, "ov");
        d1 = Vswitchd.start(underlay.h1, Vswitchd.writeConfig(config("198.19.0.1", "198.19.0.2", "ob11, ob12", "og1")));
        d2 = Vswitchd.start(underlay.h2, Vswitchd.writeConfig(config("198.19.0.2", "198.19.0.1", "ob21, ob22", "og2")));
        for (var c : CONTAINERS.entrySet()) {
            String host = c.getValue()[0].equals("1") ? underlay.h1 : underlay.h2;
            String container = netns.create("o-" + c.getKey());
            netns.plug(host, c.getKey(), container, c.getValue()[2] + "/24");
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (d1 != null) {
            d1.close();
        }
        if (d2 != null) {
            d2.close();
        }
        if (netns != null) {
            netns.close();
        }
    }

    private boolean ping(String from, String ip) {
        return netns.exec(20, ns(from), "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", ip).ok();
    }

    @Test
    void everyContainerPingsEveryOtherOfItsNetworkAcrossHosts() {
        for (var from : CONTAINERS.entrySet()) {
            for (var to : CONTAINERS.entrySet()) {
                if (from != to && from.getValue()[1].equals(to.getValue()[1])) {
                    assertTrue(ping(from.getKey(), to.getValue()[2]), from.getKey() + " -> " + to.getKey());
                }
            }
        }
    }

    @Test
    void aSecondVniOnTheSameHostsStaysIsolated() throws Exception {
        try (Capture blue = Capture.start(ns("ob21"), "ob21", "arp or icmp")) {
            assertFalse(netns.exec(20, ns("og1"), "ping", "-c", "2", "-i", "0.2", "-W", "1", "-q", "198.18.0.3").ok());
            assertFalse(netns.exec(20, ns("ob12"), "ping", "-c", "2", "-i", "0.2", "-W", "1", "-q", "198.18.0.6").ok());
            List<String> seen = blue.stop();
            assertTrue(seen.stream().noneMatch(l -> l.contains("tell 198.18.0.5") || l.contains("198.18.0.5 >")),
                    "green reached blue: " + seen);
        }
        assertTrue(ping("og1", "198.18.0.6"), "green itself works");
    }

    @Test
    void broadcastCrossesToEveryHost() throws Exception {
        try (Capture remote = Capture.start(ns("ob22"), "ob22", "ether broadcast and icmp");
             Capture local = Capture.start(ns("ob12"), "ob12", "ether broadcast and icmp");
             Capture green = Capture.start(ns("og2"), "og2", "ether broadcast")) {
            netns.exec(20, ns("ob11"), "ping", "-b", "-c", "3", "-i", "0.2", "-W", "1", "-q", "198.18.0.255");
            assertEquals(3, remote.stop().size());
            assertEquals(3, local.stop().size());
            assertEquals(List.of(), green.stop());
        }
    }

    @Test
    void tenMegabyteTransferAcrossHostsKeepsItsChecksum() throws Exception {
        Transfer.tenMegabytes(netns, ns("ob12"), ns("ob21"), "198.18.0.3");
        // The sending container's TAP has offloads: its 64 KB segments were cut in software
        // before encapsulation (the receiver's checksum above proves they were cut right).
        for (JsonNode n : d1.json("show").path("networks")) {
            for (JsonNode p : n.path("ports")) {
                if (p.path("name").asText().equals("ob12")) {
                    JsonNode c = p.path("counters");
                    assertTrue(c.path("rx_bytes").asDouble() / c.path("rx_frames").asDouble() > 1450 + 18,
                            "frames larger than the overlay MTU came in: " + c);
                }
            }
        }
    }

    @Test
    void aCaptureOnATunnelPortSeesTheInnerFrames() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempDirectory("cap").resolve("tunnel.pcap");
        Process capture = new ProcessBuilder(Vswitchd.ROOT.resolve("bin/vswitchctl").toString(), "--socket",
                d1.socket().toString(), "capture", "blue", "--port", "vxlan:198.19.0.2", "--count", "4", "--filter", "icmp",
                "-w", file.toString()).redirectErrorStream(true).start();
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
        while (d1.json("captures").size() == 0) {
            assertTrue(System.nanoTime() < deadline);
            Thread.sleep(100);
        }
        assertTrue(netns.exec(20, ns("ob11"), "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", "198.18.0.3").ok());
        assertTrue(capture.waitFor(20, java.util.concurrent.TimeUnit.SECONDS));
        List<String> lines = Sh.must(20, "tcpdump", "-n", "-r", file.toString()).lines().filter(l -> !l.isBlank()).toList();
        assertEquals(4, lines.size(), String.join("\n", lines));
        assertTrue(lines.stream().allMatch(l -> l.contains("ICMP echo") && !l.contains("VXLAN") && !l.contains("4789")),
                "inner frames, as the network sees them: " + lines);
    }

    @Test
    void remoteMacsAreLearnedOnTheTunnelToTheirHost() throws Exception {
        assertTrue(ping("ob11", "198.18.0.4"));
        String remoteMac = netns.must(10, ns("ob22"), "cat", "/sys/class/net/ob22/address").trim();
        JsonNode fdb = d1.json("fdb", "show", "blue");
        boolean found = false;
        for (JsonNode e : fdb) {
            if (e.path("mac").asText().equals(remoteMac)) {
                assertEquals("vxlan:198.19.0.2", e.path("port").asText());
                assertEquals("198.19.0.2", e.path("vtep").asText());
                assertEquals("dynamic", e.path("type").asText());
                found = true;
            }
        }
        assertTrue(found, "host 1 learned " + remoteMac + ": " + fdb);
    }

    @Test
    void overlayNetworkAddedAtRunTimeCarriesTrafficAndIsRemovedCleanly() throws Exception {
        for (Vswitchd d : List.of(d1, d2)) {
            String peer = d == d1 ? "198.19.0.2" : "198.19.0.1";
            Sh.Result r = d.ctl("network", "add", "purple", "--vni", "44", "--peer", peer);
            assertEquals(0, r.code(), r.toString());
        }
        assertEquals(0, d1.ctl("port", "add", "purple", "op1").code());
        assertEquals(0, d2.ctl("port", "add", "purple", "op2").code());
        String p1 = netns.create("o-op1");
        String p2 = netns.create("o-op2");
        netns.plug(underlay.h1, "op1", p1, "198.18.9.1/24");
        netns.plug(underlay.h2, "op2", p2, "198.18.9.2/24");
        assertTrue(netns.exec(20, p1, "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", "198.18.9.2").ok());
        JsonNode purple = null;
        for (JsonNode n : d1.json("network", "list")) {
            if (n.path("name").asText().equals("purple")) {
                purple = n;
            }
        }
        assertEquals(44, purple.path("vni").asInt());
        assertEquals(1450, purple.path("mtu").asInt());
        String traced = d1.ctl("trace", "purple", "--in", "op1", "--src", "02:00:00:00:01:01", "--dst", "ff:ff:ff:ff:ff:ff")
                .out();
        assertTrue(traced.contains("=> flood: vxlan:198.19.0.2"), traced);
        Sh.Result refused = d1.ctl("network", "add", "dup", "--vni", "42");
        assertTrue(refused.err().contains("vni 42 is already used by network blue"), refused.toString());
        assertEquals(0, d1.ctl("network", "del", "purple").code());
        assertEquals(0, d2.ctl("network", "del", "purple").code());
        assertFalse(netns.exec(20, p1, "ping", "-c", "1", "-W", "1", "-q", "198.18.9.2").ok());
        assertTrue(ping("ob11", "198.18.0.3"), "blue unaffected");
    }

    /** Sends bad datagrams from the underlay; see the python below for what each one is. */
    private static final String BAD_SENDER = """
            import socket, struct
            dst = ('198.19.0.1', 4789)
            def frame(src=b'\\x02\\x00\\x00\\x00\\x00\\x99'):
                return b'\\xff' * 6 + src + b'\\x08\\x06' + b'\\x00' * 46
            def vxlan(vni, flags=0x08):
                return struct.pack('!II', flags << 24, vni << 8)
            peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); peer.bind(('198.19.0.2', 0))
            stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); stranger.bind(('198.19.0.99', 0))
            for _ in range(5):
                peer.sendto(b'\\x08\\x00\\x00', dst)                                     # short
                peer.sendto(vxlan(42)[:8] + b'\\x00' * 10, dst)                          # short: runt inner
                peer.sendto(vxlan(42, flags=0) + frame(), dst)                           # I flag clear
                peer.sendto(vxlan(999) + frame(), dst)                                   # unknown VNI
                stranger.sendto(vxlan(42) + frame(), dst)                                # not a peer
                peer.sendto(vxlan(42) + frame(src=b'\\x01\\x00\\x5e\\x00\\x00\\x01'), dst) # multicast source
            print('sent')
            """;

    @Test
    void malformedAndUnauthorisedDatagramsAreDroppedAndCountedWhilePingsLoseNothing() throws Exception {
        Sh.must(10, "ip", "-n", underlay.h2, "addr", "add", "198.19.0.99/24", "dev", "u2");
        try {
            assertTrue(ping("ob11", "198.18.0.3"), "warm-up");
            JsonNode before = d1.json("stats").path("vxlan");
            JsonNode tunnelBefore = tunnelPort(d1.json("show"));
            Process pinger = new ProcessBuilder("ip", "netns", "exec", ns("ob11"), "ping", "-c", "200", "-i", "0.01",
                    "-W", "2", "-q", "198.18.0.3").redirectErrorStream(true).start();
            Sh.Result bad = netns.exec(30, underlay.h2, "python3", "-c", BAD_SENDER);
            assertTrue(bad.ok(), bad.toString());
            String pingOut = new String(pinger.getInputStream().readAllBytes());
            assertEquals(0, pinger.waitFor(), pingOut);
            assertTrue(pingOut.contains(" 0% packet loss"), pingOut);

            JsonNode after = d1.json("stats").path("vxlan");
            assertEquals(10, delta(before, after, "drop_short"));
            assertEquals(5, delta(before, after, "drop_no_vni_flag"));
            assertEquals(5, delta(before, after, "drop_unknown_vni"));
            assertEquals(5, delta(before, after, "drop_unknown_peer"));
            JsonNode tunnelAfter = tunnelPort(d1.json("show"));
            assertEquals(5, tunnelAfter.path("drops").path("invalid-source").asLong()
                    - tunnelBefore.path("drops").path("invalid-source").asLong());
            assertTrue(d1.isAlive());
        } finally {
            Sh.run(10, "ip", "-n", underlay.h2, "addr", "del", "198.19.0.99/24", "dev", "u2");
        }
    }

    private static long delta(JsonNode before, JsonNode after, String key) {
        return after.path(key).asLong() - before.path(key).asLong();
    }

    private static JsonNode tunnelPort(JsonNode show) {
        for (JsonNode n : show.path("networks")) {
            if (n.path("name").asText().equals("blue")) {
                for (JsonNode p : n.path("ports")) {
                    if (p.path("kind").asText().equals("vxlan")) {
                        return p;
                    }
                }
            }
        }
        throw new AssertionError("no tunnel port in blue: " + show);
    }
}
