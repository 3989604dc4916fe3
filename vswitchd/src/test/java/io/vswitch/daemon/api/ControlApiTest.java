package io.vswitch.daemon.api;

import io.vswitch.control.ControlClient;
import io.vswitch.control.ControlException;
import io.vswitch.control.NetworkSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.control.Requests;
import io.vswitch.control.StaticEntry;
import io.vswitch.control.Views;
import io.vswitch.daemon.ChannelPortFactory;
import io.vswitch.daemon.ConfigReader;
import io.vswitch.daemon.Daemon;
import io.vswitch.daemon.DaemonConfig;
import io.vswitch.daemon.StateFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The control API over its real unix socket and HTTP server, against a registry whose ports
 * are in-memory channels: every route, the typed client, strict JSON, refusals that change
 * nothing, and changes that are undone when the state file cannot be written. No root.
 */
class ControlApiTest {
    private Path dir;
    private StateFile state;
    private Daemon daemon;
    private ControlServer server;
    private ControlClient client;
    private ChannelPortFactory ports;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory("vswitch-api-");
        String yaml = """
                dataplane: {threads: 1, pin: false}
                vxlan: {local: 127.0.0.1, port: %d}
                metrics: {listen: off}
                networks:
                  - name: blue
                    ports: [b0, b1]
                  - name: apps
                    subnet: 198.18.64.0/24
                    gateway-port: true
                """.formatted(20_000 + (int) (ProcessHandle.current().pid() % 30_000));
        Files.writeString(dir.resolve("vswitch.yaml.keep"), yaml);
        DaemonConfig config = ConfigReader.parse(dir + "/vswitch.yaml", yaml);
        state = StateFile.lock(dir.resolve("vswitch.state.json"));
        daemon = Daemon.start(config, state, dp -> ports = new ChannelPortFactory(dp));
        server = ControlServer.start(dir.resolve("api.sock"), new ControlApi(daemon));
        client = new ControlClient(dir.resolve("api.sock"));
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        daemon.close();
        state.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private ControlException refused(ControlCall call) {
        return assertThrows(ControlException.class, call::run);
    }

    @FunctionalInterface
    interface ControlCall {
        void run() throws Exception;
    }

    @Test
    void showsTheNetworksPortsAndCountersOfTheSwitch() throws Exception {
        Views.Show show = client.show();
        assertEquals(2, show.networks().size());
        Views.Network blue = show.networks().get(0);
        assertEquals("blue", blue.name());
        assertEquals(1500, blue.mtu());
        assertEquals(List.of("b0", "b1"), blue.ports().stream().map(Views.Port::name).toList());
        Views.Port b0 = blue.ports().get(0);
        assertEquals("channel", b0.kind());
        assertEquals("up", b0.state());
        assertEquals(0L, b0.counters().get("rx_frames"));
        assertEquals(0L, b0.drops().get("hairpin"));
        assertEquals("127.0.0.1", show.vxlan().local());
        assertTrue(client.info().pid() > 0);
        assertEquals(0L, client.stats().totals().get("rx_frames"));
    }

