package io.vswitch.control;

import io.vswitch.unixhttp.UnixHttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The typed client over a real unix socket, against a fake daemon answering what each test sets. fd-level, no root. */
class ControlClientTest {
    private Path dir;
    private Path socket;
    private UnixHttpServer server;
    private final List<String> seen = new CopyOnWriteArrayList<>();
    private volatile int status = 200;
    private volatile String answer = "{}";

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory("control-test-");
        socket = dir.resolve("api.sock");
        server = UnixHttpServer.start(socket, "rw-------", "fake-daemon", request -> {
            seen.add(request.method() + " " + request.path() + " " + request.body());
            return new UnixHttpServer.Reply(status, answer.getBytes(StandardCharsets.UTF_8), "application/json");
        });
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void aTypedCallSendsItsRecordAndReadsTheAnswersRecord() throws Exception {
        answer = "{\"name\":\"p0\",\"id\":3,\"kind\":\"tap\",\"state\":\"up\",\"mtu\":1500,\"queues\":2,\"offload\":true}";
        Views.Port p = new ControlClient(socket).addPort("blue", new PortSpec("p0", true, null));
        assertEquals(3, p.id());
        assertEquals("up", p.state());
        assertEquals(List.of("POST /v1/networks/blue/ports {\"name\":\"p0\",\"persist\":true}"), seen);
    }

    @Test
    void namesAreEscapedInPaths() throws Exception {
        answer = "{\"removed\":\"x\"}";
        new ControlClient(socket).removePort("a b", "c/d");
        assertEquals("DELETE /v1/networks/a+b/ports/c%2Fd ", seen.getFirst());
    }

    @Test
    void aRefusalCarriesTheDaemonsStatusAndReason() {
        status = 409;
        answer = "{\"error\":\"port \\\"p0\\\" already belongs to network blue\"}";
        ControlException e = assertThrows(ControlException.class,
                () -> new ControlClient(socket).addPort("blue", PortSpec.named("p0")));
        assertEquals(409, e.status());
        assertEquals("port \"p0\" already belongs to network blue", e.getMessage());
    }

    @Test
    void anAnswerThatIsNotTheContractsIsAnIOExceptionNamingTheCall() {
        answer = "[1, 2, 3]";
        IOException e = assertThrows(IOException.class, () -> new ControlClient(socket).show());
        assertTrue(e.getMessage().startsWith("bad response from vswitchd to GET /v1/show"), e.getMessage());
    }

    @Test
    void aSocketIsHeldOnlyWhileADaemonAnswersOnIt() throws Exception {
        answer = "{\"pid\":4242,\"version\":\"0.1.0\",\"uptimeSeconds\":1,\"threads\":1}";
        assertEquals("pid 4242", ControlClient.holderOf(socket));
        server.close();
        Files.writeString(socket, "stale"); // what a killed daemon leaves is no holder
        assertNull(ControlClient.holderOf(socket));
        assertNull(ControlClient.holderOf(dir.resolve("absent.sock")));
    }

    @Test
    void inTheDaemonCallsGoThroughItsTransportAsTheyWould() throws Exception {
        List<String> through = new CopyOnWriteArrayList<>();
        ControlClient inProcess = new ControlClient(socket, (method, path, body) -> {
            through.add(method + " " + path + " " + body);
            return new ControlClient.Response(200, "{\"flushed\":4}");
        });
        assertEquals(4, inProcess.flush("blue", "p0").flushed());
        assertEquals(List.of("POST /v1/networks/blue/fdb/flush {\"port\":\"p0\"}"), through);
        assertTrue(seen.isEmpty(), "nothing went over the socket");
    }
}
