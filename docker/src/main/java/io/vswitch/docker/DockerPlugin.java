package io.vswitch.docker;

import io.vswitch.unixhttp.UnixHttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The driver served on its plugin socket, where Docker looks for it
 * ({@code /run/docker/plugins/NAME.sock}: {@code docker network create -d NAME}). The socket is
 * removed when the plugin closes.
 */
public final class DockerPlugin implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DockerPlugin.class);

    private final UnixHttpServer server;

    private DockerPlugin(UnixHttpServer server) {
        this.server = server;
    }

    public static DockerPlugin start(Path socket, DriverBackend backend) throws IOException, InterruptedException {
        NetworkDriver driver = new NetworkDriver(backend);
        CallerNamespace callers = new CallerNamespace();
        UnixHttpServer server = UnixHttpServer.start(socket, "rw-rw----", "vswitch-docker", request -> {
            String refused = callers.refusal(request.peerPid(), request.path());
            NetworkDriver.Reply r = refused != null ? NetworkDriver.refuse(request.path(), refused)
                    : driver.handle(request.method(), request.path(), request.body());
            return new UnixHttpServer.Reply(r.status(), NetworkDriver.bytes(r), NetworkDriver.CONTENT_TYPE);
        });
        String name = socket.getFileName().toString().replaceFirst("\\.sock$", "");
        LOG.info("Docker network driver \"{}\" on {}", name, socket);
        return new DockerPlugin(server);
    }

    @Override
    public void close() {
        server.close();
    }
}
