package io.vswitch.daemon.api;

import com.fasterxml.jackson.databind.ObjectWriter;
import io.vswitch.control.ControlClient;
import io.vswitch.control.Deadline;
import io.vswitch.control.Json;
import io.vswitch.unixhttp.UnixHttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The control API's transport: HTTP/1.1 with JSON bodies on a unix socket (mode 0600), off the
 * data plane ({@link UnixHttpServer}). Each request is handled on a thread of its own within a
 * deadline that starts when it arrives ({@link ControlApi#CALL_BUDGET}); changes are serialised
 * by the daemon's conductor, and reach the data plane as commands run on the loops.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);

    private final UnixHttpServer server;

    private ControlServer(UnixHttpServer server) {
        this.server = server;
    }

    /**
     * Binds {@code socket}. A socket file that a live daemon answers on is refused, naming that
     * daemon's pid; a stale file left by a killed daemon is replaced.
     */
    public static ControlServer start(Path socket, ControlApi api) throws IOException, InterruptedException {
        if (Files.exists(socket)) {
            String holder = ControlClient.holderOf(socket);
            if (holder != null) {
                throw new IOException("control socket " + socket + " is held by another vswitchd (" + holder
                        + "); stop it or choose another --control-socket");
            }
        }
        ObjectWriter json = Json.LENIENT.writerWithDefaultPrettyPrinter();
        CniService cni = new CniService(api);
        UnixHttpServer server = UnixHttpServer.start(socket, "rw-------", "vswitch-api", request -> {
            Deadline deadline = Deadline.from(request.receivedNs(), ControlApi.CALL_BUDGET);
            if (request.method().equals("POST") && request.path().equals("/v1/cni")) {
                return cni.handle(request.body(), deadline);
            }
            ControlApi.Reply reply = api.handle(request.method(), request.path(), request.body(), deadline);
            byte[] bytes;
            try {
                bytes = json.writeValueAsBytes(reply.body());
            } catch (IOException e) {
                return new UnixHttpServer.Reply(500, "{\"error\":\"cannot encode the response\"}".getBytes(StandardCharsets.UTF_8),
                        "application/json");
            }
            return new UnixHttpServer.Reply(reply.status(), bytes, "application/json");
        });
        cni.warmUp();
        LOG.info("control API on {}", socket);
        return new ControlServer(server);
    }

    public Path socket() {
        return server.socket();
    }

    @Override
    public void close() {
        server.close();
    }
}
