package io.vswitch.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import io.vswitch.control.Json;
import io.vswitch.unixhttp.UnixHttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line against a fake daemon on a real unix socket (the daemon's own HTTP server,
 * answering what each test sets): what each command sends, what it prints, and that every
 * failure is one line and a non-zero exit. No root, no daemon.
 */
class VswitchctlTest {
    /** A request as the fake daemon received it. */
    record Seen(String method, String path, String body) {
    }

    private Path dir;
    private Path socket;
    private UnixHttpServer server;
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private volatile int status = 200;
    private volatile String answer = "{}";

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory("vswitchctl-test-");
        socket = dir.resolve("api.sock");
        server = UnixHttpServer.start(socket, "rw-------", "fake-vswitchd", request -> {
            seen.add(new Seen(request.method(), request.path(), request.body()));
            return new UnixHttpServer.Reply(status, answer.getBytes(StandardCharsets.UTF_8), "application/json");
        });
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        Files.deleteIfExists(socket);
        Files.deleteIfExists(dir);
    }

    /** What one run printed and returned. */
    record Run(int code, String out, String err) {
    }

    private Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "--socket";
        all[1] = socket.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        int code = Vswitchctl.run(all, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void showPrintsEachNetworkWithItsPortsAndCounters() {
        answer = """
                {"dataplane": {"threads": 2, "io": "io_uring", "ioNote": "", "polling": "adaptive",
                  "ringEnters": 10, "ringFramesRead": 15, "ringFramesWritten": 5},
                 "networks": [{"name": "blue", "id": 1, "mtu": 1500, "macAgingSeconds": 300, "macLimit": 8192,
                   "macCount": 2, "offload": true, "icc": true,
                   "ports": [{"name": "b0", "id": 1, "kind": "tap", "state": "up", "mtu": 1500, "queues": 2,
                     "offload": true, "counters": {"rx_frames": 7, "rx_bytes": 700, "tx_frames": 3, "tx_bytes": 300},
                     "drops": {"runt": 1, "hairpin": 2}},
                     {"name": "b1", "id": 2, "kind": "tap", "state": "down", "mtu": 1500, "queues": 2,
                     "reason": "read failed: ENODEV", "offload": true,
                     "counters": {"rx_frames": 0, "rx_bytes": 0, "tx_frames": 0, "tx_bytes": 0}, "drops": {}}]}]}
                """;
        Run r = run("show");
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of(new Seen("GET", "/v1/show", "")), seen);
        assertTrue(r.out().contains("dataplane: 2 loops, io io_uring, polling adaptive, 0.500 kernel entries per TAP frame"),
                r.out());
        assertTrue(r.out().contains("network blue: mtu 1500, 2 MACs (limit 8192, aging 300s)"), r.out());
        assertTrue(r.out().matches("(?s).*b0 +tap +up +1500 +7 +700 +3 +300 +3\n.*"), r.out());
        assertTrue(r.out().contains("    down: read failed: ENODEV"), r.out());
    }

    @Test
    void jsonPrintsTheDaemonsViewAsItCame() {
        answer = "[{\"name\":\"blue\",\"id\":1,\"mtu\":1500,\"macAgingSeconds\":300,\"macLimit\":8192,\"macCount\":0,"
                + "\"offload\":true,\"icc\":true,\"dns\":false,\"gatewayPort\":false,\"masquerade\":false,\"macMoveLimit\":10}]";
        Run r = run("network", "list", "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"name\" : \"blue\""), r.out());
        assertTrue(r.out().contains("\"mtu\" : 1500"), r.out());
    }

    @Test
    void networkAddSendsOnlyWhatWasGiven() throws Exception {
        answer = "{\"name\":\"apps\",\"id\":2,\"mtu\":9000}";
        Run r = run("network", "add", "apps", "--mtu", "9000", "--subnet", "198.18.61.0/24", "--no-icc",
                "--storm-broadcast", "100");
        assertEquals(0, r.code(), r.err());
        assertEquals("network apps added (mtu 9000)\n", r.out());
        Seen s = seen.getFirst();
        assertEquals("POST /v1/networks", s.method() + " " + s.path());
        JsonNode body = Json.LENIENT.readTree(s.body());
        assertEquals("apps", body.path("name").asText());
        assertEquals(9000, body.path("mtu").asInt());
        assertEquals("198.18.61.0/24", body.path("subnet").asText());
        assertFalse(body.path("icc").asBoolean(true));
        assertEquals(100, body.path("storm").path("broadcast").asInt());
        for (String absent : List.of("vni", "persist", "offload", "gateway", "masquerade", "dns", "vlan", "macLimit")) {
            assertFalse(body.has(absent), absent + " was not given, so it is not sent: " + s.body());
        }
    }

    @Test
    void namesInPathsAreEscaped() {
        answer = "{\"removed\":\"a b\"}";
        Run r = run("fdb", "del", "blue", "02:00:00:00:00:01");
        assertEquals(0, r.code(), r.err());
        assertEquals("/v1/networks/blue/fdb/02%3A00%3A00%3A00%3A00%3A01", seen.getFirst().path());
    }

    @Test
    void aRefusalExitsOneWithTheDaemonsReasonOnOneLine() {
        status = 409;
        answer = "{\"error\":\"port \\\"b0\\\" already belongs to network blue\"}";
        Run r = run("port", "add", "blue", "b0");
        assertEquals(1, r.code());
        assertEquals("", r.out());
        assertEquals("vswitchctl: port \"b0\" already belongs to network blue\n", r.err());
    }

    @Test
    void aDaemonThatIsNotThereIsNamedByItsSocket() throws Exception {
        server.close();
        Run r = run("show");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("vswitchctl: cannot reach vswitchd at " + socket + ": "), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void attachWithoutANamespaceIsRefusedBeforeAnythingIsSent() {
        Run r = run("attach", "apps", "--name", "web");
        assertEquals(1, r.code());
        assertEquals("vswitchctl: say where the container is: --netns PATH or --pid PID\n", r.err());
        assertTrue(seen.isEmpty(), "nothing was sent: " + seen);
    }

    @Test
    void aNetworkSetWithNothingToChangeIsRefusedBeforeAnythingIsSent() {
        Run r = run("network", "set", "ov");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("nothing to change"), r.err());
        assertTrue(seen.isEmpty(), "nothing was sent: " + seen);
    }

    @Test
    void aMistypedCommandLineIsAUsageErrorNotACall() {
        Run r = run("network", "add");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Missing required parameter: 'NAME'"), r.err());
        assertTrue(seen.isEmpty(), "nothing was sent: " + seen);
    }

    @Test
    void detachSaysWhatWasFreed() {
        answer = "{\"network\":\"apps\",\"id\":\"web\",\"port\":\"vs01\",\"netns\":\"/var/run/netns/web\",\"ifname\":\"eth0\","
                + "\"mac\":\"02:00:00:00:00:05\",\"ipv4\":\"198.18.61.5/24\",\"mtu\":1500}";
        Run r = run("detach", "apps", "--name", "web");
        assertEquals(0, r.code(), r.err());
        assertEquals("{\"name\":\"web\"}", seen.getFirst().body());
        assertEquals("endpoint web detached from network apps (eth0 in /var/run/netns/web, 198.18.61.5/24 free again)\n",
                r.out());
    }
}
