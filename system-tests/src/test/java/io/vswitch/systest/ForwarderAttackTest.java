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

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The DNS forwarder under attack from a container (issue 19 item 4): one that claims the
 * upstream resolver's address and answers the forwarder's questions itself, even knowing the
 * port and ID of each (the resolver tells it: the strongest attacker there is), and one that
 * floods the forwarder with questions nobody answers. Its neighbour never accepts a forged
 * answer, and its lookups keep coming back NOERROR.
 */
@Tag("hostile")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ForwarderAttackTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GATEWAY = "198.18.73.1";
    private static final String SW_UP = "198.19.73.1";
    private static final String RESOLVER = "198.19.73.53";
    private static final Path SCRIPT = Vswitchd.ROOT.resolve("system-tests/src/test/resources/dns_attack.py");

    private Netns netns;
    private String sw;
    private String attacker;
    private String victim;
    private Vswitchd daemon;
    private Path questions;
    private final List<Process> started = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        sw = netns.create("fasw");
        String res = netns.createQuiet("fa-res");
        Sh.must(10, "ip", "-n", sw, "link", "add", "up0", "type", "veth", "peer", "name", "res0", "netns", res);
        Sh.must(10, "ip", "-n", sw, "addr", "add", SW_UP + "/24", "dev", "up0");
        Sh.must(10, "ip", "-n", sw, "link", "set", "up0", "up");
        Sh.must(10, "ip", "-n", res, "addr", "add", RESOLVER + "/24", "dev", "res0");
        Sh.must(10, "ip", "-n", res, "link", "set", "res0", "up");
        questions = Files.createTempFile("vswitch-dns-questions", ".log");
        Process resolver = new ProcessBuilder("ip", "netns", "exec", res, "python3",
                Vswitchd.ROOT.resolve("system-tests/src/test/resources/slow_resolver.py").toString(), RESOLVER, questions.toString())
                .redirectErrorStream(true).start();
        started.add(resolver);
        String ready = new BufferedReader(new InputStreamReader(resolver.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertEquals("ready", ready, "the resolver listens");
        Path config = Vswitchd.writeConfig("""
                dataplane: {threads: 2, pin: false}
                metrics: {listen: off}
                dns: {upstream: ["%s"]}
                networks:
                  - {name: apps, subnet: 198.18.73.0/24, gateway-port: true, dns: true}
                """.formatted(RESOLVER));
        daemon = Vswitchd.start(sw, config, Files.createTempDirectory("vswitchd-fwd").resolve("vswitchd.sock"));
        attacker = netns.createQuiet("fa-att");
        victim = netns.createQuiet("fa-vic");
        for (String[] c : new String[][] {{attacker, "attacker"}, {victim, "victim"}}) {
            Sh.Result r = daemon.ctl("attach", "apps", "--netns", "/var/run/netns/" + c[0], "--name", c[1]);
            assertEquals(0, r.code(), r.toString());
        }
    }

    @AfterAll
    void stop() throws Exception {
        for (Process p : started) {
            p.destroyForcibly().waitFor();
        }
        if (daemon != null) {
            daemon.close();
        }
        if (netns != null) {
            netns.close();
        }
    }

    private Process script(String ns, java.util.Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns, "python3", SCRIPT.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        return p;
    }

    private static JsonNode result(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return JSON.readTree(out);
    }

    private JsonNode lookups(String prefix, int count, int intervalMs) throws Exception {
        return result(script(victim, java.util.Map.of(), "lookups", GATEWAY, prefix, String.valueOf(count), String.valueOf(intervalMs)));
    }

    private String spoofDrops() {
        return netns.exec(10, sw, "nft", "list", "chain", "inet", "vswitch", "prerouting").out().lines()
                .filter(l -> l.contains("spoofed source") && !l.contains("packets 0 ")).map(String::strip).toList().toString();
    }

    @Test
    @Order(1)
    void aContainerClaimingTheResolversAddressNeverGetsAForgedAnswerAccepted() throws Exception {
        // The attacker gives itself the resolver's address and answers from it, port 53.
        netns.must(10, attacker, "ip", "addr", "add", RESOLVER + "/32", "dev", "lo");
        int tries = 5;
        Process forger = script(attacker, java.util.Map.of("TARGET", SW_UP), "forge", RESOLVER, questions.toString(),
                String.valueOf(tries), "30");
        Thread.sleep(300); // the forger is watching the questions
        JsonNode seen = lookups("slow", tries, 100);
        JsonNode sent = result(forger);
        int forged = seen.path("addresses").path("198.18.73.66").asInt();
        int real = seen.path("addresses").path("198.18.73.200").asInt();
        System.out.printf("forwarder: forged answers accepted %d/%d (the real one %d/%d), %s forged datagrams sent with the"
                + " right port and ID; spoofed-source drops: %s%n", forged, tries, real, tries, sent.path("forged"), spoofDrops());
        assertTrue(sent.path("forged").asInt() >= tries, "the forger answered every question: " + sent);
        assertEquals(0, forged, "a forged answer was accepted: " + seen);
        assertEquals(tries, real, "the resolver's answers came through: " + seen);
        netns.must(10, attacker, "ip", "addr", "del", RESOLVER + "/32", "dev", "lo");
    }

    @Test
    @Order(2)
    void aContainerFloodingUnanswerableQuestionsLeavesItsNeighboursLookupsAnswered() throws Exception {
        JsonNode before = lookups("calm", 10, 50);
        assertEquals(10, before.path("noerror").asInt(), "baseline: " + before);
        Process flood = script(attacker, java.util.Map.of(), "flood", GATEWAY, "5000", "6");
        Thread.sleep(1000); // past the 4,096 a global bound alone would allow
        JsonNode during = lookups("busy", 40, 100);
        JsonNode attack = result(flood);
        System.out.printf("forwarder: under a flood of %s unanswerable questions (5,000/s) the neighbour's lookups: %s;"
                + " the attacker's answers: %s%n", attack.path("sent"), during, attack);
        assertTrue(attack.path("sent").asInt() > 20_000, "the flood ran: " + attack);
        assertEquals(0, during.path("refused").asInt(), "neighbour REFUSED: " + during);
        assertEquals(40, during.path("noerror").asInt(), "every neighbour lookup answered: " + during);
        assertTrue(attack.path("refused").asInt() > attack.path("sent").asInt() / 2, "the attacker is refused beyond its share: " + attack);
        assertTrue(daemon.log().contains("DNS questions refused by the forwarder"), "said in the log");
        assertTrue(daemon.isAlive());
    }
}
