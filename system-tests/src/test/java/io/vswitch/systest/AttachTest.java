package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Containers plugged in by the switch itself: attach puts a TAP into a namespace with its name,
 * MAC, address, route; detach takes it all back. Addresses come from the network's subnet and
 * survive kill -9; icc off isolates containers from each other but not from the gateway; a
 * gateway port with masquerade gives them a way out to a "wan" beyond the daemon's namespace.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AttachTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private Netns netns;
    private String sw;
    private String wan;
    private Path config;
    private Path socket;
    private Vswitchd daemon;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        sw = netns.create("atsw");
        wan = netns.createQuiet("at-wan");
        // The "wan": beyond the daemon's namespace, with no route back to the containers' subnet.
        Sh.must(10, "ip", "-n", sw, "link", "add", "up0", "type", "veth", "peer", "name", "wan0", "netns", wan);
        Sh.must(10, "ip", "-n", sw, "addr", "add", "198.19.64.1/24", "dev", "up0");
        Sh.must(10, "ip", "-n", sw, "link", "set", "up0", "up");
        Sh.must(10, "ip", "-n", wan, "addr", "add", "198.19.64.2/24", "dev", "wan0");
        Sh.must(10, "ip", "-n", wan, "link", "set", "wan0", "up");
        config = Vswitchd.writeConfig("""
                dataplane: {threads: 2, pin: false}
                metrics: {listen: off}
                networks:
                  - name: apps
                    subnet: 198.18.64.0/24
                    gateway-port: true
                    masquerade: true
                  - name: lone
                    subnet: 198.18.65.0/24
                    gateway-port: true
                    icc: false
                """);
        socket = Files.createTempDirectory("vswitchd-attach").resolve("vswitchd.sock");
        daemon = Vswitchd.start(sw, config, socket);
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

    private JsonNode attach(String network, String ns, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("attach", network, "--netns", "/var/run/netns/" + ns));
        args.addAll(List.of(more));
        Sh.Result r = daemon.ctl(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.toString());
        return JSON.readTree(r.out());
    }

    private String refused(String... args) {
        Sh.Result r = daemon.ctl(args);
        assertEquals(1, r.code(), r.toString());
        return r.err().strip();
    }

    private boolean ping(String ns, String ip) {
        return netns.exec(20, ns, "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", ip).ok();
    }

    private static String ip(JsonNode endpoint) {
        return endpoint.path("ipv4").asText().split("/")[0];
    }

    @Test
    @Order(1)
    void threeAttachedContainersPingEachOtherTheGatewayAndTheWanThenDetachLeavesNothing() throws Exception {
        List<String> ns = new ArrayList<>();
        List<JsonNode> eps = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ns.add(netns.createQuiet("at-c" + i));
            eps.add(attach("apps", ns.get(i), "--name", "c" + i, i == 2 ? "--mac" : "--ifname", i == 2 ? "02:00:00:64:00:03" : "eth0"));
        }
        Set<String> addresses = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            JsonNode e = eps.get(i);
            assertTrue(addresses.add(ip(e)), "each gets its own address: " + eps);
            assertEquals("198.18.64.1", e.path("gateway").asText());
            String link = netns.must(10, ns.get(i), "ip", "-o", "link", "show", "eth0");
            assertTrue(link.contains(e.path("mac").asText()), link);
            assertTrue(link.contains("state UP") || link.contains(",UP"), link);
            assertTrue(netns.must(10, ns.get(i), "ip", "route").contains("default via 198.18.64.1 dev eth0"));
        }
        assertEquals("02:00:00:64:00:03", eps.get(2).path("mac").asText());
        // What ip netns exec gives a named namespace: apps has no DNS, so the host's resolvers (no loopback ones).
        Path resolv = Path.of("/etc/netns/" + ns.get(0) + "/resolv.conf");
        List<String> written = Files.readAllLines(resolv);
        assertTrue(written.getFirst().startsWith("# vswitchd: endpoint c0 of network apps"), written.toString());
        List<String> hostServers = Files.readAllLines(Path.of("/etc/resolv.conf")).stream()
                .filter(l -> l.startsWith("nameserver") && !l.contains(" 127.") && !l.endsWith("::1")).toList();
        assertEquals(hostServers, written.stream().filter(l -> l.startsWith("nameserver")).toList());
        assertEquals(written.subList(1, written.size()).stream().filter(l -> l.startsWith("nameserver")).toList(),
                netns.must(10, ns.get(0), "cat", "/etc/resolv.conf").lines().filter(l -> l.startsWith("nameserver")).toList(),
                "ip netns exec shows it as /etc/resolv.conf");
        for (int i = 0; i < 3; i++) {
            assertTrue(ping(ns.get(i), ip(eps.get((i + 1) % 3))), "c" + i + " reaches c" + ((i + 1) % 3));
            assertTrue(ping(ns.get(i), "198.18.64.1"), "c" + i + " reaches the gateway");
        }
        assertTrue(ping(ns.get(0), "198.19.64.2"), "the wan, beyond the daemon's namespace, through masquerade");
        String table = netns.must(10, sw, "nft", "list", "table", "inet", "vswitch");
        assertTrue(table.contains("198.18.64.0/24") && table.contains("masquerade"), table);
        assertEquals("1", netns.must(10, sw, "cat", "/proc/sys/net/ipv4/ip_forward").trim());

        for (int i = 0; i < 3; i++) {
            Sh.Result r = daemon.ctl("detach", "apps", i == 0 ? "--name" : "--netns", i == 0 ? "c0" : "/var/run/netns/" + ns.get(i));
            assertEquals(0, r.code(), r.toString());
            assertTrue(netns.taps(ns.get(i)).isEmpty(), "no TAP left in " + ns.get(i));
            assertFalse(Files.exists(Path.of("/etc/netns/" + ns.get(i))), "detach removes the resolv.conf it wrote");
            assertFalse(netns.must(10, ns.get(i), "ip", "-o", "link").contains("eth0"));
        }
        assertEquals(0, daemon.json("endpoints", "apps").size());
        assertFalse(Files.readString(stateFile()).contains("\"endpoints\" : [ {"), "no endpoint left in the state");
        JsonNode again = attach("apps", ns.get(0), "--name", "again");
        assertTrue(addresses.contains(ip(again)) || ip(again).startsWith("198.18.64."), "addresses are free again");
        assertEquals(0, daemon.ctl("detach", "apps", "--name", "again").code());
    }

    private Path stateFile() {
        return config.resolveSibling(config.getFileName().toString().replace(".yaml", ".state.json"));
    }

    @Test
    @Order(2)
    void badRequestsGetAClearErrorAndLeaveNothingBehind() throws Exception {
        String c = netns.createQuiet("at-bad");
        // A resolv.conf someone else wrote for a namespace is never touched.
        Path theirs = Files.createDirectories(Path.of("/etc/netns/" + c)).resolve("resolv.conf");
        Files.writeString(theirs, "nameserver 198.18.64.99\n");
        attach("apps", c, "--name", "taken", "--ip", "198.18.64.50/24");
        String other = netns.createQuiet("at-bad2");
        assertTrue(refused("attach", "apps", "--netns", "/var/run/netns/nope").contains("does not exist"));
        assertTrue(refused("attach", "apps", "--netns", "/etc/hostname").contains("not a network namespace"));
        assertTrue(refused("attach", "apps", "--netns", "/var/run/netns/" + other, "--ip", "198.18.99.5/24")
                .contains("not in subnet 198.18.64.0/24"));
        assertTrue(refused("attach", "apps", "--netns", "/var/run/netns/" + other, "--ip", "198.18.64.50")
                .contains("already in use"));
        assertTrue(refused("attach", "apps", "--netns", "/var/run/netns/" + other, "--ip", "198.18.64.1")
                .contains("gateway"));
        assertTrue(refused("attach", "apps", "--netns", "/var/run/netns/" + other, "--name", "taken").contains("already"));
        assertTrue(refused("attach", "nope", "--netns", "/var/run/netns/" + other).contains("no network named"));
        assertTrue(refused("attach", "apps", "--netns", "/var/run/netns/" + other, "--ifname", "eth0/x").contains("device name"));
        // A name the container already has: the move is refused, and nothing stays.
        Sh.must(10, "ip", "-n", other, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p");
        assertTrue(refused("attach", "apps", "--netns", "/var/run/netns/" + other).contains("EEXIST"));
        assertTrue(netns.taps(other).isEmpty() && netns.taps(sw).stream().noneMatch(t -> t.startsWith("vs") && !t.startsWith("vs-")),
                "nothing left behind: " + netns.taps(sw));
        assertEquals(1, daemon.json("endpoints", "apps").size(), "only the one attached");
        Sh.Result unreachable = Sh.run(30, Vswitchd.ROOT.resolve("bin/vswitchctl").toString(), "--socket", "/nonexistent.sock",
                "attach", "apps", "--netns", "/var/run/netns/" + other);
        assertEquals(1, unreachable.code());
        assertTrue(unreachable.err().contains("cannot reach vswitchd at /nonexistent.sock"), unreachable.toString());
        assertEquals(0, daemon.ctl("detach", "apps", "--name", "taken").code());
        assertEquals("nameserver 198.18.64.99\n", Files.readString(theirs), "attach and detach left it as it was");

        // A network without a subnet plugs the container in without an address, and says so (as docker run
        // on a network without IPAM, or ovs-docker add-port without --ipaddress, do it, silently).
        assertEquals(0, daemon.ctl("network", "add", "l2").code());
        Sh.Result plain = daemon.ctl("attach", "l2", "--netns", "/var/run/netns/" + other, "--name", "plain", "--ifname", "eth1");
        assertEquals(0, plain.code(), plain.toString());
        assertTrue(plain.err().contains("endpoint plain has no address: network l2 has no subnet; give one with --ip CIDR"),
                plain.toString());
        assertTrue(daemon.log().contains("endpoint plain attached to network l2: eth1 in /var/run/netns/" + other
                + ", no address (the network has no subnet)"), daemon.log());
        assertFalse(netns.must(10, other, "ip", "-o", "addr", "show", "dev", "eth1").contains("inet "));
        assertEquals(0, daemon.ctl("detach", "l2", "--name", "plain").code());
        assertEquals(0, daemon.ctl("network", "del", "l2").code());
    }

    @Test
    @Order(3)
    void withIccOffContainersReachTheGatewayButNotEachOther() throws Exception {
        String a = netns.createQuiet("at-ia");
        String b = netns.createQuiet("at-ib");
        JsonNode ea = attach("lone", a, "--name", "ia");
        JsonNode eb = attach("lone", b, "--name", "ib");
        assertTrue(ping(a, "198.18.65.1"), "a reaches the gateway");
        assertTrue(ping(b, "198.18.65.1"), "b reaches the gateway");
        assertFalse(ping(a, ip(eb)), "a does not reach b");
        assertFalse(ping(b, ip(ea)), "b does not reach a");
        // Even knowing b's MAC (ARP never told it: floods skip isolated ports), a's frames are dropped.
        netns.must(10, a, "ip", "neigh", "replace", ip(eb), "lladdr", eb.path("mac").asText(), "dev", "eth0");
        assertFalse(ping(a, ip(eb)), "a does not reach b by its MAC either");
        assertTrue(daemon.json("stats").path("drops").path("isolated").asLong() >= 2, "counted as isolated");
        daemon.ctl("detach", "lone", "--name", "ia");
        daemon.ctl("detach", "lone", "--name", "ib");
    }

    @Test
    @Order(4)
    void killDashNineBetweenTwoAttachesNeverHandsAnAddressOutTwice() throws Exception {
        String first = netns.createQuiet("at-k1");
        String second = netns.createQuiet("at-k2");
        JsonNode one = attach("apps", first, "--name", "k1");
        daemon.kill9();
        daemon = Vswitchd.start(sw, config, socket);
        JsonNode two = attach("apps", second, "--name", "k2");
        assertFalse(ip(one).equals(ip(two)), "k1 keeps " + ip(one) + ", k2 got " + ip(two));
        assertTrue(ping(second, ip(one)), "k1's interface was found again after the restart and forwards");
        assertTrue(daemon.log().contains("re-attached") || daemon.json("endpoints", "apps").size() == 2);
        assertTrue(daemon.log().contains("network apps added: mtu 1500, 0 ports, 1 endpoint restored (1 found in their"
                + " containers)"), "the restart counts the endpoints that came back:\n" + daemon.log());
        daemon.ctl("detach", "apps", "--name", "k1");
        daemon.ctl("detach", "apps", "--name", "k2");
    }

    @Test
    @Order(5)
    void removingTheNetworkRemovesItsMasqueradeAndNothingElseOfTheFirewall() throws Exception {
        Sh.must(10, "ip", "netns", "exec", sw, "nft", "add", "table", "inet", "someone-else");
        assertEquals(0, daemon.ctl("network", "del", "apps").code());
        String table = netns.must(10, sw, "nft", "list", "table", "inet", "vswitch");
        assertFalse(table.contains("198.18.64.0/24") || table.contains("masquerade"), "lone's gateway rules stay: " + table);
        assertEquals("0", netns.must(10, sw, "cat", "/proc/sys/net/ipv4/ip_forward").trim(), "forwarding back to what was found");
        assertEquals(0, daemon.ctl("network", "del", "lone").code());
        String tables = netns.must(10, sw, "nft", "list", "tables");
        assertFalse(tables.contains("inet vswitch"), "gone with the last gateway port: " + tables);
        assertTrue(tables.contains("inet someone-else"), "another table is untouched: " + tables);
    }
}
