package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import io.vswitch.cluster.EtcdServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Three hosts, each a namespace with its own vswitchd, on one underlay (a Linux bridge in a
 * namespace of its own, 198.19.1.0/24), with one etcd on that underlay (198.19.1.100). Networks
 * are created on one host and appear on all; containers on all three reach each other; a dead
 * host leaves within its lease; etcd going away stops nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTest {
    private static final int TTL = 4;
    private static final String ETCD = ClusterLab.ETCD;

    private ClusterLab lab;
    private Netns netns;
    private final String[] hosts = new String[4];
    private final Vswitchd[] daemons = new Vswitchd[4];
    private final Path[] configs = new Path[4];
    private final Path[] sockets = new Path[4];
    private final String[] containers = new String[8];
    private EtcdServer etcd;

    private static String config(int i) {
        return """
                dataplane:
                  threads: 1
                vxlan:
                  local: 198.19.1.%d
                dns:
                  upstream: []
                cluster:
                  etcd: [http://%s:2379]
                  prefix: /vswitch/test
                  host: h%d
                  ttl: %ds
                """.formatted(i, ETCD, i, TTL);
    }

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        assumeTrue(EtcdServer.available(), "needs etcd (apt-get install etcd-server)");
        lab = ClusterLab.start("c", 3);
        netns = lab.netns;
        etcd = lab.etcd;
        System.arraycopy(lab.hosts, 1, hosts, 1, 3);
        for (int i = 1; i <= 3; i++) {
            configs[i] = Vswitchd.writeConfig(config(i));
            sockets[i] = java.nio.file.Files.createTempDirectory("vswitchd-").resolve("vswitchd.sock");
            daemons[i] = Vswitchd.start(hosts[i], configs[i], sockets[i]);
        }
        for (int i = 1; i <= 3; i++) {
            int n = i;
            await(daemons[i], "three hosts", c -> c.path("hosts").size() == 3, 15);
        }
    }

    @AfterAll
    void stop() throws Exception {
        for (Vswitchd d : daemons) {
            if (d != null) {
                d.close();
            }
        }
        if (lab != null) {
            lab.close();
        }
    }

    private static JsonNode await(Vswitchd d, String what, Predicate<JsonNode> ok, int seconds) throws Exception {
        return ClusterLab.await(d, what, ok, seconds);
    }

    private static boolean hasNetwork(JsonNode cluster, String net, int members) {
        for (JsonNode n : cluster.path("networks")) {
            if (n.path("name").asText().equals(net)) {
                return n.path("hosts").size() >= members;
            }
        }
        return false;
    }

    private static boolean hasHost(JsonNode cluster, String host) {
        for (JsonNode h : cluster.path("hosts")) {
            if (h.path("name").asText().equals(host)) {
                return true;
            }
        }
        return false;
    }

    private static List<String> peers(Vswitchd d, String net) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode n : d.json("network", "list")) {
            if (n.path("name").asText().equals(net)) {
                n.path("peers").forEach(p -> out.add(p.asText()));
            }
        }
        return out;
    }

    private void attach(int host, int c, String ip) {
        containers[c] = netns.createQuiet("cc" + c);
        Sh.Result r = daemons[host].ctl("attach", "cnet", "--netns", "/run/netns/" + containers[c], "--name", "c" + c,
                "--ip", ip);
        assertEquals(0, r.code(), r.toString());
    }

    private boolean ping(int from, String ip) {
        return netns.exec(20, containers[from], "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", ip).ok();
    }

    @Test
    @Order(1)
    void aNetworkCreatedOnOneHostAppearsOnAllAndTheirContainersReachEachOther() throws Exception {
        Sh.Result r = daemons[1].ctl("network", "add", "cnet", "--vni", "60", "--subnet", "198.18.60.0/24");
        assertEquals(0, r.code(), r.toString());
        for (int i = 2; i <= 3; i++) {
            await(daemons[i], "cnet", c -> hasNetwork(c, "cnet", 0), 10);
        }
        attach(1, 1, "198.18.60.11");
        attach(2, 2, "198.18.60.12");
        attach(3, 3, "198.18.60.13");
        for (int i = 1; i <= 3; i++) {
            await(daemons[i], "three hosts in cnet", c -> hasNetwork(c, "cnet", 3), 10);
        }
        assertEquals(List.of("198.19.1.2", "198.19.1.3"), peers(daemons[1], "cnet"));
        String[] ips = {null, "198.18.60.11", "198.18.60.12", "198.18.60.13"};
        for (int from = 1; from <= 3; from++) {
            for (int to = 1; to <= 3; to++) {
                if (from != to) {
                    assertTrue(ping(from, ips[to]), "c" + from + " -> c" + to);
                }
            }
        }
        // an address another host's endpoint holds is refused here
        String extra = netns.createQuiet("ccx");
        Sh.Result taken = daemons[1].ctl("attach", "cnet", "--netns", "/run/netns/" + extra, "--name", "cx", "--ip",
                "198.18.60.12");
        assertNotEquals(0, taken.code());
        assertTrue(taken.err().contains("in use by an endpoint of another host"), taken.toString());
    }

    @Test
    @Order(6)
    void twoHostsAttachingAtOnceNeverHandOutTheSameAddress() throws Exception {
        String[] ips = new String[2];
        for (int round = 0; round < 3; round++) {
            int c1 = 5;
            int c2 = 6;
            int r = round;
            containers[c1] = netns.createQuiet("cc5r" + round);
            containers[c2] = netns.createQuiet("cc6r" + round);
            CompletableFuture<JsonNode> a = CompletableFuture.supplyAsync(() -> attachJson(1, c1, "c5r" + r));
            CompletableFuture<JsonNode> b = CompletableFuture.supplyAsync(() -> attachJson(2, c2, "c6r" + r));
            ips[0] = a.get(60, TimeUnit.SECONDS).path("ipv4").asText();
            ips[1] = b.get(60, TimeUnit.SECONDS).path("ipv4").asText();
            assertNotEquals(ips[0], ips[1], "round " + round);
            assertTrue(ping(c1, ips[1].split("/")[0]), "c5 -> c6 in round " + round);
        }
    }

    private JsonNode attachJson(int host, int c, String name) {
        Sh.Result r = daemons[host].ctl("attach", "cnet", "--netns", "/run/netns/" + containers[c], "--name", name);
        if (!r.ok()) {
            throw new AssertionError(r.toString());
        }
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    @Order(2)
    void knownUnicastIsNeverFloodedToTheThirdHostAndArpIsAnsweredLocally() throws Exception {
        String mac2 = netns.must(10, containers[2], "cat", "/sys/class/net/eth0/address").trim();
        boolean staticOnTunnel = false;
        for (JsonNode e : daemons[1].json("fdb", "show", "cnet")) {
            if (e.path("mac").asText().equals(mac2)) {
                staticOnTunnel = e.path("type").asText().equals("static") && e.path("vtep").asText().equals("198.19.1.2");
            }
        }
        assertTrue(staticOnTunnel, "c2's MAC is a static entry on host 1's tunnel to host 2");
        netns.exec(10, containers[1], "ip", "neigh", "flush", "all");
        try (Capture third = Capture.start(hosts[3], "u3", "udp port 4789")) {
            assertTrue(netns.exec(20, containers[1], "ping", "-c", "5", "-i", "0.2", "-W", "2", "-q", "198.18.60.12").ok());
            List<String> seen = third.stop();
            assertEquals(List.of(), seen.stream().filter(l -> l.contains("ICMP") || l.contains("ARP")).toList(),
                    "host 3 saw c1 -> c2 traffic or its ARP");
        }
    }

    @Test
    @Order(3)
    void aKilledHostLeavesEveryTableWithinItsLeaseAndRejoinsOnRestart() throws Exception {
        long t0 = System.nanoTime();
        daemons[3].kill9();
        // Watched through each daemon's metrics (curl, every 50 ms): a vswitchctl per look would
        // add its own start-up to what is measured.
        double[] gone = new double[3];
        long deadline = t0 + TimeUnit.SECONDS.toNanos(TTL + 5);
        while ((gone[1] == 0 || gone[2] == 0) && System.nanoTime() < deadline) {
            for (int i = 1; i <= 2; i++) {
                if (gone[i] == 0 && netns.exec(5, hosts[i], "curl", "-s", "http://127.0.0.1:9477/metrics").out()
                        .contains("vswitch_cluster_hosts 2.0")) {
                    gone[i] = (System.nanoTime() - t0) / 1e9;
                }
            }
            Thread.sleep(50);
        }
        for (int i = 1; i <= 2; i++) {
            assertTrue(gone[i] > 0 && gone[i] <= TTL + 1, "h3 left host " + i + "'s view in " + gone[i] + " s (lease "
                    + TTL + " s)");
            int n = i;
            await(daemons[i], "h3 gone", c -> !hasHost(c, "h3"), 5);
        }
        assertEquals(List.of("198.19.1.2"), peers(daemons[1], "cnet"));
        String mac3 = netns.must(10, containers[3], "cat", "/sys/class/net/eth0/address").trim();
        for (JsonNode e : daemons[1].json("fdb", "show", "cnet")) {
            assertFalse(e.path("mac").asText().equals(mac3) && e.path("type").asText().equals("static"),
                    "c3's static entry went with its host");
        }
        daemons[3] = Vswitchd.start(hosts[3], configs[3], sockets[3]);
        await(daemons[1], "h3 back in cnet", c -> hasHost(c, "h3") && hasNetwork(c, "cnet", 3), 15);
        assertTrue(ping(1, "198.18.60.13"), "c1 -> c3 after host 3 restarted");
        assertTrue(ping(3, "198.18.60.12"), "c3 -> c2 after host 3 restarted");
    }

    @Test
    @Order(4)
    void etcdAwayLosesNoPingAndAPortAddedMeanwhileArrivesWhenItReturns() throws Exception {
        CompletableFuture<Sh.Result> pings = CompletableFuture.supplyAsync(() -> netns.exec(60, containers[1], "ping",
                "-c", "100", "-i", "0.2", "-W", "2", "-q", "198.18.60.12"));
        Thread.sleep(500);
        etcd.stop();
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(10);
        boolean seen = false;
        while (!seen && System.nanoTime() < deadline) {
            seen = !daemons[1].json("show").path("cluster").path("connected").asBoolean(true);
            Thread.sleep(200);
        }
        assertTrue(seen, "show says etcd is unreachable");
        String metrics = netns.must(10, hosts[1], "curl", "-s", "http://127.0.0.1:9477/metrics");
        assertTrue(metrics.contains("vswitch_cluster_connected 0.0"), "metrics: cluster_connected 0");
        attach(2, 4, "198.18.60.14");
        long down = TimeUnit.SECONDS.toMillis(10) - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        Thread.sleep(Math.max(0, down));
        etcd.start();
        // 20 s of pings: the outage and the 10 s after etcd returns, when every host's lease
        // must be kept alive again before it runs out (else its tunnels would go for a while).
        Sh.Result r = pings.get(60, TimeUnit.SECONDS);
        assertTrue(r.out().contains(" 0% packet loss"), "pings across the outage and after: " + r);
        assertTrue(daemons[1].log().contains("unreachable"), "the loss was logged");
        await(daemons[1], "c4 from host 2 after etcd returned", c -> {
            for (JsonNode h : c.path("hosts")) {
                if (h.path("name").asText().equals("h2")) {
                    return h.path("endpoints").asInt() >= 2;
                }
            }
            return false;
        }, 20);
        assertTrue(ping(1, "198.18.60.14"), "c1 -> c4");
        assertTrue(daemons[1].json("show").path("cluster").path("connected").asBoolean());
    }

    @Test
    @Order(5)
    void twoHostsCreatingOneNetworkAtOnceGetExactlyOneWinner() throws Exception {
        CompletableFuture<Sh.Result> a = CompletableFuture.supplyAsync(() -> daemons[1].ctl("network", "add", "rnet",
                "--vni", "70"));
        CompletableFuture<Sh.Result> b = CompletableFuture.supplyAsync(() -> daemons[2].ctl("network", "add", "rnet",
                "--vni", "71"));
        Sh.Result ra = a.get(60, TimeUnit.SECONDS);
        Sh.Result rb = b.get(60, TimeUnit.SECONDS);
        assertTrue(ra.ok() != rb.ok(), "exactly one wins:\n" + ra + "\n" + rb);
        Sh.Result loser = ra.ok() ? rb : ra;
        // Refused by etcd's compare-create, or (when the winner's network arrived through the
        // watch before the call) by this host's own registry.
        assertTrue(loser.err().contains("already has a network rnet with other settings")
                || loser.err().contains("network \"rnet\" exists already"), loser.toString());
        int vni = ra.ok() ? 70 : 71;
        for (int i = 1; i <= 3; i++) {
            Vswitchd d = daemons[i];
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            Integer got = null;
            while (got == null && System.nanoTime() < deadline) {
                for (JsonNode n : d.json("network", "list")) {
                    if (n.path("name").asText().equals("rnet")) {
                        got = n.path("vni").asInt();
                    }
                }
                Thread.sleep(100);
            }
            assertEquals(vni, got, "host " + i + " has the winner's rnet");
        }
        assertEquals(0, daemons[3].ctl("network", "del", "rnet").code());
        for (int i = 1; i <= 2; i++) {
            await(daemons[i], "rnet gone", c -> !hasNetwork(c, "rnet", 0), 10);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (daemons[i].ctl("network", "list").out().contains("rnet") && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertFalse(daemons[i].ctl("network", "list").out().contains("rnet"), "host " + i + " removed rnet");
        }
        Sh.Result refused = daemons[1].ctl("network", "set", "cnet", "--peer", "198.19.1.9");
        assertTrue(refused.err().contains("takes its peers from the cluster"), refused.toString());
    }
}
