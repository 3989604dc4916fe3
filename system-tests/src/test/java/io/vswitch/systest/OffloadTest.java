package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An offload network with one port that has offloads and one that has not: 64 KB TCP frames
 * from the first must reach the second segmented in software, with every checksum finished,
 * and plain frames from the second must reach the first with an empty virtio-net header.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OffloadTest {
    private Netns netns;
    private Vswitchd daemon;
    private String fast;
    private String plain;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        String sw = netns.create("offsw");
        daemon = Vswitchd.start(sw, Vswitchd.writeConfig("""
                dataplane:
                  threads: 2
                networks:
                  - name: mixed
                    ports: [fo0]
                """));
        Sh.Result added = daemon.ctl("port", "add", "mixed", "fp0", "--no-offload");
        assertEquals(0, added.code(), added.toString());
        fast = netns.createQuiet("off-fast");
        plain = netns.createQuiet("off-plain");
        netns.plug(sw, "fo0", fast, "198.18.5.1/24");
        netns.plug(sw, "fp0", plain, "198.18.5.2/24");
    }

    @AfterAll
    void stop() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        if (netns != null) {
            netns.close();
        }
    }

    private JsonNode port(String name) throws Exception {
        for (JsonNode p : daemon.json("show").path("networks").get(0).path("ports")) {
            if (p.path("name").asText().equals(name)) {
                return p;
            }
        }
        throw new AssertionError("no port " + name);
    }

    @Test
    void portsReportTheirOffloads() throws Exception {
        assertTrue(port("fo0").path("offload").asBoolean(), port("fo0").toString());
        assertTrue(!port("fp0").path("offload").asBoolean(), port("fp0").toString());
    }

    @Test
    void largeFramesAreSegmentedInSoftwareWithFinishedChecksums() throws Exception {
        try (Capture capture = Capture.start(plain, "fp0", "tcp and src host 198.18.5.1 and greater 1000")) {
            Transfer.tenMegabytes(netns, fast, plain, "198.18.5.2");
            List<String> seen = capture.stop();
            assertTrue(seen.size() > 1000, "segments seen: " + seen.size());
        }
        JsonNode in = port("fo0").path("counters");
        assertTrue(in.path("rx_bytes").asDouble() / in.path("rx_frames").asDouble() > 1518,
                "64 KB frames came in from the offload port");
        JsonNode out = port("fp0").path("counters");
        assertTrue(out.path("tx_frames").asLong() > in.path("rx_frames").asLong(), "one frame became several");
        assertEquals(0, port("fp0").path("drops").path("tx-error").asLong());
        // Every frame the plain port's kernel received fits its MTU, and the kernel's own TCP
        // accepted them all: no checksum errors in that namespace.
        String link = netns.must(10, plain, "ip", "-s", "link", "show", "fp0");
        assertTrue(link.contains("mtu 1500"), link);
        String snmp = netns.must(10, plain, "cat", "/proc/net/snmp");
        // Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets
        //      CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
        Matcher tcp = Pattern.compile("Tcp: (?:-?\\d+ ){12}(\\d+) \\d+ (\\d+)").matcher(snmp);
        assertTrue(tcp.find(), snmp);
        assertEquals("0", tcp.group(1), "TCP InErrs");
        assertEquals("0", tcp.group(2), "TCP InCsumErrors");
    }

    @Test
    void plainFramesReachTheOffloadPortAndTcpWorksBothWays() throws Exception {
        Transfer.tenMegabytes(netns, plain, fast, "198.18.5.1");
        Iperf3.tcp(netns, fast, plain, "198.18.5.2");
        Iperf3.tcp(netns, plain, fast, "198.18.5.1");
    }
}
