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
        String[] all = new String[args.length + 2];
        all[0] = "--socket";
        all[1] = socket.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return runAsGiven(all);
    }

    /** Runs exactly this command line (no --socket added). */
    private static Run runAsGiven(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Vswitchctl.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
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
        assertTrue(r.err().contains("--socket PATH or VSWITCH_SOCKET=PATH"), "says how to name another socket: " + r.err());
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

    private static final String NETWORKS = "[{\"name\":\"apps\",\"id\":1,\"mtu\":1500,\"macAgingSeconds\":300,\"macLimit\":8192,"
            + "\"macCount\":2,\"offload\":true,\"icc\":false,\"dns\":true,\"gatewayPort\":true,\"masquerade\":false,"
            + "\"macMoveLimit\":10,\"subnet\":\"198.18.61.0/24\",\"gateway\":\"198.18.61.1\",\"vlan\":10},"
            + "{\"name\":\"ov\",\"id\":2,\"mtu\":1450,\"vni\":42,\"macAgingSeconds\":300,\"macLimit\":8192,\"macCount\":0,"
            + "\"offload\":true,\"icc\":true,\"dns\":false,\"gatewayPort\":false,\"masquerade\":false,\"macMoveLimit\":10}]";

    @Test
    void globalOptionsAreTakenAnywhereOnTheLine() {
        answer = NETWORKS;
        for (String[] line : new String[][] {
                {"--json", "--socket", socket.toString(), "network", "list"},
                {"--socket", socket.toString(), "network", "--json", "list"},
                {"network", "list", "--json", "--socket", socket.toString()},
                {"network", "--socket", socket.toString(), "list", "--json"}}) {
            Run r = runAsGiven(line);
            assertEquals(0, r.code(), String.join(" ", line) + ": " + r.err());
            assertTrue(r.out().contains("\"name\" : \"apps\""), String.join(" ", line) + ": " + r.out());
        }
        Run plain = runAsGiven("network", "list", "-s", socket.toString());
        assertEquals(0, plain.code(), plain.err());
        assertTrue(plain.out().startsWith("name "), plain.out());
    }

    @Test
    void networkListShowsSubnetGatewayDnsIccVlanAndVni() {
        answer = NETWORKS;
        Run r = run("network", "list");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(List.of("name", "mtu", "vni", "vlan", "subnet", "gateway", "dns", "icc", "macs", "limit", "aging"),
                List.of(lines.get(0).trim().split(" +")));
        assertEquals(List.of("apps", "1500", "-", "10", "198.18.61.0/24", "198.18.61.1", "on", "off", "2", "8192", "300s"),
                List.of(lines.get(1).trim().split(" +")));
        assertEquals(List.of("ov", "1450", "42", "-", "-", "-", "off", "on", "0", "8192", "300s"),
                List.of(lines.get(2).trim().split(" +")));
        assertAligned(lines);
    }

    /**
     * The columns are in line: the gaps between them (two or more spaces) are at the same places
     * on every line, so there are exactly as many gaps common to all lines as the header has.
     */
    private static void assertAligned(List<String> lines) {
        int columns = lines.getFirst().trim().split(" {2,}").length;
        int width = lines.stream().mapToInt(String::length).max().orElse(0);
        int gaps = 0;
        int run = 0;
        for (int i = 0; i < width; i++) {
            int at = i;
            boolean blank = lines.stream().allMatch(l -> at >= l.length() || l.charAt(at) == ' ');
            run = blank ? run + 1 : 0;
            if (run == 2) {
                gaps++;
            }
        }
        assertEquals(columns - 1, gaps, "columns out of line:\n" + String.join("\n", lines));
    }

    @Test
    void endpointsCutLongRuntimeIdsAsDockerDoesAndStayInLine() {
        String podman = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        String docker = "3c5b1e2f0a9d8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa99";
        answer = "[{\"network\":\"apps\",\"id\":\"" + podman + "/eth0\",\"port\":\"vs0001\",\"netns\":\"/run/netns/cni-1\","
                + "\"ifname\":\"eth0\",\"mac\":\"02:00:00:00:00:05\",\"ipv4\":\"198.18.61.5/24\",\"mtu\":1500,\"state\":\"up\"},"
                + "{\"network\":\"dk-3c5b1e2f0a9d\",\"id\":\"" + docker + "\",\"port\":\"vsd3c5b1e2f\",\"ifname\":\"eth0\","
                + "\"mac\":\"02:42:c6:12:48:02\",\"ipv4\":\"198.18.72.2/24\",\"mtu\":1500,\"state\":\"up\"},"
                + "{\"network\":\"apps\",\"id\":\"web\",\"port\":\"vs0002\",\"netns\":\"/var/run/netns/web\",\"ifname\":\"eth0\","
                + "\"mac\":\"02:00:00:00:00:06\",\"mtu\":1500,\"state\":\"down\"}]";
        Run r = run("endpoints");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(1).contains(" 9f86d081884c/eth0 "), r.out());
        assertTrue(lines.get(2).contains(" 3c5b1e2f0a9d "), r.out());
        assertFalse(r.out().contains(docker.substring(12)), "ids cut to 12 digits: " + r.out());
        assertAligned(lines);
        Run json = run("endpoints", "--json");
        assertTrue(json.out().contains(podman + "/eth0") && json.out().contains(docker), "--json shows them whole");
    }

    @Test
    void attachToANetworkWithoutASubnetSaysNoAddressWasGiven() {
        answer = "{\"network\":\"l2\",\"id\":\"web\",\"port\":\"vs01\",\"netns\":\"/var/run/netns/web\",\"ifname\":\"eth0\","
                + "\"mac\":\"02:00:00:00:00:05\",\"mtu\":1500,\"state\":\"up\"}";
        Run r = run("attach", "l2", "--netns", "/var/run/netns/web", "--name", "web");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"id\" : \"web\""), "standard output is the endpoint, as JSON: " + r.out());
        assertEquals("vswitchctl: endpoint web has no address: network l2 has no subnet; give one with --ip CIDR,"
                + " or add the network with --subnet CIDR\n", r.err());
    }

    /** Every command's path below the root: [network, add], [show], ... (help excluded). */
    private static List<List<String>> commandPaths(picocli.CommandLine at, List<String> prefix) {
        List<List<String>> out = new java.util.ArrayList<>();
        for (var e : at.getSubcommands().entrySet()) {
            if (e.getKey().equals("help")) {
                continue;
            }
            List<String> path = new java.util.ArrayList<>(prefix);
            path.add(e.getKey());
            out.add(path);
            out.addAll(commandPaths(e.getValue(), path));
        }
        return out;
    }

    @Test
    void everyCommandAnswersHelpBothWaysWithoutAnErrorFirst() {
        List<List<String>> paths = commandPaths(Vswitchctl.commandLine(), List.of());
        assertTrue(paths.size() > 20, paths.toString());
        for (List<String> path : paths) {
            String usage = "Usage: vswitchctl " + String.join(" ", path);
            List<String> dashHelp = new java.util.ArrayList<>(path);
            dashHelp.add("--help");
            List<String> helpFirst = new java.util.ArrayList<>(List.of("help"));
            helpFirst.addAll(path);
            for (List<String> line : List.of(dashHelp, helpFirst)) {
                Run r = runAsGiven(line.toArray(String[]::new));
                assertEquals(0, r.code(), line + ": " + r);
                assertTrue(r.out().startsWith(usage), line + " prints its own usage first: " + r.out());
                assertEquals("", r.err(), line + ": no error before the help");
            }
            if (path.size() == 2) {
                Run r = runAsGiven(path.get(0), "help", path.get(1));
                assertTrue(r.code() == 0 && r.out().startsWith(usage), path + " via its group's help: " + r);
            }
        }
        Run unknown = runAsGiven("help", "network", "nope");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("no command \"nope\" in vswitchctl network"), unknown.err());
    }

    @Test
    void theReadmesSynopsesNameEveryOptionOfEveryCommand() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int section = readme.indexOf("## Operating it: `vswitchctl`");
        assertTrue(section > 0, "the README has its vswitchctl section");
        int start = readme.indexOf("```sh\n", section) + 6;
        String block = readme.substring(start, readme.indexOf("```", start));
        List<String> missing = new java.util.ArrayList<>();
        for (List<String> path : commandPaths(Vswitchctl.commandLine(), List.of())) {
            picocli.CommandLine cmd = Vswitchctl.commandLine();
            for (String name : path) {
                cmd = cmd.getSubcommands().get(name);
            }
            if (!cmd.getSubcommands().isEmpty()) {
                continue; // a group: its commands are checked
            }
            // The synopsis lines of this command: those that begin "vswitchctl FIRST", with their continuations.
            StringBuilder synopsis = new StringBuilder();
            boolean in = false;
            for (String line : block.lines().toList()) {
                if (line.startsWith("vswitchctl ")) {
                    in = line.startsWith("vswitchctl " + path.getFirst() + " ") || line.equals("vswitchctl " + path.getFirst());
                }
                if (in) {
                    synopsis.append(line.replaceFirst("\\s+#.*$", "")).append('\n');
                }
            }
            if (synopsis.isEmpty() || (path.size() > 1 && !synopsis.toString().matches("(?s).*\\b" + path.get(1) + "\\b.*"))) {
                missing.add(String.join(" ", path) + " (no synopsis)");
                continue;
            }
            for (picocli.CommandLine.Model.OptionSpec o : cmd.getCommandSpec().options()) {
                if (o.usageHelp() || o.versionHelp() || o.longestName().equals("--json") || o.longestName().equals("--socket")) {
                    continue;
                }
                if (!synopsis.toString().matches("(?s).*(?<![\\w-])" + java.util.regex.Pattern.quote(o.longestName()) + "(?![\\w-]).*")) {
                    missing.add(String.join(" ", path) + " " + o.longestName());
                }
            }
        }
        assertTrue(missing.isEmpty(), "the README's vswitchctl synopses lack: " + missing);
    }
}
