package io.vswitch.cni;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A standard IPAM plugin (host-local, static, dhcp) run as the spec says (SPEC.md section 4):
 * the binary named by {@code ipam.type}, found in CNI_PATH, executed with the same environment
 * but CNI_COMMAND, the whole network configuration on stdin; its stderr passes through, its
 * stdout is the result (or an error in the spec's form, passed on as it is).
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

    /** Runs the plugin for {@code command} with {@code config}; its result, or null when it printed nothing. */
    JsonNode run(String command, byte[] config) throws CniException {
        ProcessBuilder pb = new ProcessBuilder(binary.toString()).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().clear();
        pb.environment().putAll(env);
        pb.environment().put("CNI_COMMAND", command);
        try {
            Process p = pb.start();
            try (var in = p.getOutputStream()) {
                in.write(config);
            }
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new CniException(CniException.IO_FAILURE, "IPAM plugin " + binary + " did not finish " + command + " in 60 s");
            }
            String text = new String(out, StandardCharsets.UTF_8).trim();
            JsonNode result = text.isEmpty() ? null : JSON.readTree(text);
            if (p.exitValue() != 0) {
                int code = result != null && result.path("code").isInt() ? result.path("code").asInt() : CniException.IO_FAILURE;
                String msg = result != null ? result.path("msg").asText("IPAM plugin failed") : "IPAM plugin failed";
                throw new CniException(code, "IPAM plugin " + binary.getFileName() + " " + command + ": " + msg,
                        result != null ? result.path("details").asText(null) : text);
            }
            return result;
        } catch (IOException e) {
            throw new CniException(CniException.IO_FAILURE, "cannot run IPAM plugin " + binary + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CniException(CniException.IO_FAILURE, "interrupted while running IPAM plugin " + binary);
        }
    }
}
