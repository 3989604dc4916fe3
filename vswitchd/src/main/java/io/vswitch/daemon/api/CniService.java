package io.vswitch.daemon.api;

import com.fasterxml.jackson.databind.ObjectWriter;
import io.vswitch.cni.VswitchCni;
import io.vswitch.control.ControlClient;
import io.vswitch.control.Deadline;
import io.vswitch.control.Json;
import io.vswitch.unixhttp.UnixHttpServer;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * The CNI plugin's verbs, run inside the daemon: {@code bin/vswitch-cni} is a shell shim that
 * posts the runtime's call to {@code POST /v1/cni} and prints the answer, so a container start
 * costs a curl, not a JVM (about 100 ms of start and first use of Jackson).
 *
 * <p>The body is the call as the runtime made it: the {@code CNI_*} variables as
 * {@code NAME=VALUE} lines, an empty line, then the network configuration exactly as it came on
 * stdin. The answer is the plugin's stdout: 200 when it succeeded (exit 0), 422 with the spec's
 * error JSON when it failed (exit 1). The verbs are {@link VswitchCni}'s, with the daemon reached
 * in-process: the same checks, codes and results as the plugin run on its own. Delegated IPAM
 * plugins are run by the daemon, from CNI_PATH, with the call's variables.
 */
final class CniService {
    private final ControlApi api;
    private final ObjectWriter json = Json.LENIENT.writer();
    /** Where a failed call's IPAM allocation is given back: after its answer, on a thread of its own. */
    private final Executor undo = command -> Thread.ofVirtual().name("vswitch-cni-undo").start(command);

    CniService(ControlApi api) {
        this.api = api;
    }

    /**
     * Runs the plugin's code once, off the request path (a STATUS of a network no daemon has),
     * so that the first container's ADD does not pay for loading and compiling it.
     */
    void warmUp() {
        Thread.ofPlatform().daemon().name("vswitch-cni-warmup").start(() -> handle(
                "CNI_COMMAND=STATUS\n\n{\"cniVersion\":\"1.1.0\",\"name\":\"-warm-up-\",\"type\":\"vswitch-cni\"}",
                Deadline.in(ControlApi.CALL_BUDGET)));
    }

    /** Runs one call, within {@code deadline}: an IPAM plugin still running then is stopped, an attach undone. */
    UnixHttpServer.Reply handle(String body, Deadline deadline) {
        // NAME=VALUE lines, an empty line, the configuration (no variables at all: the empty line first).
        int split = body.startsWith("\n") ? -1 : body.indexOf("\n\n");
        String head = split < 0 ? "" : body.substring(0, split);
        String config = split < 0 ? (body.startsWith("\n") ? body.substring(1) : body) : body.substring(split + 2);
        Map<String, String> env = new HashMap<>();
        for (String line : head.split("\n")) {
            int eq = line.indexOf('=');
            if (line.startsWith("CNI_") && eq > 0) {
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        int code = new VswitchCni(env, config.getBytes(StandardCharsets.UTF_8), print,
                socket -> new ControlClient(socket, (method, path, request) -> {
                    ControlApi.Reply r = api.handle(method, path, request, deadline);
                    return new ControlClient.Response(r.status(), json.writeValueAsString(r.body()));
                }), deadline, undo).run();
        print.flush();
        return new UnixHttpServer.Reply(code == 0 ? 200 : 422, out.toByteArray(), "application/json");
    }
}
