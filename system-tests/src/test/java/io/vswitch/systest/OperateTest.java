package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The operator's view: every vswitchctl command against a running daemon, live changes under
 * traffic, the metrics endpoint against traffic of known size, refused input, and restarts
 * (kill -9, SIGTERM) with persistent ports. Blue's ports are ordinary; red's are persistent.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperateTest {
    private Netns netns;
    private String sw;
    private Path config;
    private Path socket;
    private Vswitchd daemon;

    private String ns(String port) {
        return sw.replace("opsw", "op-" + port);
    }

    private static final String IP_OB0 = "198.18.3.1";
    private static final String IP_OB1 = "198.18.3.2";
    private static final String IP_RP0 = "198.18.4.1";
    private static final String IP_RP1 = "198.18.4.2";

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        sw = netns.create("opsw");
        config = Vswitchd.writeConfig("""
                dataplane:
                  threads: 2
                networks:
                  - name: blue
                    ports: [ob0, ob1]
                  - name: red
                    persist: true
                    ports: [rp0, rp1]
                """);
        socket = Files.createTempDirectory("vswitchd-op").resolve("vswitchd.sock");
        daemon = Vswitchd.start(sw, config, socket);
        for (String[] c : new String[][] {{"ob0", IP_OB0}, {"ob1", IP_OB1}, {"rp0", IP_RP0}, {"rp1", IP_RP1}}) {
            netns.plug(sw, c[0], netns.createQuiet("op-" + c[0]), c[1] + "/24");
        }
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

    private String mac(String port) {
        return netns.must(10, ns(port), "cat", "/sys/class/net/" + port + "/address").trim();
    }

    private boolean ping(String from, String ip) {
        return netns.exec(20, ns(from), "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", ip).ok();
    }

    private String ctlOk(String... args) {
        Sh.Result r = daemon.ctl(args);
        assertEquals(0, r.code(), "vswitchctl " + String.join(" ", args) + ": " + r);
        return r.out();
    }

    private String ctlFails(String... args) {
        Sh.Result r = daemon.ctl(args);
        assertNotEquals(0, r.code(), "vswitchctl " + String.join(" ", args) + " should fail: " + r);
        String line = r.err().strip();
        assertEquals(1, line.lines().count(), "one line of reason: " + r);
        assertTrue(line.startsWith("vswitchctl: "), line);
        return line;
    }

    @Test
    @Order(1)
    void showListsNetworksPortsWithStateMtuAndCounters() throws Exception {
        assertTrue(ping("ob0", IP_OB1));
        String text = ctlOk("show");
        assertTrue(text.contains("network blue: mtu 1500"), text);
        assertTrue(text.contains("network red: mtu 1500"), text);
        assertTrue(Pattern.compile("ob0\\s+tap\\s+up\\s+1500").matcher(text).find(), text);
        JsonNode show = daemon.json("show");
        JsonNode ob1 = port(show, "blue", "ob1");
        assertEquals("up", ob1.path("state").asText());
        assertTrue(ob1.path("counters").path("rx_frames").asLong() > 0);
        String list = ctlOk("network", "list");
        assertTrue(list.contains("blue") && list.contains("red"), list);
        assertEquals(2, daemon.json("network", "list").size());
        JsonNode stats = daemon.json("stats");
        assertTrue(stats.path("totals").path("rx_frames").asLong() > 0, stats.toString());
        assertTrue(ctlOk("stats").contains("drops:"));
    }

    private static JsonNode port(JsonNode show, String network, String port) {
        for (JsonNode n : show.path("networks")) {
            if (n.path("name").asText().equals(network)) {
                for (JsonNode p : n.path("ports")) {
                    if (p.path("name").asText().equals(port)) {
                        return p;
                    }
                }
            }
        }
        throw new AssertionError("no port " + port + " in " + network + ": " + show);
    }

    /** Reads one sample of the Prometheus exposition. */
    private double metric(String text, String name, String labels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{" + labels + "\\} ([0-9.Ee+-]+)$").matcher(text);
        assertTrue(m.find(), name + "{" + labels + "} not in:\n" + text);
        return Double.parseDouble(m.group(1));
    }

    private String scrape() {
        return netns.must(10, sw, "curl", "-s", "--max-time", "5", "http://127.0.0.1:9477/metrics");
    }

    @Test
    @Order(2)
    void metricsCountExactlyThePingsSent() {
        // No ARP and no IPv6 during the count: permanent neighbours, IPv6 off in the containers.
        netns.must(10, ns("ob0"), "ip", "neigh", "replace", IP_OB1, "lladdr", mac("ob1"), "dev", "ob0", "nud", "permanent");
        netns.must(10, ns("ob1"), "ip", "neigh", "replace", IP_OB0, "lladdr", mac("ob0"), "dev", "ob1", "nud", "permanent");
        assertTrue(ping("ob0", IP_OB1));
        String before = scrape();
        assertTrue(netns.exec(30, ns("ob0"), "ping", "-c", "25", "-i", "0.02", "-q", IP_OB1).ok());
        String after = scrape();
        for (String[] c : new String[][] {
                {"vswitch_port_rx_frames_total", "kind=\"tap\",network=\"blue\",port=\"ob0\""},
                {"vswitch_port_tx_frames_total", "kind=\"tap\",network=\"blue\",port=\"ob1\""},
                {"vswitch_port_rx_frames_total", "kind=\"tap\",network=\"blue\",port=\"ob1\""},
                {"vswitch_port_tx_frames_total", "kind=\"tap\",network=\"blue\",port=\"ob0\""}}) {
            assertEquals(25.0, metric(after, c[0], c[1]) - metric(before, c[0], c[1]), c[0] + "{" + c[1] + "}");
        }
        assertEquals(50.0 * 98, metric(after, "vswitch_port_rx_bytes_total", "kind=\"tap\",network=\"blue\",port=\"ob0\"")
                - metric(before, "vswitch_port_rx_bytes_total", "kind=\"tap\",network=\"blue\",port=\"ob0\"") * 1.0
                + metric(after, "vswitch_port_rx_bytes_total", "kind=\"tap\",network=\"blue\",port=\"ob1\"")
                - metric(before, "vswitch_port_rx_bytes_total", "kind=\"tap\",network=\"blue\",port=\"ob1\""),
                "98-byte ICMP echo frames both ways");
        assertEquals(2.0, metric(after, "vswitch_network_mac_entries", "network=\"blue\""));
        assertEquals(1.0, metric(after, "vswitch_port_up", "network=\"blue\",port=\"ob0\""));
        assertTrue(after.contains("vswitch_loop_busy_ratio{loop=\"0\"}"));
        assertTrue(after.contains("vswitch_build_info{version=\"0.1.0\"} 1"));
        assertTrue(after.contains("vswitch_uptime_seconds "));
    }

    @Test
    @Order(3)
    void fdbShowAddDelAndFlush() throws Exception {
        assertTrue(ping("ob0", IP_OB1));
        String ob0 = mac("ob0");
        String ob1 = mac("ob1");
        String table = ctlOk("fdb", "show", "blue");
        assertTrue(Pattern.compile(Pattern.quote(ob0) + "\\s+ob0\\s+dynamic\\s+\\d+s").matcher(table).find(), table);
        ctlOk("fdb", "add", "blue", "02:00:00:00:aa:01", "ob1");
        JsonNode entries = daemon.json("fdb", "show", "blue");
        assertTrue(entries.toString().contains("\"mac\":\"02:00:00:00:aa:01\",\"port\":\"ob1\",\"type\":\"static\""), entries.toString());
        ctlOk("fdb", "flush", "blue", "--port", "ob0");
        table = ctlOk("fdb", "show", "blue");
        assertFalse(table.contains(ob0), table);
        assertTrue(table.contains(ob1), table);
        assertTrue(table.contains("02:00:00:00:aa:01"), "flush keeps static entries: " + table);
        ctlOk("fdb", "del", "blue", "02:00:00:00:aa:01");
        assertFalse(ctlOk("fdb", "show", "blue").contains("02:00:00:00:aa:01"));
        assertTrue(ctlOk("fdb", "flush", "blue").contains("entries flushed"));
        assertEquals(0, daemon.json("fdb", "show", "blue").size());
    }

    @Test
    @Order(4)
    void traceExplainsLearnedFloodedAndDroppedFrames() {
        assertTrue(ping("ob0", IP_OB1));
        String ob0 = mac("ob0");
        String ob1 = mac("ob1");
        String learned = ctlOk("trace", "blue", "--in", "ob0", "--src", ob0, "--dst", ob1);
        assertTrue(learned.contains("was learned on ob1 (dynamic"), learned);
        assertTrue(learned.strip().endsWith("=> unicast: ob1"), learned);
        String flooded = ctlOk("trace", "blue", "--in", "ob0", "--src", ob0, "--dst", "02:00:00:00:99:99", "--vlan", "7");
        assertTrue(flooded.contains("is unknown") && flooded.contains("vlan 7"), flooded);
        assertTrue(flooded.strip().endsWith("=> flood: ob1"), flooded);
        String dropped = ctlOk("trace", "blue", "--in", "ob0", "--src", "01:00:5e:00:00:01", "--dst", ob1);
        assertTrue(dropped.strip().endsWith("=> drop (invalid-source)"), dropped);
        String hairpin = ctlOk("trace", "blue", "--in", "ob1", "--src", "02:00:00:00:99:98", "--dst", ob1);
        assertTrue(hairpin.strip().endsWith("=> drop (hairpin)"), hairpin);
        ctlFails("trace", "blue", "--in", "nope", "--src", ob0, "--dst", ob1);
    }

    @Test
    @Order(4)
    void aPortWhoseContainerSetItsLinkDownIsNoFloodTargetInTraceNorInTheDataPath() throws Exception {
        String ob0 = mac("ob0");
        String ob1 = mac("ob1");
        netns.must(10, ns("ob1"), "ip", "link", "set", "ob1", "down");
        try {
            assertEquals("down", port(daemon.json("show"), "blue", "ob1").path("state").asText());
            String flooded = ctlOk("trace", "blue", "--in", "ob0", "--src", ob0, "--dst", "ff:ff:ff:ff:ff:ff");
            assertTrue(flooded.contains("skipped ob1 (link is down in its namespace"), flooded);
            assertTrue(flooded.strip().endsWith("=> drop (link-down)"), "ob1 is not listed as a flood target: " + flooded);
            String unicast = ctlOk("trace", "blue", "--in", "ob0", "--src", ob0, "--dst", ob1);
            assertTrue(unicast.strip().endsWith("=> drop (link-down)"), unicast);

            // What the data path does: it writes to ob1, the kernel refuses (EIO), the frame is counted
            // as a link-down drop and reaches nothing, both for a flood (an ARP request) and for unicast.
            long before = port(daemon.json("show"), "blue", "ob1").path("drops").path("link-down").asLong();
            assertFalse(netns.exec(10, ns("ob0"), "ping", "-c", "1", "-W", "1", "198.18.3.77").ok());
            assertFalse(ping("ob0", IP_OB1));
            long after = port(daemon.json("show"), "blue", "ob1").path("drops").path("link-down").asLong();
            assertTrue(after > before, "the frames sent to ob1 were refused and counted: " + before + " -> " + after);
        } finally {
            netns.must(10, ns("ob1"), "ip", "link", "set", "ob1", "up");
        }
        assertEquals("up", port(daemon.json("show"), "blue", "ob1").path("state").asText());
        assertTrue(ctlOk("trace", "blue", "--in", "ob0", "--src", ob0, "--dst", "ff:ff:ff:ff:ff:ff").strip()
                .endsWith("=> flood: ob1"));
        assertTrue(ping("ob0", IP_OB1));
    }

    @Test
    @Order(5)
    void addingAndRemovingPortsAndNetworksLosesNoTrafficElsewhere() throws Exception {
        assertTrue(ping("rp0", IP_RP1));
        Process pinger = new ProcessBuilder("ip", "netns", "exec", ns("rp0"), "ping", "-c", "300", "-i", "0.01", "-W", "2",
                "-q", IP_RP1).redirectErrorStream(true).start();
        ctlOk("network", "add", "green", "--mtu", "1400", "--mac-limit", "64");
        ctlOk("port", "add", "green", "og0");
        ctlOk("port", "add", "green", "og1", "--persist");
        ctlOk("port", "add", "blue", "ob2");
        assertTrue(ctlOk("show").contains("og1"));
        ctlOk("port", "del", "blue", "ob2");
        ctlOk("port", "del", "green", "og0");
        assertTrue(ctlOk("network", "del", "green").contains("devices deleted with it: og1 (persistent)"),
                "network del says which devices go, persistent ones too");
        ctlOk("network", "add", "keep", "--mac-aging", "60");
        ctlOk("port", "add", "keep", "ok0");
        String out = new String(pinger.getInputStream().readAllBytes());
        assertTrue(pinger.waitFor(60, TimeUnit.SECONDS));
        assertTrue(out.contains(" 0% packet loss"), out);
        assertEquals(List.of("ok0"), netns.taps(sw).stream().filter(t -> !t.startsWith("ob")).toList(),
                "og0, og1 (persistence cleared on del) and ob2 are gone; ok0 is new");
        assertTrue(daemon.log().contains("network green added"));
        assertTrue(daemon.log().contains("network green removed"));
    }

    @Test
    @Order(6)
    void badInputIsRefusedWithAReasonAndChangesNothing() throws Exception {
        Path state = config.resolveSibling(config.getFileName().toString().replace(".yaml", ".state.json"));
        String stateBefore = Files.readString(state);
        String listBefore = daemon.json("network", "list").toString();

        Sh.Result raw = Sh.run(10, "curl", "-s", "--unix-socket", socket.toString(), "-X", "POST", "-d", "{bad json",
                "-w", "\n%{http_code}", "http://vswitchd/v1/networks");
        assertTrue(raw.out().strip().endsWith("400"), raw.toString());
        assertTrue(raw.out().contains("invalid JSON"), raw.toString());

        assertTrue(ctlFails("network", "add", "blue").contains("exists already"));
        assertTrue(ctlFails("network", "add", "Bad_Name").contains("1-15 characters"));
        assertTrue(ctlFails("network", "add", "ovl", "--vni", "20000000").contains("vni"));
        assertTrue(ctlFails("network", "del", "nope").contains("no network named \"nope\""));
        assertTrue(ctlFails("port", "add", "nope", "x0").contains("no network named \"nope\""));
        assertTrue(ctlFails("port", "add", "blue", "rp0").contains("already belongs to network red"));
        assertTrue(ctlFails("port", "del", "blue", "zz0").contains("no port \"zz0\""));
        assertTrue(ctlFails("fdb", "add", "blue", "02:00:00:00:zz:01", "ob0").contains("bad MAC address"));
        assertTrue(ctlFails("fdb", "add", "blue", "ff:ff:ff:ff:ff:ff", "ob0").contains("unicast"));
        assertTrue(ctlFails("fdb", "add", "blue", "02:00:00:00:00:01", "nope").contains("no port \"nope\""));
        assertTrue(ctlFails("fdb", "del", "blue", "02:00:00:00:00:42").contains("no entry"));
        assertTrue(ctlFails("fdb", "show", "nope").contains("no network"));

        assertEquals(listBefore, daemon.json("network", "list").toString());
        assertEquals(stateBefore, Files.readString(state), "the state file is untouched");
        Sh.Result unreachable = Sh.run(30, Vswitchd.ROOT.resolve("bin/vswitchctl").toString(), "--socket", "/nonexistent.sock", "show");
        assertEquals(1, unreachable.code());
        assertTrue(unreachable.err().contains("cannot reach vswitchd at /nonexistent.sock"), unreachable.toString());
    }

    @Test
    @Order(7)
    void killDashNineAndRestartRestoresEverythingAndPersistentPortsResume() throws Exception {
        ctlOk("fdb", "add", "red", "02:00:00:00:bb:01", "rp1");
        assertTrue(ping("rp0", IP_RP1));
        daemon.kill9();
        assertTrue(netns.must(10, ns("rp0"), "ip", "-o", "link", "show", "rp0").contains("rp0"),
                "the container keeps its persistent interface");
        daemon = Vswitchd.start(sw, config, socket);
        // Traffic resumes within 2 s of "vswitchd ready".
        assertTrue(netns.exec(10, ns("rp0"), "ping", "-c", "1", "-w", "2", "-q", IP_RP1).ok(), daemon.log());
        assertTrue(daemon.log().contains("re-attached in"), daemon.log());
        String list = ctlOk("network", "list");
        assertTrue(list.contains("blue") && list.contains("red") && list.contains("keep"), list);
        assertFalse(list.contains("green"), list);
        assertTrue(ctlOk("fdb", "show", "red").contains("02:00:00:00:bb:01  rp1"), "static entry restored");
        assertTrue(ctlOk("show").contains("ok0"), "runtime-added port restored");
    }

    @Test
    @Order(8)
    void sigtermKeepsPersistentInterfacesAndRemovesTheOthers() throws Exception {
        assertEquals(0, daemon.terminate(2), daemon.log());
        assertTrue(netns.must(10, ns("rp0"), "ip", "-o", "link", "show", "rp0").contains("rp0"));
        assertTrue(netns.taps(sw).stream().noneMatch(t -> t.startsWith("ob") || t.equals("ok0")), netns.taps(sw).toString());
        daemon = Vswitchd.start(sw, config, socket);
        assertTrue(netns.exec(10, ns("rp0"), "ping", "-c", "1", "-w", "2", "-q", IP_RP1).ok(), daemon.log());
    }
}
