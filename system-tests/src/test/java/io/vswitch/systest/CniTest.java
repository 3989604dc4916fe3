package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * bin/vswitch-cni run exactly as a runtime runs it: in the runtime's namespace, the CNI_*
 * variables set, the configuration on stdin, every verb; with the switch's own IPAM and with
 * Debian's host-local delegated; chained with Debian's portmap (a published port answers); and
 * every kind of bad input answered with the spec's error JSON and code.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CniTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path PLUGIN = Vswitchd.ROOT.resolve("bin/vswitch-cni");
    private static final String CNI_PATH = Vswitchd.ROOT.resolve("bin") + ":/usr/lib/cni";

    private Netns netns;
    private String sw;
    private Path socket;
    private Path config;
    private Path work;
    private Vswitchd daemon;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        assumeTrue(Files.isExecutable(Path.of("/usr/lib/cni/host-local")), "Debian's containernetworking-plugins");
        netns = new Netns();
        sw = netns.create("cnisw");
        work = Files.createTempDirectory("vswitch-cni");
        config = Vswitchd.writeConfig("""
                dataplane: {threads: 1, pin: false}
                metrics: {listen: off}
                networks:
                  - name: cnet
                    subnet: 198.18.66.0/24
                    gateway-port: true
                  - name: hnet
                    gateway-port: false
                """);
        socket = work.resolve("vswitchd.sock");
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

    /** What one plugin run said: its exit code and its JSON (null when it printed nothing). */
    record Run(int code, JsonNode json, String raw) {
    }

    private Run run(Path plugin, String command, String container, String ns, String ifname, String config) throws Exception {
        List<String> cmd = List.of("ip", "netns", "exec", sw, plugin.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        Map<String, String> env = pb.environment();
        env.put("CNI_COMMAND", command);
        env.put("CNI_PATH", CNI_PATH);
        if (container != null) {
            env.put("CNI_CONTAINERID", container);
        }
        if (ns != null) {
            env.put("CNI_NETNS", "/var/run/netns/" + ns);
        }
        if (ifname != null) {
            env.put("CNI_IFNAME", ifname);
        }
        Process p = pb.start();
        p.getOutputStream().write(config.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Run(p.exitValue(), out.isBlank() ? null : JSON.readTree(out), out);
    }

    private Run cni(String command, String container, String ns, String ifname, String config) throws Exception {
        return run(PLUGIN, command, container, ns, ifname, config);
    }

    private String conf(String version, String network, String extra) {
        return "{\"cniVersion\":\"" + version + "\",\"name\":\"" + network + "\",\"type\":\"vswitch-cni\",\"socket\":\""
                + socket + "\"" + extra + "}";
    }

    private static void assertError(Run r, int code, String words) {
        assertEquals(1, r.code(), r.raw());
        assertEquals(code, r.json().path("code").asInt(), r.raw());
        assertTrue(r.json().path("msg").asText().contains(words) || r.json().path("details").asText().contains(words), r.raw());
        assertTrue(r.json().has("cniVersion"), r.raw());
    }

    @Test
    @Order(1)
    void everyVerbWithTheSwitchsOwnAddresses() throws Exception {
        String ns = netns.createQuiet("cni-a");
        String config = conf("1.1.0", "cnet", "");
        Run version = cni("VERSION", null, null, null, "{\"cniVersion\":\"1.1.0\"}");
        assertEquals(0, version.code(), version.raw());
        assertTrue(version.json().path("supportedVersions").toString().contains("1.0.0")
                && version.json().path("supportedVersions").toString().contains("1.1.0"), version.raw());
        assertEquals(0, cni("STATUS", null, null, null, config).code());

        Run add = cni("ADD", "ctr-a", ns, "eth0", config);
        assertEquals(0, add.code(), add.raw());
        JsonNode result = add.json();
        assertEquals("1.1.0", result.path("cniVersion").asText());
        assertEquals("eth0", result.path("interfaces").get(0).path("name").asText());
        assertEquals("/var/run/netns/" + ns, result.path("interfaces").get(0).path("sandbox").asText());
        String address = result.path("ips").get(0).path("address").asText();
        assertTrue(address.startsWith("198.18.66.") && address.endsWith("/24"), result.toString());
        assertEquals("198.18.66.1", result.path("ips").get(0).path("gateway").asText());
        assertEquals(0, result.path("ips").get(0).path("interface").asInt());
        assertTrue(netns.exec(20, ns, "ping", "-c", "2", "-W", "2", "-q", "198.18.66.1").ok(), "the container reaches its gateway");

        ObjectNode withPrev = (ObjectNode) JSON.readTree(config);
        withPrev.set("prevResult", result);
        assertEquals(0, cni("CHECK", "ctr-a", ns, "eth0", withPrev.toString()).code());
        ObjectNode wrong = withPrev.deepCopy();
        ((ObjectNode) wrong.path("prevResult").path("interfaces").get(0)).put("mac", "02:00:00:00:00:99");
        assertError(cni("CHECK", "ctr-a", ns, "eth0", wrong.toString()), 100, "MAC");

        assertError(cni("ADD", "ctr-a", ns, "eth0", config), 7, "already attached");
        assertEquals(0, cni("DEL", "ctr-a", ns, "eth0", withPrev.toString()).code());
        assertTrue(netns.taps(ns).isEmpty());
        assertEquals(0, cni("DEL", "ctr-a", ns, "eth0", config).code(), "DEL again: still success");
        assertEquals(0, cni("DEL", "ctr-a", null, "eth0", config).code(), "DEL without a netns: success");
    }

    @Test
    @Order(2)
    void hostLocalDelegatedAsTheSpecSays() throws Exception {
        String ns = netns.createQuiet("cni-h");
        Path data = work.resolve("host-local");
        String config = conf("1.0.0", "hnet", ",\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"198.18.67.0/24\"}]],"
                + "\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dataDir\":\"" + data + "\"}");
        Run add = cni("ADD", "ctr-h", ns, "eth0", config);
        assertEquals(0, add.code(), add.raw());
        assertEquals("198.18.67.2/24", add.json().path("ips").get(0).path("address").asText());
        assertEquals("198.18.67.1", add.json().path("ips").get(0).path("gateway").asText());
        assertTrue(netns.must(10, ns, "ip", "route").contains("default via 198.18.67.1"));
        assertTrue(Files.exists(data.resolve("hnet/198.18.67.2")), "host-local holds the address");
        ObjectNode withPrev = (ObjectNode) JSON.readTree(config);
        withPrev.set("prevResult", add.json());
        assertEquals(0, cni("CHECK", "ctr-h", ns, "eth0", withPrev.toString()).code());
        assertEquals(0, cni("DEL", "ctr-h", ns, "eth0", withPrev.toString()).code());
        assertFalse(Files.exists(data.resolve("hnet/198.18.67.2")), "host-local released it on DEL");
        assertTrue(netns.taps(ns).isEmpty());
    }

    @Test
    @Order(3)
    void chainedWithPortmapAPublishedPortAnswers() throws Exception {
        String ns = netns.createQuiet("cni-p");
        String config = conf("1.0.0", "cnet", "");
        Run add = cni("ADD", "ctr-p", ns, "eth0", config);
        assertEquals(0, add.code(), add.raw());
        String ip = add.json().path("ips").get(0).path("address").asText().split("/")[0];
        String portmap = "{\"cniVersion\":\"1.0.0\",\"name\":\"cnet\",\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true},"
                + "\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":18080,\"containerPort\":8080,\"protocol\":\"tcp\"}]},"
                + "\"prevResult\":" + add.json() + "}";
        Run pm = run(Path.of("/usr/lib/cni/portmap"), "ADD", "ctr-p", ns, "eth0", portmap);
        assertEquals(0, pm.code(), pm.raw());
        assertEquals(ip, pm.json().path("ips").get(0).path("address").asText().split("/")[0], "prevResult passed through");
        Process server = new ProcessBuilder("ip", "netns", "exec", ns, "python3", "-c", """
                import socket
                s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 8080)); s.listen(1)
                print("listening", flush=True)
                c, _ = s.accept(); c.sendall(b"hello from the container\\n"); c.close()
                """).redirectErrorStream(true).start();
        try {
            assertEquals("listening", new String(server.getInputStream().readNBytes(9)));
            String got = netns.must(20, sw, "python3", "-c", """
                    import socket
                    s = socket.create_connection(("198.18.66.1", 18080), timeout=5)
                    print(s.recv(100).decode().strip())
                    """).trim();
            assertEquals("hello from the container", got, "the published port answers from the daemon's namespace");
        } finally {
            server.destroyForcibly();
        }
        assertEquals(0, run(Path.of("/usr/lib/cni/portmap"), "DEL", "ctr-p", ns, "eth0", portmap).code());
        assertEquals(0, cni("DEL", "ctr-p", ns, "eth0", config).code());
    }

    @Test
    @Order(4)
    void gcRemovesWhatTheRuntimeNoLongerKnows() throws Exception {
        String a = netns.createQuiet("cni-g1");
        String b = netns.createQuiet("cni-g2");
        String config = conf("1.1.0", "cnet", "");
        assertEquals(0, cni("ADD", "keep", a, "eth0", config).code());
        assertEquals(0, cni("ADD", "stale", b, "eth0", config).code());
        String gc = conf("1.1.0", "cnet", ",\"cni.dev/valid-attachments\":[{\"containerID\":\"keep\",\"ifname\":\"eth0\"}]");
        Run r = cni("GC", null, null, null, gc);
        assertEquals(0, r.code(), r.raw());
        JsonNode endpoints = daemon.json("endpoints", "cnet");
        assertEquals(1, endpoints.size(), endpoints.toString());
        assertEquals("keep/eth0", endpoints.get(0).path("id").asText());
        assertTrue(netns.taps(b).isEmpty(), "the stale one's interface is gone");
        assertEquals(0, cni("DEL", "keep", a, "eth0", config).code());
    }

    @Test
    @Order(5)
    void badInputGetsTheSpecsErrorWithItsCode() throws Exception {
        String ns = netns.createQuiet("cni-x");
        assertError(cni("ADD", "x", ns, "eth0", "{\"cniVersion\":\"1.0.0\",\"type\":\"vswitch-cni\",\"socket\":\"" + socket + "\"}"),
                7, "\"name\"");
        assertError(cni("ADD", "x", ns, "eth0", conf("1.0.0", "cnet", ",\"mtu\":\"big\"")), 7, "mtu");
        assertError(cni("ADD", "x", ns, "eth0", conf("0.4.0", "cnet", "")), 1, "incompatible");
        assertError(cni("ADD", "x", ns, "eth0", "not json"), 6, "not JSON");
        assertError(cni("ADD", "x", "nonexistent-ns", "eth0", conf("1.0.0", "cnet", "")), 4, "CNI_NETNS");
        assertError(cni("ADD", null, ns, "eth0", conf("1.0.0", "cnet", "")), 4, "CNI_CONTAINERID");
        assertError(cni("ADD", "x", ns, "eth0", conf("1.0.0", "nope", "")), 7, "no network named");
        assertError(cni("ADD", "x", ns, "eth0", conf("1.0.0", "cnet", ",\"ipam\":{\"type\":\"nosuchipam\"}")), 7, "not found in CNI_PATH");
        assertError(cni("ADD", "x", ns, "eth0", conf("1.0.0", "cnet", ",\"runtimeConfig\":{\"ips\":[\"198.18.99.9/24\"]}")), 7,
                "not in subnet");
        String down = "{\"cniVersion\":\"1.1.0\",\"name\":\"cnet\",\"type\":\"vswitch-cni\",\"socket\":\"/nonexistent.sock\"}";
        assertError(cni("ADD", "x", ns, "eth0", down), 11, "not running");
        assertError(cni("STATUS", null, null, null, down), 50, "not running");
        assertError(cni("STATUS", null, null, null, conf("1.1.0", "nope", "")), 50, "no network");
        assertTrue(netns.taps(ns).isEmpty(), "no refusal left anything in the container");
        assertEquals(0, daemon.json("endpoints", "cnet").size());
    }

    @Test
    @Order(6)
    void theDaemonKilledBetweenTwoAddsNeverGivesAnAddressTwice() throws Exception {
        String a = netns.createQuiet("cni-k1");
        String b = netns.createQuiet("cni-k2");
        String cniConfig = conf("1.1.0", "cnet", "");
        Run one = cni("ADD", "k1", a, "eth0", cniConfig);
        daemon.kill9();
        daemon = Vswitchd.start(sw, config, socket);
        Run two = cni("ADD", "k2", b, "eth0", cniConfig);
        assertEquals(0, one.code(), one.raw());
        assertEquals(0, two.code(), two.raw());
        assertFalse(one.json().path("ips").get(0).path("address").asText().equals(two.json().path("ips").get(0).path("address").asText()));
        assertEquals(0, cni("DEL", "k1", a, "eth0", cniConfig).code());
        assertEquals(0, cni("DEL", "k2", b, "eth0", cniConfig).code());
    }

}
