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

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hostile writer with access to etcd, against three hosts (each a namespace with its own
 * vswitchd) on one underlay with one etcd, as {@link ClusterTest} builds them; network hnet is
 * defined in host 1's config and learned by the others, with a container on each host. Each
 * write of issue 20 is played with etcd's JSON gateway ({@link EtcdGateway}) while a container
 * pings one on another host: the hosts keep forwarding and heal (their own keys written back).
 * Times to heal are printed, not asserted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostileClusterTest {
    private static final int TTL = 4;
    private static final String ETCD = ClusterLab.ETCD;
    private static final String P = "/vswitch/hostile/";
    private static final String[] IPS = {null, "198.18.61.11", "198.18.61.12", "198.18.61.13"};

    private ClusterLab lab;
    private Netns netns;
    private final String[] hosts = new String[4];
    private final Vswitchd[] daemons = new Vswitchd[4];
    private final Path[] configs = new Path[4];
    private final Path[] sockets = new Path[4];
    private final String[] containers = new String[4];
    private final String[] macs = new String[4];
    private EtcdGateway gw;

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
                  prefix: /vswitch/hostile
                  host: h%d
                  ttl: %ds
                """.formatted(i, ETCD, i, TTL) + (i != 1 ? "" : """
                networks:
                  - name: hnet
                    vni: 61
                    subnet: 198.18.61.0/24
                """);
    }

    @BeforeAll
    void start() throws Exception {
        assumeReady();
        lab = ClusterLab.start("h", 3);
        netns = lab.netns;
        System.arraycopy(lab.hosts, 1, hosts, 1, 3);
        gw = lab.gateway();
        for (int i = 1; i <= 3; i++) {
            configs[i] = Vswitchd.writeConfig(config(i));
            sockets[i] = Files.createTempDirectory("vswitchd-").resolve("vswitchd.sock");
            daemons[i] = Vswitchd.start(hosts[i], configs[i], sockets[i]);
        }
        for (int i = 1; i <= 3; i++) {
            await(daemons[i], "three hosts and hnet", c -> c.path("hosts").size() == 3 && hasNetwork(c, "hnet"), 20);
        }
        for (int i = 1; i <= 3; i++) {
            containers[i] = netns.createQuiet("hc" + i);
            Sh.Result r = daemons[i].ctl("attach", "hnet", "--netns", "/run/netns/" + containers[i], "--name", "c" + i,
                    "--ip", IPS[i]);
            assertEquals(0, r.code(), r.toString());
            macs[i] = netns.must(10, containers[i], "cat", "/sys/class/net/eth0/address").trim();
        }
        for (int i = 1; i <= 3; i++) {
            await(daemons[i], "three hosts in hnet", c -> members(c, "hnet") == 3, 20);
        }
        for (int i = 1; i <= 3; i++) {
            int n = i;
            awaitTrue("c" + i + " reaches the others", () -> ping(n, IPS[n % 3 + 1]) && ping(n, IPS[(n + 1) % 3 + 1]), 20);
        }
    }

    private static void assumeReady() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Netns.available(), "system tests need root and iproute2");
        org.junit.jupiter.api.Assumptions.assumeTrue(EtcdServer.available(), "needs etcd (apt-get install etcd-server)");
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

    // ---- helpers -----------------------------------------------------------------------------

    private static JsonNode await(Vswitchd d, String what, java.util.function.Predicate<JsonNode> ok, int seconds)
            throws Exception {
        return ClusterLab.await(d, what, ok, seconds);
    }

    /** Waits for {@code ok}; returns the seconds it took (printed by callers, never asserted). */
    private static double awaitTrue(String what, BooleanSupplier ok, int seconds) throws Exception {
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(seconds);
        while (!ok.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + " not seen in " + seconds + " s");
            }
            Thread.sleep(50);
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static boolean hasNetwork(JsonNode cluster, String net) {
        for (JsonNode n : cluster.path("networks")) {
            if (n.path("name").asText().equals(net)) {
                return true;
            }
        }
        return false;
    }

    private static int members(JsonNode cluster, String net) {
        for (JsonNode n : cluster.path("networks")) {
            if (n.path("name").asText().equals(net)) {
                return n.path("hosts").size();
            }
        }
        return 0;
    }

    private static long refused(JsonNode cluster, String reason) {
        return cluster.path("refused").path(reason).asLong(0);
    }

    private boolean ping(int from, String ip) {
        return netns.exec(20, containers[from], "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", ip).ok();
    }

    /** Pings {@code ip} from container {@code from} every 0.2 s for {@code seconds}, in the background. */
    private CompletableFuture<Sh.Result> pings(int from, String ip, int seconds) {
        return CompletableFuture.supplyAsync(() -> netns.exec(seconds + 20, containers[from], "ping", "-c",
                Integer.toString(seconds * 5), "-i", "0.2", "-W", "1", "-q", ip));
    }

    private static int lost(Sh.Result r) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+) packets transmitted, (\\d+) received").matcher(r.out());
        return m.find() ? Integer.parseInt(m.group(1)) - Integer.parseInt(m.group(2)) : Integer.MAX_VALUE;
    }

    /** The VTEP host {@code i}'s table puts {@code mac} behind ("" for none, "local" on a local port). */
    private String vtepOf(int i, String mac) throws Exception {
        for (JsonNode e : daemons[i].json("fdb", "show", "hnet")) {
            if (e.path("mac").asText().equals(mac)) {
                return e.path("vtep").isMissingNode() || e.path("vtep").isNull() ? "local" : e.path("vtep").asText();
            }
        }
        return "";
    }

    private List<String> peers(int i) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode n : daemons[i].json("network", "list")) {
            if (n.path("name").asText().equals("hnet")) {
                n.path("peers").forEach(p -> out.add(p.asText()));
            }
        }
        return out;
    }

    private static void print(String what, double seconds) {
        System.out.printf(Locale.ROOT, "hostile etcd: %s in %.2f s%n", what, seconds);
    }

    // ---- the writes --------------------------------------------------------------------------

    @Test
    @Order(1)
    void aForgedEndpointNamingAnotherHostNeverMovesAContainersMac() throws Exception {
        String key = P + "endpoints/hnet/" + macs[1];
        String mine = gw.get(key);
        assertTrue(mine.contains("\"h1\""), mine);
        CompletableFuture<Sh.Result> pings = pings(3, IPS[1], 8);
        // Without a lease, then under h2's own lease (anyone can read a key's lease and use it).
        gw.put(key, "{\"host\":\"h2\",\"ip\":\"" + IPS[1] + "/24\"}");
        print("unleased forged endpoint written back by its owner", awaitTrue("h1's value back", () -> {
            try {
                return mine.equals(gw.get(key));
            } catch (Exception e) {
                return false;
            }
        }, 10));
        gw.put(key, "{\"host\":\"h2\",\"ip\":\"" + IPS[1] + "/24\"}", gw.lease(P + "hosts/h2"));
        print("forged endpoint under h2's lease written back by its owner", awaitTrue("h1's value back", () -> {
            try {
                return mine.equals(gw.get(key));
            } catch (Exception e) {
                return false;
            }
        }, 10));
        Sh.Result r = pings.get(60, TimeUnit.SECONDS);
        System.out.println("hostile etcd: c3 -> c1 across the forged endpoints: " + lost(r) + " of 40 pings lost");
        assertTrue(lost(r) <= 10, "c3 keeps reaching c1: " + r);
        for (int i = 2; i <= 3; i++) {
            int n = i;
            awaitTrue("host " + i + " has c1's MAC behind h1", () -> {
                try {
                    return vtepOf(n, macs[1]).equals("198.19.1.1");
                } catch (Exception e) {
                    return false;
                }
            }, 10);
        }
        assertEquals("local", vtepOf(1, macs[1]), "c1's own host never moved it");
        assertTrue(refused(daemons[3].json("cluster", "show"), "lease") >= 1, "host 3 refused the unleased value");
        assertTrue(refused(daemons[1].json("cluster", "show"), "ours") >= 1, "host 1 saw its key overwritten");
        assertTrue(ping(3, IPS[1]));
    }

    @Test
    @Order(2)
    void deletedHostMemberAndAddressKeysLingerAreWrittenBackAndTheAddressIsNotGivenOutMeanwhile() throws Exception {
        String[] keys = {P + "hosts/h2", P + "members/hnet/h2", P + "addresses/hnet/" + IPS[2]};
        for (String k : keys) {
            assertTrue(gw.get(k) != null, k);
        }
        // h2 frozen (well within its lease), so that it cannot write its keys back: host 1 must hold on by itself.
        String extra = netns.createQuiet("hcx");
        Sh.must(5, "kill", "-STOP", Long.toString(daemons[2].pid()));
        try {
            for (String k : keys) {
                gw.delete(k);
            }
            io.vswitch.control.ControlClient api = new io.vswitch.control.ControlClient(sockets[1]);
            try {
                api.attach("hnet", new io.vswitch.control.Requests.Attach("/run/netns/" + extra, null, null, "cx", null,
                        IPS[2], null, null, null, null, null, null, null, null));
                throw new AssertionError("host 1 gave out h2's address " + IPS[2] + " while h2's claim was deleted");
            } catch (io.vswitch.control.ControlException e) {
                assertTrue(e.getMessage().contains("in use by an endpoint of another host"), e.getMessage());
            }
            assertEquals(List.of("198.19.1.2", "198.19.1.3"), peers(1), "h2 is still host 1's peer");
        } finally {
            Sh.must(5, "kill", "-CONT", Long.toString(daemons[2].pid()));
        }
        print("deleted hosts/, members/ and addresses/ keys written back by their owner (after it was thawed)",
                awaitTrue("h2's keys back", () -> all(keys), 10));
        netns.delete(extra);
        // And with h2 running: the pings go on.
        CompletableFuture<Sh.Result> pings = pings(1, IPS[2], 5);
        Thread.sleep(1000);
        for (String k : keys) {
            gw.delete(k);
        }
        print("deleted hosts/, members/ and addresses/ keys written back by their owner", awaitTrue("h2's keys back",
                () -> all(keys), 10));
        Sh.Result r = pings.get(60, TimeUnit.SECONDS);
        System.out.println("hostile etcd: c1 -> c2 across the deletes: " + lost(r) + " of 25 pings lost");
        assertEquals(0, lost(r), "c1 keeps reaching c2: " + r);
        assertEquals(List.of("198.19.1.2", "198.19.1.3"), peers(1));
    }

    private boolean all(String[] keys) {
        try {
            for (String k : keys) {
                if (gw.get(k) == null) {
                    return false;
                }
            }
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    @Order(3)
    void vtepsThatAreNotUnicastAddressesOfTheUnderlayOrAreOursNeverBecomePeers() throws Exception {
        CompletableFuture<Sh.Result> pings = pings(2, IPS[3], 5);
        long lease = gw.grant(60);
        String[] bad = {"127.0.0.1", "0.0.0.0", "255.255.255.255", "224.0.0.5", "10.9.9.9", "198.19.1.255"};
        for (int i = 0; i < bad.length; i++) {
            gw.put(P + "hosts/evil" + i, "{\"vtep\":\"" + bad[i] + "\",\"port\":4789}", lease);
            gw.put(P + "members/hnet/evil" + i, "{}", lease);
        }
        // Host 1's own VTEP, named by another host.
        gw.put(P + "hosts/evil-own", "{\"vtep\":\"198.19.1.1\",\"port\":4789}", lease);
        gw.put(P + "members/hnet/evil-own", "{}", lease);
        JsonNode c1 = await(daemons[1], "the bad VTEPs refused", c -> refused(c, "vtep") >= 4
                && refused(c, "vtep_underlay") >= 1 && refused(c, "vtep_ours") >= 1, 10);
        System.out.println("hostile etcd: host 1 refused " + c1.path("refused"));
        for (int i = 1; i <= 3; i++) {
            List<String> peers = peers(i);
            for (String b : bad) {
                assertFalse(peers.contains(b), "host " + i + " floods to " + b + ": " + peers);
            }
            assertFalse(i == 1 && peers.contains("198.19.1.1"), "host 1 floods to itself");
        }
        Sh.Result r = pings.get(60, TimeUnit.SECONDS);
        assertEquals(0, lost(r), "c2 keeps reaching c3: " + r);
        gw.deletePrefix(P + "hosts/evil");
        gw.deletePrefix(P + "members/hnet/evil");
    }

    @Test
    @Order(4)
    void anEndpointWhoseAddressIsNotClaimedByItsHostIsNeverAnswered() throws Exception {
        long h2 = gw.lease(P + "hosts/h2");
        // c3's address, and one no host claimed, put behind h2 under h2's own lease.
        gw.put(P + "endpoints/hnet/02:00:00:00:00:99", "{\"host\":\"h2\",\"ip\":\"" + IPS[3] + "/24\"}", h2);
        gw.put(P + "endpoints/hnet/02:00:00:00:00:98", "{\"host\":\"h2\",\"ip\":\"198.18.61.77/24\"}", h2);
        await(daemons[1], "the claim mismatch refused", c -> refused(c, "claim") >= 1, 10);
        Thread.sleep(500);
        netns.exec(10, containers[1], "ip", "neigh", "flush", "all");
        assertTrue(ping(1, IPS[3]), "c1 still reaches c3 by its address");
        String neigh = netns.must(10, containers[1], "ip", "neigh", "show", IPS[3]);
        assertTrue(neigh.contains(macs[3]), "ARP for c3 answered with c3's MAC: " + neigh);
        netns.exec(10, containers[1], "ping", "-c", "1", "-W", "1", "198.18.61.77");
        String none = netns.must(10, containers[1], "ip", "neigh", "show", "198.18.61.77");
        assertFalse(none.contains("02:00:00:00:00:98"), "an unclaimed address is never answered: " + none);
        // h2 deletes what names it and it did not write (once its lease's time passed since its start)
        awaitTrue("h2 deleted the forged endpoints", () -> {
            try {
                return gw.get(P + "endpoints/hnet/02:00:00:00:00:99") == null
                        && gw.get(P + "endpoints/hnet/02:00:00:00:00:98") == null;
            } catch (Exception e) {
                return false;
            }
        }, 15);
        assertTrue(refused(daemons[2].json("cluster", "show"), "forged_self") >= 2);
    }

    @Test
    @Order(5)
    void aNetworkDeletedFromTheClusterWhileContainersUseItIsCreatedAgain() throws Exception {
        CompletableFuture<Sh.Result> pings = pings(1, IPS[3], 6);
        String spec = gw.get(P + "networks/hnet");
        long t0 = System.nanoTime();
        gw.delete(P + "networks/hnet");
        awaitTrue("networks/hnet back", () -> {
            try {
                return gw.get(P + "networks/hnet") != null;
            } catch (Exception e) {
                return false;
            }
        }, 10);
        print("a deleted network in use created again", (System.nanoTime() - t0) / 1e9);
        Sh.Result r = pings.get(60, TimeUnit.SECONDS);
        assertEquals(0, lost(r), "c1 keeps reaching c3: " + r);
        for (int i = 1; i <= 3; i++) {
            assertTrue(daemons[i].ctl("network", "list").out().contains("hnet"), "host " + i + " kept hnet");
            assertTrue(daemons[i].log().contains("was deleted from the cluster while this host"), "host " + i + " said why");
        }
        assertTrue(gw.get(P + "networks/hnet").contains("\"vni\":61"), spec);
        // A delete through the API while other hosts use it is refused, and changes nothing.
        Sh.Result del = daemons[3].ctl("network", "del", "hnet");
        assertNotEquals(0, del.code());
        assertTrue(del.err().contains("in use on 2 other hosts"), del.toString());
        assertTrue(daemons[3].ctl("network", "list").out().contains("hnet"));
    }

    @Test
    @Order(6)
    void junkKeysCostACounterEachNotAWarn() throws Exception {
        int warnsBefore = count(daemons[2].log(), "WARN");
        double cpu0 = daemons[2].cpuSeconds();
        List<String[]> junk = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            junk.add(new String[] {P + (i % 2 == 0 ? "junk/" + i : "hosts/bad" + i), i % 2 == 0 ? "{}" : "not json " + i});
        }
        gw.putAll(junk, 0);
        JsonNode c = await(daemons[2], "2,000 refusals", x -> refused(x, "key") + refused(x, "json") >= 2000, 30);
        double cpu = daemons[2].cpuSeconds() - cpu0;
        int warns = count(daemons[2].log(), "WARN") - warnsBefore;
        System.out.printf(Locale.ROOT, "hostile etcd: 2,000 junk keys cost host 2 %.3f s CPU (%.3f ms a key, the"
                + " `cluster show` polls included) and %d WARN lines%n", cpu, cpu * 1000 / 2000, warns);
        assertTrue(warns <= 4, warns + " WARN lines for 2,000 junk keys:\n" + daemons[2].log());
        assertTrue(c.path("refusedKeys").asInt() >= 2000);
        gw.deletePrefix(P + "junk/");
        gw.deletePrefix(P + "hosts/bad");
    }

    private static int count(String text, String word) {
        int n = 0;
        for (int i = text.indexOf(word); i >= 0; i = text.indexOf(word, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    @Order(7)
    void aHostRestartsAndJoinsWithMoreThanFourMebibytesUnderThePrefix() throws Exception {
        long lease = gw.grant(600);
        List<String[]> bulk = new ArrayList<>();
        String pad = "x".repeat(60);
        for (int i = 0; i < 40_000; i++) {
            bulk.add(new String[] {P + "addresses/bulk/10." + (i >> 16) + "." + ((i >> 8) & 255) + "." + (i & 255),
                    "{\"host\":\"bulk\",\"pad\":\"" + pad + "\"}"});
        }
        long t0 = System.nanoTime();
        gw.putAll(bulk, lease);
        System.out.printf(Locale.ROOT, "hostile etcd: 40,000 keys (~5 MB) written in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        daemons[3].kill9();
        daemons[3] = Vswitchd.start(hosts[3], configs[3], sockets[3]);
        long t1 = System.nanoTime();
        await(daemons[3], "host 3 joined", c -> c.path("status").path("connected").asBoolean() && c.path("hosts").size() == 3, 30);
        print("host 3 restarted and joined with 40,000 keys under the prefix", (System.nanoTime() - t1) / 1e9);
        assertFalse(daemons[3].log().contains("RESOURCE_EXHAUSTED"), daemons[3].log());
        awaitTrue("c3 reaches c1 and c2 after the restart", () -> ping(3, IPS[1]) && ping(3, IPS[2]), 30);
        assertTrue(daemons[3].ctl("network", "list").out().contains("hnet"), "the state file kept hnet");
        gw.deletePrefix(P + "addresses/bulk/");
        assertNull(gw.get(P + "addresses/bulk/10.0.0.1"));
    }
}
