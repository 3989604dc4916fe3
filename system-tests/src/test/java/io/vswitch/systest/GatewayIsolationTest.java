package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Isolation that holds through the gateway (issue 19 item 5), played from containers: with a
 * gateway port in the daemon's namespace (which routes, since one network masquerades), a
 * container of one network reaches another network's container neither through its gateway nor
 * directly, and two containers of an {@code icc: false} network do not meet through theirs;
 * the way out (masquerade to a "wan" namespace) and a published port (DNAT in the daemon's
 * namespace) still work; IP forwarding goes back to 0 when the last masquerading network goes.
 */
@Tag("hostile")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayIsolationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WAN_SIDE = "198.19.70.1";
    private static final String WAN = "198.19.70.2";

    private Netns netns;
    private String sw;
    private String wan;
    private Vswitchd daemon;
    private Process server;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        sw = netns.create("gisw");
        wan = netns.createQuiet("gi-wan");
        Sh.must(10, "ip", "-n", sw, "link", "add", "up0", "type", "veth", "peer", "name", "wan0", "netns", wan);
        Sh.must(10, "ip", "-n", sw, "addr", "add", WAN_SIDE + "/24", "dev", "up0");
        Sh.must(10, "ip", "-n", sw, "link", "set", "up0", "up");
        Sh.must(10, "ip", "-n", wan, "addr", "add", WAN + "/24", "dev", "wan0");
        Sh.must(10, "ip", "-n", wan, "link", "set", "wan0", "up");
        assertEquals("0", forwarding(), "a new namespace does not forward");
        Path config = Vswitchd.writeConfig("""
                dataplane: {threads: 2, pin: false}
                metrics: {listen: off}
                dns: {upstream: []}
                networks:
                  - {name: neta, subnet: 198.18.70.0/24, gateway-port: true, masquerade: true}
                  - {name: netb, subnet: 198.18.71.0/24, gateway-port: true}
                  - {name: lone, subnet: 198.18.72.0/24, gateway-port: true, icc: false}
                """);
        Path socket = Files.createTempDirectory("vswitchd-gwiso").resolve("vswitchd.sock");
        daemon = Vswitchd.start(sw, config, socket);
    }

    @AfterAll
    void stop() throws Exception {
        if (server != null) {
            server.destroyForcibly().waitFor();
        }
        if (daemon != null) {
            daemon.close();
        }
        if (netns != null) {
            netns.close();
        }
    }

    private String forwarding() {
        return netns.must(10, sw, "cat", "/proc/sys/net/ipv4/ip_forward").trim();
    }

    private JsonNode attach(String network, String ns, String name) throws Exception {
        Sh.Result r = daemon.ctl("attach", network, "--netns", "/var/run/netns/" + ns, "--name", name);
        assertEquals(0, r.code(), r.toString());
        return JSON.readTree(r.out());
    }

    private static String ip(JsonNode endpoint) {
        return endpoint.path("ipv4").asText().split("/")[0];
    }

    /** How many of {@code count} pings from {@code ns} to {@code ip} were answered. */
    private int answered(String ns, String ip, int count) {
        String out = netns.exec(30, ns, "ping", "-c", String.valueOf(count), "-i", "0.2", "-W", "1", ip).out();
        return (int) out.lines().filter(l -> l.contains("bytes from")).count();
    }

    /** What tcp/8080 answers through curl from {@code ns}, or the failure. */
    private String fetch(String ns, String url) {
        Sh.Result r = netns.exec(20, ns, "curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", url);
        return r.ok() ? r.out().trim() : "curl exit " + r.code();
    }

    @Test
    @Order(1)
    void aContainerReachesAnotherNetworksContainerNeitherThroughTheGatewayNorDirectly() throws Exception {
        String a = netns.createQuiet("gi-a1");
        String b = netns.createQuiet("gi-b1");
        JsonNode ea = attach("neta", a, "a1");
        JsonNode eb = attach("netb", b, "b1");
        assertEquals(3, answered(a, "198.18.70.1", 3), "a1 reaches its gateway");
        assertEquals(3, answered(b, "198.18.71.1", 3), "b1 reaches its gateway");
        assertEquals(3, answered(a, WAN, 3), "the way out: masquerade to the wan");
        assertEquals("1", forwarding(), "on for the masquerade");

        int viaGateway = answered(a, ip(eb), 5);
        int back = answered(b, ip(ea), 5);
        // Directly: an on-link route and b1's MAC, as if b1 were on a1's network.
        netns.must(10, a, "ip", "route", "add", ip(eb) + "/32", "dev", "eth0");
        netns.must(10, a, "ip", "neigh", "replace", ip(eb), "lladdr", eb.path("mac").asText(), "dev", "eth0");
        int direct = answered(a, ip(eb), 3);
        netns.must(10, a, "ip", "neigh", "replace", ip(eb), "lladdr", gatewayMac(a), "dev", "eth0");
        int viaGatewayMac = answered(a, ip(eb), 3);
        String drops = netns.exec(10, sw, "nft", "list", "chain", "inet", "vswitch", "forward").out();
        System.out.printf("gateway isolation: neta -> netb through the gateway %d/5 answered, back %d/5, directly %d/3,"
                + " on-link to the gateway's MAC %d/3%n%s%n", viaGateway, back, direct, viaGatewayMac, drops);
        assertEquals(0, viaGateway, "a1 reaches b1 through the gateway");
        assertEquals(0, back, "b1 reaches a1 through the gateway");
        assertEquals(0, direct, "a1 reaches b1 directly");
        assertEquals(0, viaGatewayMac, "a1 reaches b1 through the gateway's MAC");
        assertTrue(drops.contains("comment \"isolated\""), drops);
        assertEquals(3, answered(a, WAN, 3), "the way out still works");
    }

    /** The gateway's MAC as {@code ns}'s neighbour table has it (learned by pinging it). */
    private String gatewayMac(String ns) {
        for (String line : netns.must(10, ns, "ip", "neigh", "show").lines().toList()) {
            if (line.contains(".1 ") && line.contains("lladdr")) {
                return line.split("lladdr ")[1].split(" ")[0];
            }
        }
        throw new AssertionError("no gateway in the neighbour table of " + ns);
    }

    @Test
    @Order(2)
    void twoContainersOfAnIccOffNetworkDoNotMeetThroughTheirGateway() throws Exception {
        String l1 = netns.createQuiet("gi-l1");
        String l2 = netns.createQuiet("gi-l2");
        JsonNode e1 = attach("lone", l1, "l1");
        JsonNode e2 = attach("lone", l2, "l2");
        assertEquals(3, answered(l1, "198.18.72.1", 3), "l1 reaches its gateway");
        assertEquals(3, answered(l2, "198.18.72.1", 3), "l2 reaches its gateway");
        // Hair-pin: each other's address through the gateway, whose MAC the switch lets through
        // (one way is enough for a flood; both, so that a ping's answer could come back).
        netns.must(10, l1, "ip", "route", "add", ip(e2) + "/32", "via", "198.18.72.1", "dev", "eth0");
        netns.must(10, l2, "ip", "route", "add", ip(e1) + "/32", "via", "198.18.72.1", "dev", "eth0");
        int hairpin = answered(l1, ip(e2), 5);
        System.out.printf("gateway isolation: icc off, l1 -> l2 hair-pinned through the gateway %d/5 answered%n", hairpin);
        assertEquals(0, hairpin, "l1 reaches l2 through the gateway");
    }

    @Test
    @Order(3)
    void aPublishedPortIsReachedFromTheWanAndFromAnotherNetwork() throws Exception {
        String a = netns.createQuiet("gi-pub");
        JsonNode e = attach("neta", a, "pub");
        server = new ProcessBuilder("ip", "netns", "exec", a, "python3", "-m", "http.server", "8080", "--bind", ip(e))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        // Published as a runtime's portmap would: DNAT in a table of its own in the daemon's namespace.
        netns.must(10, sw, "nft", "add", "table", "ip", "testpub");
        netns.must(10, sw, "nft", "add", "chain", "ip", "testpub", "pre", "{ type nat hook prerouting priority dstnat; }");
        netns.must(10, sw, "nft", "add", "rule", "ip", "testpub", "pre", "tcp", "dport", "8080", "dnat", "to", ip(e) + ":8080");
        String url = "http://" + WAN_SIDE + ":8080/";
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!fetch(wan, url).equals("200") && System.nanoTime() < deadline) {
            Thread.sleep(100); // the server is starting
        }
        assertEquals("200", fetch(wan, url), "from the wan");
        String b = netns.createQuiet("gi-pubb");
        attach("netb", b, "pubb");
        assertEquals("200", fetch(b, url), "from a container of another network, as from anywhere");
        netns.must(10, sw, "nft", "delete", "table", "ip", "testpub");
    }

    @Test
    @Order(4)
    void forwardingGoesBackToWhatWasFoundWithTheLastMasqueradingNetwork() throws Exception {
        assertEquals("1", forwarding());
        String table = netns.must(10, sw, "nft", "list", "table", "inet", "vswitch");
        assertTrue(table.contains("forwarding found: ipv4=0"), table);
        for (JsonNode e : daemon.json("endpoints")) {
            assertEquals(0, daemon.ctl("detach", e.path("network").asText(), "--id", e.path("id").asText()).code());
        }
        assertEquals(0, daemon.ctl("network", "del", "neta").code());
        assertEquals("0", forwarding(), "set back: neta was the only network that masqueraded");
        table = netns.must(10, sw, "nft", "list", "table", "inet", "vswitch");
        assertFalse(table.contains("masquerade") || table.contains("forwarding found"), table);
        assertTrue(table.contains("\"vs-netb\""), "netb's gateway keeps its rules: " + table);
        assertEquals(0, daemon.ctl("network", "del", "netb").code());
        assertEquals(0, daemon.ctl("network", "del", "lone").code());
        List<String> tables = new ArrayList<>(netns.must(10, sw, "nft", "list", "tables").lines().toList());
        assertFalse(tables.contains("table inet vswitch"), "gone with the last gateway port: " + tables);
    }
}
