package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A container's namespace deleted with its TAP inside (issue 19 item 7): the switch made the TAP
 * right in the namespace (attach, CNI ADD), so its fds held the namespace alive and nothing
 * failed. Now, while a neighbour pings another, the port goes down within seconds, is counted
 * and logged once, its fds are closed, the endpoint is shown gone, frames are no longer counted
 * as sent to it, and detach and CNI DEL still succeed.
 */
@Tag("hostile")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeletedNamespaceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Netns netns;
    private String sw;
    private Path socket;
    private Vswitchd daemon;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        sw = netns.create("dnsw");
        Path config = Vswitchd.writeConfig("""
                dataplane: {threads: 2, pin: false}
                metrics: {listen: off}
                dns: {upstream: []}
                networks:
                  - {name: apps, subnet: 198.18.74.0/24}
                """);
        socket = Files.createTempDirectory("vswitchd-delns").resolve("vswitchd.sock");
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

    private JsonNode attach(String ns, String name) throws Exception {
        Sh.Result r = daemon.ctl("attach", "apps", "--netns", "/var/run/netns/" + ns, "--name", name);
        assertEquals(0, r.code(), r.toString());
        return JSON.readTree(r.out());
    }

    /** Runs bin/vswitch-cni as a runtime would; returns its exit code and output. */
    private Sh.Result cni(String command, String container, String ns) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("ip", "netns", "exec", sw, Vswitchd.ROOT.resolve("bin/vswitch-cni").toString());
        Map<String, String> env = pb.environment();
        env.put("CNI_COMMAND", command);
        env.put("CNI_PATH", "/usr/lib/cni");
        env.put("CNI_CONTAINERID", container);
        env.put("CNI_NETNS", "/var/run/netns/" + ns);
        env.put("CNI_IFNAME", "eth0");
        Process p = pb.start();
        p.getOutputStream().write(("{\"cniVersion\":\"1.0.0\",\"name\":\"apps\",\"type\":\"vswitch-cni\",\"socket\":\"" + socket + "\"}")
                .getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return new Sh.Result(p.exitValue(), out, err);
    }

    private JsonNode port(String name) throws IOException {
        for (JsonNode n : daemon.json("show").path("networks")) {
            for (JsonNode p : n.path("ports")) {
                if (p.path("name").asText().equals(name)) {
                    return p;
                }
            }
        }
        throw new AssertionError("no port " + name);
    }

    private JsonNode endpoint(String id) throws IOException {
        for (JsonNode e : daemon.json("endpoints", "apps")) {
            if (e.path("id").asText().equals(id)) {
                return e;
            }
        }
        return null;
    }

    /** How many TAP queues the daemon holds open. */
    private long tapFds() throws IOException {
        try (var fds = Files.list(Path.of("/proc/" + daemon.pid() + "/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().equals("/dev/net/tun");
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        }
    }

    @Test
    void aNamespaceDeletedWithItsTapInsideTakesThePortDownWithinSecondsAndItsNeighboursLoseNothing() throws Exception {
        String n1 = netns.createQuiet("dn-n1");
        String n2 = netns.createQuiet("dn-n2");
        String doomed = netns.createQuiet("dn-att");
        String cniDoomed = netns.createQuiet("dn-cni");
        attach(n1, "n1");
        String ip2 = attach(n2, "n2").path("ipv4").asText().split("/")[0];
        JsonNode d = attach(doomed, "doomed");
        String doomedIp = d.path("ipv4").asText().split("/")[0];
        Sh.Result added = cni("ADD", "ctr1", cniDoomed);
        assertEquals(0, added.code(), added.toString());
        JsonNode c = endpoint("ctr1/eth0");
        assertTrue(c != null, "the CNI endpoint: " + daemon.json("endpoints", "apps"));
        assertTrue(netns.exec(20, n1, "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", doomedIp).ok(), "doomed answers first");
        assertEquals("up", endpoint("doomed").path("state").asText());
        // A witness: a veth pair's other end in the daemon's namespace goes when the doomed one is torn down.
        Sh.must(10, "ip", "-n", sw, "link", "add", "witness0", "type", "veth", "peer", "name", "w0", "netns", doomed);
        long fdsBefore = tapFds();
        long failuresBefore = daemon.json("stats").path("totals").path("port_failures").asLong();

        int count = 600;
        Process ping = new ProcessBuilder("ip", "netns", "exec", n1, "ping", "-c", String.valueOf(count), "-i", "0.01", "-W", "2", ip2)
                .redirectErrorStream(true).start();
        Thread.sleep(500);
        long deletedAt = System.nanoTime();
        netns.delete(doomed);
        netns.delete(cniDoomed);
        String doomedPort = d.path("port").asText();
        String cniPort = c.path("port").asText();
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!(port(doomedPort).path("state").asText().equals("down") && port(cniPort).path("state").asText().equals("down"))) {
            assertTrue(System.nanoTime() < deadline, "not down 20 s after the namespaces went: " + port(doomedPort) + port(cniPort));
            Thread.sleep(50);
        }
        double noticedS = (System.nanoTime() - deletedAt) / 1e9;
        while (Sh.run(10, "ip", "-n", sw, "link", "show", "witness0").ok() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        boolean torn = !Sh.run(10, "ip", "-n", sw, "link", "show", "witness0").ok();
        String out = new String(ping.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ping.waitFor();
        long replies = out.lines().filter(l -> l.contains("bytes from")).count();
        long fdsAfter = tapFds();
        JsonNode gone = endpoint("doomed");
        System.out.printf("deleted namespace: both ports down %.1f s after the namespaces went; neighbour ping %d/%d;"
                + " TAP fds %d -> %d; namespace torn down: %s; endpoint %s (%s)%n", noticedS, replies, count, fdsBefore, fdsAfter,
                torn, gone.path("state").asText(), gone.path("reason").asText());

        assertEquals(count, replies, "the neighbours lose nothing:\n" + out);
        assertTrue(port(doomedPort).path("reason").asText().contains("deleted"), port(doomedPort).toString());
        assertEquals(failuresBefore + 2, daemon.json("stats").path("totals").path("port_failures").asLong(), "counted");
        assertEquals("gone", gone.path("state").asText(), gone.toString());
        assertEquals("gone", endpoint("ctr1/eth0").path("state").asText());
        int queues = port(doomedPort).path("queues").asInt();
        assertEquals(fdsBefore - 2L * queues, fdsAfter, "both ports' TAP fds closed, so their namespaces can go");
        assertTrue(torn, "the deleted namespace was torn down (its veth witness went)");
        String log = daemon.log();
        assertEquals(1, log.split("port " + doomedPort + " ", -1).length - 1, "logged once:\n" + log);

        // Frames for it are dropped, not counted as sent (the switch still answers ARP for its address).
        long txBefore = port(doomedPort).path("counters").path("tx_frames").asLong();
        assertFalse(netns.exec(20, n1, "ping", "-c", "3", "-i", "0.2", "-W", "1", "-q", doomedIp).ok());
        assertEquals(txBefore, port(doomedPort).path("counters").path("tx_frames").asLong(), "nothing counted as sent to it");

        Sh.Result detached = daemon.ctl("detach", "apps", "--name", "doomed");
        assertEquals(0, detached.code(), detached.toString());
        Sh.Result deleted = cni("DEL", "ctr1", cniDoomed);
        assertEquals(0, deleted.code(), deleted.toString());
        List<String> left = daemon.json("endpoints", "apps").findValuesAsText("id");
        assertEquals(List.of("n1", "n2"), left);
        assertTrue(netns.exec(20, n1, "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", ip2).ok(), "and the rest forwards");
        assertTrue(daemon.isAlive());
    }
}
