package io.vswitch.systest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.cluster.EtcdServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * etcd with authentication on and one user per host, as the README tells operators to set it up:
 * each host may write only its own host key ({@code hosts/HOST}) and the shared ranges
 * ({@code networks/}, {@code members/}, {@code endpoints/}, {@code addresses/}), and read the whole
 * prefix. Two hosts join and their containers ping each other; then host 2's credentials, used
 * as an attacker's, cannot write or delete host 1's host key, cannot revoke host 1's lease and
 * cannot put anything under it (etcd refuses a put under a lease holding a key the writer may not
 * write), so no key naming host 1 that the others accept; what is left to it (an unleased key
 * naming host 1) the daemons refuse, and host 1 writes its key back. Without credentials nothing
 * is written at all.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterRbacTest {
    private static final String ETCD = ClusterLab.ETCD;
    private static final String P = "/vswitch/rbac/";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ClusterLab lab;
    private Netns netns;
    private final String[] hosts = new String[3];
    private final Vswitchd[] daemons = new Vswitchd[3];
    private final String[] containers = new String[3];
    private EtcdGateway anonymous;
    private EtcdGateway root;

    private static String config(int i, Path password) {
        return """
                dataplane:
                  threads: 1
                vxlan:
                  local: 198.19.1.%d
                dns:
                  upstream: []
                cluster:
                  etcd: [http://%s:2379]
                  prefix: /vswitch/rbac
                  host: h%d
                  ttl: 4s
                  user: h%d
                  password-file: %s
                """.formatted(i, ETCD, i, i, password) + (i != 1 ? "" : """
                networks:
                  - name: rnet
                    vni: 62
                    subnet: 198.18.62.0/24
                """);
    }

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        assumeTrue(EtcdServer.available(), "needs etcd (apt-get install etcd-server)");
        lab = ClusterLab.start("r", 2);
        netns = lab.netns;
        System.arraycopy(lab.hosts, 1, hosts, 1, 2);
        anonymous = lab.gateway();
        enableAuth();
        root = anonymous.as("root", "root-pw");
        Path dir = Files.createTempDirectory("vswitch-rbac-");
        for (int i = 1; i <= 2; i++) {
            Path pw = dir.resolve("h" + i + ".password");
            Files.writeString(pw, "h" + i + "-pw\n");
            Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw-------"));
            daemons[i] = Vswitchd.start(hosts[i], Vswitchd.writeConfig(config(i, pw)),
                    Files.createTempDirectory("vswitchd-").resolve("vswitchd.sock"));
        }
        for (int i = 1; i <= 2; i++) {
            awaitHosts(daemons[i]);
        }
        for (int i = 1; i <= 2; i++) {
            containers[i] = netns.createQuiet("rc" + i);
            Sh.Result r = daemons[i].ctl("attach", "rnet", "--netns", "/run/netns/" + containers[i], "--name", "c" + i,
                    "--ip", "198.18.62.1" + i);
            assertEquals(0, r.code(), r.toString());
        }
    }

    /** Root, then one role and user per host: read the prefix, write its host key and the shared ranges. */
    private void enableAuth() throws Exception {
        anonymous.call("/v3/auth/user/add", JSON.createObjectNode().put("name", "root").put("password", "root-pw"));
        anonymous.call("/v3/auth/role/add", JSON.createObjectNode().put("name", "root"));
        anonymous.call("/v3/auth/user/grant", JSON.createObjectNode().put("user", "root").put("role", "root"));
        for (int i = 1; i <= 2; i++) {
            String role = "vswitch-h" + i;
            anonymous.call("/v3/auth/role/add", JSON.createObjectNode().put("name", role));
            grant(role, "READ", P, true);
            grant(role, "READWRITE", P + "hosts/h" + i, false);
            for (String shared : new String[] {"networks/", "members/", "endpoints/", "addresses/"}) {
                grant(role, "READWRITE", P + shared, true);
            }
            anonymous.call("/v3/auth/user/add", JSON.createObjectNode().put("name", "h" + i).put("password", "h" + i + "-pw"));
            anonymous.call("/v3/auth/user/grant", JSON.createObjectNode().put("user", "h" + i).put("role", role));
        }
        anonymous.call("/v3/auth/enable", JSON.createObjectNode());
    }

    private void grant(String role, String type, String key, boolean prefix) throws Exception {
        ObjectNode perm = JSON.createObjectNode().put("permType", type).put("key", EtcdGateway.b64(key));
        if (prefix) {
            byte[] end = key.getBytes(StandardCharsets.UTF_8);
            end[end.length - 1]++;
            perm.put("range_end", Base64.getEncoder().encodeToString(end));
        }
        ObjectNode req = JSON.createObjectNode().put("name", role);
        req.set("perm", perm);
        anonymous.call("/v3/auth/role/grant", req);
    }

    private static void awaitHosts(Vswitchd d) throws Exception {
        ClusterLab.await(d, "two hosts", c -> c.path("hosts").size() == 2, 20);
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

    private static void denied(String why, org.junit.jupiter.api.function.Executable write, String what) {
        EtcdGateway.EtcdRefused e = assertThrows(EtcdGateway.EtcdRefused.class, write, what);
        assertTrue(e.getMessage().contains(why), what + ": " + e.getMessage());
    }

    private boolean ping(int from, String ip) {
        return netns.exec(20, containers[from], "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", ip).ok();
    }

    @Test
    void eachHostWritesOnlyWhatItMayAndNoKeyNamingAnotherHostIsAccepted() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!(ping(1, "198.18.62.12") && ping(2, "198.18.62.11")) && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertTrue(ping(1, "198.18.62.12") && ping(2, "198.18.62.11"), "the hosts' containers reach each other");
        EtcdGateway h2 = anonymous.as("h2", "h2-pw");
        long h1Lease = root.lease(P + "hosts/h1");
        String mac1 = netns.must(10, containers[1], "cat", "/sys/class/net/eth0/address").trim();
        String endpoint = P + "endpoints/rnet/" + mac1;
        String mine = root.get(endpoint);
        assertTrue(mine.contains("\"h1\""), mine);

        denied("user name is empty", () -> anonymous.put(P + "junk/x", "{}"), "no credentials, no write");
        denied("permission denied", () -> h2.put(P + "hosts/h1", "{\"vtep\":\"198.19.1.2\"}"), "host 1's host key");
        denied("permission denied", () -> h2.delete(P + "hosts/h1"), "deleting it");
        denied("permission denied", () -> h2.put(P + "hosts/h9", "{\"vtep\":\"198.19.1.9\"}"),
                "a host writes its own host key, no other");
        denied("permission denied", () -> h2.put(endpoint, "{\"host\":\"h1\"}", h1Lease),
                "no put under host 1's lease: it holds hosts/h1, which h2 may not write");
        denied("permission denied", () -> h2.call("/v3/lease/revoke",
                JSON.createObjectNode().put("ID", Long.toString(h1Lease))), "nor revoke it");
        System.out.println("rbac: anonymous, hosts/h1, another host key, host 1's lease: all refused by etcd");

        // What h2 may still write: a shared key naming host 1, without host 1's lease. The daemons
        // refuse it (not under host 1's lease) and host 1 writes its own key back.
        h2.put(endpoint, "{\"host\":\"h2\"}");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!mine.equals(root.get(endpoint)) && System.nanoTime() < until) {
            Thread.sleep(50);
        }
        assertEquals(mine, root.get(endpoint), "host 1 wrote its endpoint back");
        assertTrue(ping(2, "198.18.62.11"), "c2 still reaches c1");
        for (int i = 1; i <= 2; i++) {
            assertTrue(daemons[i].log().contains("connected to etcd"), daemons[i].log());
        }
    }
}
