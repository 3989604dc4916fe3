package io.vswitch.cni;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vswitch.control.Deadline;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A standard IPAM plugin (host-local, static, dhcp) run as the spec says (SPEC.md section 4):
 * the binary named by {@code ipam.type}, found in CNI_PATH, executed with the same environment
 * but CNI_COMMAND, the whole network configuration on stdin; its stderr passes through, its
 * stdout is the result (or an error in the spec's form, passed on as it is). It runs within the
 * call's deadline: a plugin that hangs is killed, it does not hold the call (or the daemon) up.
 */
final class IpamDelegate {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path binary;
    private final Map<String, String> env;

    private IpamDelegate(Path binary, Map<String, String> env) {
        this.binary = binary;
        this.env = env;
    }

    /** The plugin {@code type} in CNI_PATH; code 7 when it is not there. */
    static IpamDelegate find(String type, Map<String, String> env) throws CniException {
        if (type.contains("/") || type.isBlank()) {
            throw new CniException(CniException.INVALID_CONFIG, "ipam.type must be a plugin name, got \"" + type + "\"");
        }
        String path = env.getOrDefault("CNI_PATH", "");
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, type);
            if (Files.isExecutable(candidate)) {
                return new IpamDelegate(candidate, env);
            }
        }
        throw new CniException(CniException.INVALID_CONFIG, "IPAM plugin \"" + type + "\" not found in CNI_PATH \"" + path + "\"");
    }

    /**
     * Runs the plugin for {@code command} with {@code config}; its result, or null when it printed
     * nothing. A plugin still running at {@code deadline} is killed with what it started, and the
     * call fails with code 11 (try again later).
     */
    JsonNode run(String command, byte[] config, Deadline deadline) throws CniException {
        ProcessBuilder pb = new ProcessBuilder(binary.toString()).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().clear();
        pb.environment().putAll(env);
        pb.environment().put("CNI_COMMAND", command);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new CniException(CniException.IO_FAILURE, "cannot run IPAM plugin " + binary + ": " + e.getMessage());
        }
        try {
            // Its output is read beside it, so a plugin that writes much never blocks on a full pipe.
            FutureTask<byte[]> output = new FutureTask<>(() -> p.getInputStream().readAllBytes());
            Thread.ofVirtual().name("ipam-" + command).start(output);
            try (var in = p.getOutputStream()) {
                in.write(config);
            } catch (IOException e) {
                // it exited without reading its configuration: its exit status says why
            }
            if (!p.waitFor(deadline.remainingNs(), TimeUnit.NANOSECONDS)) {
                kill(p);
                throw new CniException(CniException.TRY_AGAIN_LATER, "IPAM plugin " + binary.getFileName() + " did not finish "
                        + command + " within " + deadline.budget() + " of the call; it was stopped");
            }
            byte[] out;
            try {
                out = output.get(1, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                kill(p); // it exited, but something it started still holds its output open
                throw new CniException(CniException.IO_FAILURE, "IPAM plugin " + binary.getFileName() + " " + command
                        + ": a process it started keeps its output open; stopped");
            } catch (ExecutionException e) {
                throw new CniException(CniException.IO_FAILURE, "cannot read IPAM plugin " + binary + ": "
                        + e.getCause().getMessage());
            }
            String text = new String(out, StandardCharsets.UTF_8).trim();
            JsonNode result;
            try {
                result = text.isEmpty() ? null : JSON.readTree(text);
            } catch (IOException e) {
                throw new CniException(CniException.IO_FAILURE, "IPAM plugin " + binary.getFileName() + " " + command
                        + " printed no JSON: " + e.getMessage());
            }
            if (p.exitValue() != 0) {
                int code = result != null && result.path("code").isInt() ? result.path("code").asInt() : CniException.IO_FAILURE;
                String msg = result != null ? result.path("msg").asText("IPAM plugin failed") : "IPAM plugin failed";
                throw new CniException(code, "IPAM plugin " + binary.getFileName() + " " + command + ": " + msg,
                        result != null ? result.path("details").asText(null) : text);
            }
            return result;
        } catch (InterruptedException e) {
            kill(p);
            Thread.currentThread().interrupt();
            throw new CniException(CniException.IO_FAILURE, "interrupted while running IPAM plugin " + binary);
        }
    }

    /** Kills the plugin and every process it started (gathered first: once it is dead they are no longer its). */
    private static void kill(Process p) {
        List<ProcessHandle> started = p.descendants().toList();
        p.destroyForcibly();
        started.forEach(ProcessHandle::destroyForcibly);
    }
}