    @Test
    void networksPortsPeersAndStaticEntriesChangeAtRunTimeAndAreSaved() throws Exception {
        Views.Network ov = client.addNetwork(new NetworkSpec("ov", null, null, null, 42, List.of("127.0.0.2"), null, null,
                List.of(PortSpec.named("o0")), null));
        assertEquals(42, ov.vni());
        assertEquals(1500 - 50, ov.mtu(), "an overlay's MTU comes from the underlay");
        assertEquals(List.of("127.0.0.2"), ov.peers());

        Views.Port o1 = client.addPort("ov", new PortSpec("o1", true, null));
        assertEquals("o1", o1.name());
        client.addStatic("ov", new StaticEntry("02:00:00:00:00:01", "vxlan:127.0.0.2"));
        assertEquals("127.0.0.2", client.fdb("ov").get(0).vtep());

        Views.Network changed = client.setPeers("ov", List.of("127.0.0.3", "127.0.0.4"));
        assertEquals(List.of("127.0.0.3", "127.0.0.4"), changed.peers());
        assertTrue(client.fdb("ov").isEmpty(), "the static entry behind the removed peer went with it");
        List<String> tunnels = client.show().networks().stream().filter(n -> n.name().equals("ov")).findFirst().orElseThrow()
                .ports().stream()
                .filter(p -> p.kind().equals("vxlan")).map(Views.Port::peer).toList();
        assertEquals(List.of("127.0.0.3", "127.0.0.4"), tunnels);

        String saved = Files.readString(state.path());
        assertTrue(saved.contains("\"127.0.0.4\"") && saved.contains("\"o1\""), saved);
        NetworkSpec restored = state.read().stream().filter(n -> n.name().equals("ov")).findFirst().orElseThrow();
        assertEquals(List.of("o0", "o1"), restored.ports().stream().map(PortSpec::name).toList());
        assertEquals(Boolean.TRUE, restored.ports().get(1).persist());

        client.removePort("ov", "o1");
        assertEquals(List.of("o1"), ports.discarded, "a removed port's device is let go");
        client.removeNetwork("ov");
        assertEquals(2, client.networks().size());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            unknown field        | POST   | /v1/networks                 | {"name": "x", "colour": "red"}  | 400 | unknown field "colour"
            string for a bool    | POST   | /v1/networks/blue/ports      | {"name": "p9", "persist": "yes"} | 400 | "persist"
            string for a number  | POST   | /v1/networks                 | {"name": "x", "mtu": "1500"}     | 400 | "mtu"
            float for a number   | POST   | /v1/networks                 | {"name": "x", "mtu": 1500.5}     | 400 | "mtu"
            duplicate key        | POST   | /v1/networks                 | {"name": "x", "name": "y"}       | 400 | Duplicate field
            zero mtu             | POST   | /v1/networks                 | {"name": "x", "mtu": 0}          | 400 | mtu: expected an integer 68..65517, got 0
            bad json             | POST   | /v1/networks                 | {bad json                        | 400 | invalid JSON
            no body              | POST   | /v1/networks                 |                                  | 400 | a JSON body is required
            not an object        | POST   | /v1/networks                 | [1, 2]                           | 400 | invalid JSON
            trailing garbage     | POST   | /v1/networks                 | {"name": "x"} {"name": "y"}      | 400 | invalid JSON
            name taken           | POST   | /v1/networks                 | {"name": "blue"}                 | 409 | network "blue" exists already
            port taken           | POST   | /v1/networks                 | {"name": "x", "ports": [{"name": "b0"}]} | 409 | port "b0" already belongs to network blue
            bad name             | POST   | /v1/networks                 | {"name": "Bad_Name"}             | 400 | name: expected 1-15 characters
            dot-dot port         | POST   | /v1/networks/blue/ports      | {"name": ".."}                   | 400 | not . or ..
            multicast peer       | POST   | /v1/networks                 | {"name": "x", "vni": 5, "peers": ["224.0.0.1"]} | 400 | (multicast)
            peers of local net   | PUT    | /v1/networks/blue/peers      | {"peers": ["127.0.0.2"]}         | 400 | not an overlay network
            unknown network      | DELETE | /v1/networks/nope            |                                  | 404 | no network named "nope"
            unknown port         | DELETE | /v1/networks/blue/ports/zz   |                                  | 404 | no port "zz"
            bad mac              | POST   | /v1/networks/blue/fdb        | {"mac": "02:zz:00:00:00:01", "port": "b0"} | 400 | bad MAC address
            group mac            | POST   | /v1/networks/blue/fdb        | {"mac": "ff:ff:ff:ff:ff:ff", "port": "b0"} | 400 | unicast
            unknown entry        | DELETE | /v1/networks/blue/fdb/02:00:00:00:00:42 |                       | 404 | no entry
            device refuses       | POST   | /v1/networks/blue/ports      | {"name": "busy0"}                | 409 | EBUSY
            bad escape           | GET    | /v1/show%                    |                                  | 404 | no such resource
            bad escape in a name | GET    | /v1/networks/%zz/fdb         |                                  | 400 | bad escape
            no such resource     | GET    | /v1/nothing                  |                                  | 404 | no such resource
            bad method           | PATCH  | /v1/networks/blue            | {}                               | 405 | not supported
            """)
    void refusesBadRequestsWithAStatusAndAReasonAndChangesNothing(String what, String method, String path, String body,
            int status, String reason) throws Exception {
        String before = Files.readString(state.path());
        List<Views.Network> networksBefore = client.networks();
        ControlClient.Response r = client.exchange(method, path, body);
        assertEquals(status, r.status(), what + ": " + r.body());
        assertTrue(r.error().contains(reason), what + ": " + r.error());
        assertEquals(before, Files.readString(state.path()), what + ": the state file is untouched");
        assertEquals(networksBefore, client.networks(), what + ": nothing changed");
    }

    @Test
    void aChangeThatCannotBeSavedIsRefusedWith500AndUndone() throws Exception {
        // The state is written through STATE.tmp: a directory in its way makes every write fail, even as root.
        Path blocker = state.path().resolveSibling(state.path().getFileName() + ".tmp");
        Files.createDirectory(blocker);
        Files.writeString(blocker.resolve("x"), "x");
        String before = Files.readString(state.path());

        ControlException add = refused(() -> client.addPort("blue", PortSpec.named("b9")));
        assertEquals(500, add.status());
        assertTrue(add.getMessage().contains("the change was undone"), add.getMessage());
        assertFalse(client.show().networks().get(0).ports().stream().anyMatch(p -> p.name().equals("b9")));
        assertEquals(List.of("b9"), ports.discarded, "the port's device was let go again");

        ControlException del = refused(() -> client.removePort("blue", "b1"));
        assertEquals(500, del.status());
        assertTrue(del.getMessage().contains("nothing was changed"), del.getMessage());
        assertTrue(client.show().networks().get(0).ports().stream().anyMatch(p -> p.name().equals("b1")));

        assertEquals(500, refused(() -> client.addNetwork(NetworkSpec.named("green"))).status());
        assertEquals(2, client.networks().size());
        assertEquals(before, Files.readString(state.path()));

        Files.delete(blocker.resolve("x"));
        Files.delete(blocker);
        client.addPort("blue", PortSpec.named("b9"));
        assertTrue(Files.readString(state.path()).contains("\"b9\""));
    }

    @Test
    void traceRunsTheDecisionAgainstTheLiveTable() throws Exception {
        Views.Trace t = client.trace("blue", new Requests.Trace("b0", "02:00:00:00:00:01", "02:00:00:00:00:02", null));
        assertEquals("flood", t.decision());
        assertEquals(List.of("b1"), t.egress());
        assertEquals(404, refused(() -> client.trace("blue", new Requests.Trace("nope", "02:00:00:00:00:01",
                "02:00:00:00:00:02", null))).status());
        assertEquals(0, client.flush("blue", null).flushed(), "nothing was learned yet");
    }

    private static final String HERE = "/proc/self/ns/net"; // a real namespace path; the ports are in memory

    private Views.Endpoint attach(String id, String ip) throws Exception {
        return client.attach("apps", new Requests.Attach(HERE, null, id, id, null, ip, null, null, null, null, null, null, "cli", null));
    }

    @Test
    void containersGetAddressesFromTheSubnetThatARestartNeverGivesTwice() throws Exception {
        Views.Endpoint a = attach("a", null);
        Views.Endpoint b = attach("b", "198.18.64.50/24");
        assertEquals("198.18.64.2/24", a.ipv4());
        assertEquals("198.18.64.1", a.gateway());
        assertEquals("eth0", a.ifname());
        assertTrue(ports.placed.contains(a.port() + " -> eth0 in " + HERE), ports.placed.toString());
        assertEquals(409, refused(() -> attach("a", null)).status(), "the same id twice");
        assertEquals(409, refused(() -> attach("c", "198.18.64.50")).status(), "an address in use");
        assertEquals(400, refused(() -> attach("c", "198.18.99.1/24")).status(), "outside the subnet");
        assertEquals(400, refused(() -> attach("c", "198.18.64.1")).status(), "the gateway");
        assertEquals(400, refused(() -> client.attach("apps", new Requests.Attach("/nonexistent/ns", null, "c", null, null,
                null, null, null, null, null, null, null, "cli", null))).status(), "a namespace that does not exist");
        assertEquals(409, refused(() -> client.attach("apps", new Requests.Attach(HERE, null, "busy", null, "busy9", null,
                null, null, null, null, null, null, "cli", null))).status(), "a placement that fails");
        assertEquals(2, client.endpoints("apps").size(), "the failed ones left nothing");
        assertEquals(2, client.show().networks().stream().filter(n -> n.name().equals("apps")).findFirst().orElseThrow()
                .ports().stream().filter(p -> p.name().startsWith("vs") && !p.name().startsWith("vs-")).count(),
                "the failed placement left no port in the network");

        // A restart: every endpoint and address comes back, and the next container gets a new one.
        server.close();
        daemon.close();
        DaemonConfig config = ConfigReader.parse(dir + "/vswitch.yaml", Files.readString(dir.resolve("vswitch.yaml.keep")));
        daemon = Daemon.start(config, state, dp -> ports = new ChannelPortFactory(dp));
        server = ControlServer.start(dir.resolve("api.sock"), new ControlApi(daemon));
        assertEquals(List.of("a", "b"), client.endpoints("apps").stream().map(Views.Endpoint::id).toList());
        Views.Endpoint c = attach("c", null);
        assertEquals("198.18.64.3/24", c.ipv4(), "not a's, not b's");
        client.detach("apps", new Requests.Detach(null, "a", null, null));
        assertEquals(409, refused(() -> attach("d", "198.18.64.3")).status());
        Views.Endpoint d = attach("d", "198.18.64.2");
        assertEquals("198.18.64.2/24", d.ipv4(), "a's address is free again once a is detached");
        assertEquals(404, refused(() -> client.detach("apps", new Requests.Detach("nope", null, null, null))).status());
    }
}
