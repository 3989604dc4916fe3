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

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The switch answers for its network: DNS on the gateway address for the endpoints' names and
 * aliases (others forwarded to a resolver, a fake one on the daemon namespace's loopback, or
 * REFUSED at once when it is gone), ARP and neighbour solicitations for known addresses without
 * any other port seeing them, and 10^5 malformed DNS queries and ARP frames dropped, each counted,
 * while the neighbours' pings lose nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NamesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GATEWAY = "198.18.83.1";
    private static final Path RESOURCES = Vswitchd.ROOT.resolve("system-tests/src/test/resources");
    private Netns netns;
    private String sw;
    private Vswitchd daemon;
    private Process resolver;
    private final Map<String, String> ns = new HashMap<>();
    private final Map<String, JsonNode> endpoints = new HashMap<>();
    private final List<Path> resolvConfs = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        sw = netns.create("namesw");
        resolver = new ProcessBuilder("ip", "netns", "exec", sw, "python3", RESOURCES.resolve("fake_resolver.py").toString(),
                "5354").redirectErrorStream(true).start();
        String ready = new BufferedReader(new InputStreamReader(resolver.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertEquals("ready", ready, "the fake resolver listens");
        daemon = Vswitchd.start(sw, Vswitchd.writeConfig("""
                dataplane: {threads: 2, pin: false}
                metrics: {listen: off}
                dns: {upstream: ["127.0.0.1:5354"]}
                networks:
                  - name: apps
                    subnet: 198.18.83.0/24
                    subnet6: fd00:83::/64
                    dns: true
                """), Files.createTempDirectory("vswitch-names").resolve("vswitchd.sock"));
        for (String name : List.of("alpha", "beta", "gamma")) {
            String n = netns.create("nm-" + name);
            ns.put(name, n);
            List<String> args = new ArrayList<>(List.of("attach", "apps", "--netns", "/var/run/netns/" + n, "--name", name));
            if (name.equals("beta")) {
                args.addAll(List.of("--alias", "www", "--alias", "Web-Server"));
            }
            Sh.Result r = daemon.ctl(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.toString());
            JsonNode e = JSON.readTree(r.out());
            endpoints.put(name, e);
            assertEquals(GATEWAY, e.path("nameservers").path(0).asText(), "the gateway is its nameserver");
            // What a runtime does with the nameservers: the container's resolv.conf (ip netns exec mounts it).
            Path conf = Path.of("/etc/netns", n, "resolv.conf");
            Files.createDirectories(conf.getParent());
            Files.writeString(conf, "nameserver " + GATEWAY + "\n");
            resolvConfs.add(conf);
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (resolver != null) {
            resolver.destroyForcibly();
            resolver.waitFor();
        }
        for (Path conf : resolvConfs) {
            Files.deleteIfExists(conf);
            Files.deleteIfExists(conf.getParent());
        }
        if (daemon != null) {
            daemon.close();
        }
        if (netns != null) {
            netns.close();
        }
    }

    private String ip(String name) {
        return endpoints.get(name).path("ipv4").asText().split("/")[0];
    }

    private String ip6(String name) {
        return endpoints.get(name).path("ipv6").asText().split("/")[0];
    }

    private JsonNode ask(String from, String server, String name, String type) throws Exception {
        String out = netns.must(20, ns.get(from), "python3", RESOURCES.resolve("dns_query.py").toString(), server, name, type);
        return JSON.readTree(out);
    }

    private long counter(String name) throws Exception {
        return daemon.json("stats").path("networks").path(name).asLong();
    }

    @Test
    @Order(1)
    void namesAndAliasesAreAnsweredOnTheGatewayOthersGoUpstreamOrAreRefusedAtOnce() throws Exception {
        JsonNode beta = ask("alpha", GATEWAY, "beta", "A");
        assertEquals(0, beta.path("rcode").asInt());
        assertTrue(beta.path("aa").asBoolean(), "authoritative");
        assertEquals(ip("beta"), beta.path("addresses").path(0).asText());
        assertEquals(ip("beta"), ask("alpha", GATEWAY, "WWW", "A").path("addresses").path(0).asText(), "an alias, any case");
        assertEquals(ip("beta"), ask("gamma", GATEWAY, "web-server.apps", "A").path("addresses").path(0).asText(),
                "under the network's name");
        String v6 = ask("alpha", "fd00:83::1", "beta", "AAAA").path("addresses").path(0).asText();
        assertEquals(java.net.InetAddress.getByName(ip6("beta")), java.net.InetAddress.getByName(v6), "AAAA, asked over IPv6");
        assertEquals(3, ask("alpha", GATEWAY, "nobody.apps", "A").path("rcode").asInt(), "NXDOMAIN in the network's zone");
        assertEquals(0, ask("alpha", GATEWAY, "gamma", "MX").path("addresses").size(), "no data for other types");

        // The container's own resolver (glibc, through its resolv.conf) finds its neighbour by name.
        assertTrue(netns.exec(20, ns.get("alpha"), "ping", "-c", "1", "-W", "2", "beta").ok(), "ping beta by name");
        assertTrue(netns.exec(20, ns.get("gamma"), "ping", "-c", "1", "-W", "2", "www").ok(), "ping www by name");

        JsonNode outside = ask("alpha", GATEWAY, "host.example", "A");
        assertEquals(0, outside.path("rcode").asInt());
        assertEquals("198.18.83.250", outside.path("addresses").path(0).asText(), "from the upstream resolver");
        assertEquals(0x4242, outside.path("id").asInt(), "under the container's own id");
        assertTrue(counter("dns_forwarded") >= 1);

        resolver.destroyForcibly();
        resolver.waitFor();
        // With nobody on the resolver's port its ICMP refuses at once; a silent one would give SERVFAIL after 1.5 s.
        assertEquals(5, ask("alpha", GATEWAY, "host.example", "A").path("rcode").asInt(), "REFUSED");
        assertTrue(counter("dns_refused") >= 1);
        assertTrue(counter("dns_answered") >= 7, daemon.json("stats").path("networks").toString());
    }

    @Test
    @Order(2)
    void arpAndNeighbourSolicitationsForKnownAddressesAreAnsweredAndNoOtherPortSeesThem() throws Exception {
        String alphaMac = endpoints.get("alpha").path("mac").asText();
        long arpBefore = counter("arp_answered");
        long ndBefore = counter("nd_answered");
        for (String n : ns.values()) {
            netns.must(10, n, "ip", "neigh", "flush", "all");
        }
        try (Capture atBeta = Capture.start(ns.get("beta"), "eth0", "ether src " + alphaMac + " and (arp or icmp6)");
             Capture atGamma = Capture.start(ns.get("gamma"), "eth0", "arp or (icmp6 and ip6[40] == 135)")) {
            assertTrue(netns.exec(20, ns.get("alpha"), "ping", "-c", "2", "-i", "0.2", "-W", "2", ip("beta")).ok());
            assertTrue(netns.exec(20, ns.get("alpha"), "ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", ip6("beta")).ok());
            String neigh = netns.must(10, ns.get("alpha"), "ip", "neigh", "show", ip("beta"));
            assertTrue(neigh.contains(endpoints.get("beta").path("mac").asText()), "alpha learned beta's MAC: " + neigh);
            List<String> seenByBeta = atBeta.stop();
            List<String> seenByGamma = atGamma.stop();
            assertTrue(seenByBeta.stream().noneMatch(l -> l.contains("ARP, Request") || l.contains("neighbor solicitation")),
                    "beta never sees alpha's ARP requests or solicitations: " + seenByBeta);
            assertTrue(seenByGamma.isEmpty(), "gamma sees no ARP or solicitation at all: " + seenByGamma);
        }
        assertTrue(counter("arp_answered") > arpBefore, "counted");
        assertTrue(counter("nd_answered") > ndBefore, "counted");
    }

    @Test
    @Order(3)
    void tenThousandsOfMalformedQueriesAndArpFramesAreDroppedAndCountedAndNobodyLosesAPing() throws Exception {
        String alphaNs = ns.get("alpha");
        // The gateway's MAC, as alpha's own stack learned it from the switch.
        ask("alpha", GATEWAY, "beta", "A");
        String neigh = netns.must(10, alphaNs, "ip", "neigh", "show", GATEWAY);
        String gatewayMac = neigh.replaceAll(".*lladdr (\\S+).*", "$1").trim();
        assertTrue(gatewayMac.matches("[0-9a-f:]{17}"), neigh);
        String alphaPort = endpoints.get("alpha").path("port").asText();
        JsonNode before = port(alphaPort);

        Process attack = new ProcessBuilder("ip", "netns", "exec", alphaNs, "python3",
                RESOURCES.resolve("dns_arp_sender.py").toString(), "eth0", "100000", gatewayMac, GATEWAY, ip("alpha"))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Process ping = new ProcessBuilder("ip", "netns", "exec", ns.get("beta"), "ping", "-c", "300", "-i", "0.01", "-W", "2",
                ip("gamma")).redirectErrorStream(true).start();
        String report = new String(attack.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, attack.waitFor(), report);
        String pings = new String(ping.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ping.waitFor();
        assertTrue(pings.contains("300 received"), "beta's pings to gamma lose nothing:\n" + pings);

        JsonNode sent = JSON.readTree(report);
        Map<String, Long> expected = new HashMap<>();
        long total = 0;
        for (var it = sent.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getKey().startsWith("_")) {
                expected.merge(e.getValue().path("reason").asText(), e.getValue().path("sent").asLong(), Long::sum);
                total += e.getValue().path("sent").asLong();
            }
        }
        assertTrue(total > 50_000, "most got past the sender's kernel: " + report);
        JsonNode after = port(alphaPort);
        long queue = after.path("drops").path("device-queue").asLong() - before.path("drops").path("device-queue").asLong();
        long counted = 0;
        for (var e : expected.entrySet()) {
            long drops = after.path("drops").path(e.getKey()).asLong() - before.path("drops").path(e.getKey()).asLong();
            assertTrue(drops <= e.getValue(), e.getKey() + ": " + drops + " drops for " + e.getValue() + " sent");
            if (queue == 0) {
                assertEquals((long) e.getValue(), drops, e.getKey() + " (alpha's own good frames are not among them)");
            }
            counted += drops;
        }
        assertTrue(counted + queue >= total, "each malformed frame was dropped under its reason or in the TAP's queue: "
                + counted + " + " + queue + " of " + total + ": " + after.path("drops"));
        assertTrue(daemon.isAlive());
        assertEquals(ip("beta"), ask("alpha", GATEWAY, "beta", "A").path("addresses").path(0).asText(),
                "and a good query is still answered");
    }

    @Test
    @Order(4)
    void anAddressGivenAgainToANewContainerIsAnnouncedSoItsNeighboursReachItAtOnce() throws Exception {
        String gammaIp = endpoints.get("gamma").path("ipv4").asText();
        assertTrue(netns.exec(20, ns.get("alpha"), "ping", "-c", "1", "-W", "2", ip("gamma")).ok());
        String cached = netns.must(10, ns.get("alpha"), "ip", "neigh", "show", ip("gamma"));
        assertTrue(cached.contains(endpoints.get("gamma").path("mac").asText()), cached);
        assertEquals(0, daemon.ctl("detach", "apps", "--name", "gamma").code());
        // A new container takes gamma's address (as Docker hands a freed one out again) with a MAC of its own.
        String delta = netns.create("nm-delta");
        Sh.Result r = daemon.ctl("attach", "apps", "--netns", "/var/run/netns/" + delta, "--name", "delta", "--ip", gammaIp);
        assertEquals(0, r.code(), r.toString());
        String deltaMac = JSON.readTree(r.out()).path("mac").asText();
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
        while (!netns.must(10, ns.get("alpha"), "ip", "neigh", "show", ip("gamma")).contains(deltaMac)
                && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(netns.must(10, ns.get("alpha"), "ip", "neigh", "show", ip("gamma")).contains(deltaMac),
                "alpha's cache has the new MAC, told by the switch's announcement");
        assertTrue(netns.exec(20, ns.get("alpha"), "ping", "-c", "1", "-W", "2", ip("gamma")).ok(), "and reaches delta");
        assertEquals(0, daemon.ctl("detach", "apps", "--name", "delta").code());
    }

    private JsonNode port(String name) throws Exception {
        for (JsonNode n : daemon.json("show").path("networks")) {
            for (JsonNode p : n.path("ports")) {
                if (p.path("name").asText().equals(name)) {
                    return p;
                }
            }
        }
        throw new AssertionError("no port " + name);
    }
}
