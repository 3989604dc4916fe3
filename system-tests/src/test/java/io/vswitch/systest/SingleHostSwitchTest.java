package io.vswitch.systest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * One daemon, two networks, in namespaces this test makes: the daemon runs in "sw", where its
 * TAPs are born; they are then moved into "container" namespaces as a runtime would. Blue has
 * three containers, red two, all in one IPv4 subnet, so any leak between networks would show up
 * as a working ping.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SingleHostSwitchTest {
    private static final Map<String, String> BLUE = Map.of("vb0", "198.18.1.1", "vb1", "198.18.1.2", "vb2", "198.18.1.3");
    private static final Map<String, String> RED = Map.of("vr0", "198.18.1.11", "vr1", "198.18.1.12");

    private Netns netns;
    private Vswitchd daemon;
    private String sw;

    private String ns(String port) {
        return sw.replace("sw", "c-" + port);
    }

    @BeforeAll
    void startSwitchAndContainers() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        sw = netns.create("sw");
        Path config = Vswitchd.writeConfig("""
                dataplane:
                  threads: 2
                networks:
                  - name: blue
                    ports: [vb0, vb1, vb2]
                  - name: red
                    mac-aging: 60s
                    offload: false
                    ports: [vr0, vr1]
                """);
        daemon = Vswitchd.start(sw, config);
        for (var e : List.of(BLUE, RED)) {
            for (var port : e.entrySet()) {
                String c = netns.create("c-" + port.getKey());
                netns.plug(sw, port.getKey(), c, port.getValue() + "/24");
            }
        }
    }

    @AfterAll
    void cleanUp() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        if (netns != null) {
            netns.close();
        }
    }

    private boolean ping(String fromPort, String ip) {
        return netns.exec(20, ns(fromPort), "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", ip).ok();
    }

    @Test
    @Order(1)
    void everyPairPingsInsideItsNetwork() {
        for (var net : List.of(BLUE, RED)) {
            for (var from : net.keySet()) {
                for (var to : net.entrySet()) {
                    if (!from.equals(to.getKey())) {
                        assertTrue(ping(from, to.getValue()), from + " -> " + to.getKey());
                    }
                }
            }
        }
    }

    @Test
    @Order(1)
    void everyPortHasOneQueuePerLoop() throws Exception {
        for (var n : daemon.json("show").path("networks")) {
            for (var p : n.path("ports")) {
                assertEquals(2, p.path("queues").asInt(), p.toString());
            }
        }
        String queues = netns.must(10, ns("vb0"), "ls", "/sys/class/net/vb0/queues");
        assertTrue(queues.contains("rx-0") && queues.contains("rx-1"), "the kernel sees two queues: " + queues);
    }

    @Test
    @Order(2)
    void nothingCrossesNetworks() throws Exception {
        try (Capture red = Capture.start(ns("vr0"), "vr0", "arp or icmp")) {
            assertFalse(netns.exec(20, ns("vb0"), "ping", "-c", "2", "-i", "0.2", "-W", "1", "-q", RED.get("vr0")).ok(),
                    "blue reached red");
            assertFalse(netns.exec(20, ns("vr1"), "ping", "-c", "2", "-i", "0.2", "-W", "1", "-q", BLUE.get("vb1")).ok(),
                    "red reached blue");
            List<String> seen = red.stop();
            // Red's own ARP may ask for a blue address; nothing may come from a blue address.
            java.util.regex.Pattern fromBlue = java.util.regex.Pattern.compile("tell 198\\.18\\.1\\.[1-3],|198\\.18\\.1\\.[1-3] >");
            assertTrue(seen.stream().noneMatch(l -> fromBlue.matcher(l).find()), "blue's frames reached red: " + seen);
        }
    }

    @Test
    @Order(3)
    void learnedUnicastFlowIsNotSeenInAThirdNamespace() throws Exception {
        assertTrue(ping("vb0", BLUE.get("vb1")), "warm-up: learn both MACs and resolve ARP");
        try (Capture third = Capture.start(ns("vb2"), "vb2", "icmp")) {
            assertTrue(netns.exec(20, ns("vb0"), "ping", "-c", "20", "-i", "0.02", "-q", BLUE.get("vb1")).ok());
            List<String> seen = third.stop();
            assertEquals(List.of(), seen, "a learned unicast flow leaked to the third port");
        }
    }

    @Test
    @Order(4)
    void broadcastReachesEveryPortOfTheNetworkOnly() throws Exception {
        try (Capture b1 = Capture.start(ns("vb1"), "vb1", "ether broadcast and icmp");
             Capture b2 = Capture.start(ns("vb2"), "vb2", "ether broadcast and icmp");
             Capture r0 = Capture.start(ns("vr0"), "vr0", "ether broadcast")) {
            netns.exec(20, ns("vb0"), "ping", "-b", "-c", "3", "-i", "0.2", "-W", "1", "-q", "198.18.1.255");
            assertEquals(3, b1.stop().size());
            assertEquals(3, b2.stop().size());
            assertEquals(List.of(), r0.stop());
        }
    }

    @Test
    @Order(5)
    void tenMegabyteTransferArrivesWithTheSameChecksum() throws Exception {
        Transfer.tenMegabytes(netns, ns("vb0"), ns("vb1"), BLUE.get("vb1"));
    }

    private void iperf3(String client, String server, String ip) throws Exception {
        Iperf3.tcp(netns, ns(client), ns(server), ip);
    }

    private double averageRxFrame(String network, String port) throws Exception {
        for (var n : daemon.json("show").path("networks")) {
            for (var p : n.path("ports")) {
                if (n.path("name").asText().equals(network) && p.path("name").asText().equals(port)) {
                    return p.path("counters").path("rx_bytes").asDouble() / p.path("counters").path("rx_frames").asDouble();
                }
            }
        }
        throw new AssertionError("no port " + port);
    }

    @Test
    @Order(6)
    void iperf3TcpCompletesWithAndWithoutOffloads() throws Exception {
        iperf3("vr0", "vr1", RED.get("vr1"));
        assertTrue(averageRxFrame("red", "vr0") <= 1500 + 18, "without offloads every frame fits the MTU");
        iperf3("vb0", "vb1", BLUE.get("vb1"));
        assertTrue(averageRxFrame("blue", "vb0") > 1500 + 18,
                "with offloads, TCP segments larger than the MTU crossed as one frame: " + averageRxFrame("blue", "vb0"));
    }

    @Test
    @Order(7)
    void deletingAContainerNamespaceTakesOnlyItsPortDown() throws Exception {
        netns.delete(ns("vb2"));
        daemon.awaitLog("port vb2 (network blue) down", 15);
        assertTrue(daemon.isAlive());
        assertTrue(ping("vb0", BLUE.get("vb1")), "blue keeps forwarding");
        assertTrue(ping("vb1", BLUE.get("vb0")), "blue keeps forwarding");
        assertTrue(ping("vr0", RED.get("vr1")), "red keeps forwarding");
        // Broadcasts still flood to the remaining ports without trouble.
        assertTrue(netns.exec(20, ns("vb0"), "ping", "-b", "-c", "2", "-i", "0.2", "-W", "1", "-q", "198.18.1.255").code() != 124);
        assertTrue(daemon.isAlive());
    }

    @Test
    @Order(8)
    void sigtermStopsWithinTwoSecondsAndLeavesNoTapBehind() throws Exception {
        assertEquals(0, daemon.terminate(2), "exit code within 2 s of SIGTERM\n" + daemon.log());
        assertEquals(List.of(), netns.taps(sw));
        for (String port : List.of("vb0", "vb1", "vr0", "vr1")) {
            assertEquals(List.of(), netns.taps(ns(port)), "TAP left in " + ns(port));
        }
        assertTrue(daemon.log().contains("vswitchd stopped"));
    }
}
