package io.vswitch.cni;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The network configuration a runtime passes on stdin, checked, with what the call asks for
 * besides: the addresses and MAC from {@code runtimeConfig} ({@code ips}, {@code mac}
 * capabilities), else {@code args.cni}, else CNI_ARGS ({@code IP=}, {@code MAC=}), and the
 * aliases capability ({@code runtimeConfig.aliases[NAME]}).
 */
record CniConfig(JsonNode raw, String cniVersion, String name, String network, Path socket, Integer mtu, String mac,
        JsonNode ipam, List<String> ips, JsonNode dns, JsonNode prevResult, List<String> aliases) {
    static final List<String> SUPPORTED = List.of("1.0.0", "1.1.0");
    static final String DEFAULT_SOCKET = "/run/vswitch/vswitchd.sock";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Whether a standard IPAM plugin gives the addresses (any type but absent or "vswitch"). */
    boolean delegatedIpam() {
        return ipam != null && !ipam.path("type").asText("vswitch").equals("vswitch");
    }

    /**
     * Reads and checks the configuration; {@code version} is told the version errors are to be
     * answered in as soon as it is known (the configuration's, or 1.1.0 when it is not spoken).
     */
    static CniConfig parse(byte[] stdin, Map<String, String> cniArgs, Consumer<String> version) throws CniException {
        JsonNode raw;
        try {
            raw = JSON.readTree(stdin);
        } catch (IOException e) {
            throw new CniException(CniException.DECODE_FAILURE, "the network configuration on stdin is not JSON: "
                    + e.getMessage());
        }
        if (raw == null || !raw.isObject()) {
            throw new CniException(CniException.DECODE_FAILURE, "the network configuration on stdin is not a JSON object");
        }
        String cniVersion = raw.hasNonNull("cniVersion") ? raw.get("cniVersion").asText() : "1.1.0";
        if (!SUPPORTED.contains(cniVersion)) {
            version.accept("1.1.0");
            throw new CniException(CniException.INCOMPATIBLE_VERSION, "incompatible CNI versions",
                    "config is \"" + cniVersion + "\", plugin supports " + SUPPORTED);
        }
        version.accept(cniVersion);
        String name = text(raw, "name", true);
        String network = raw.has("network") ? text(raw, "network", true) : name;
        String socket = raw.has("socket") ? text(raw, "socket", true) : DEFAULT_SOCKET;
        if (!socket.startsWith("/")) {
            throw new CniException(CniException.INVALID_CONFIG, "\"socket\" must be an absolute path, got \"" + socket + "\"");
        }
        Integer mtu = null;
        if (raw.has("mtu")) {
            if (!raw.get("mtu").canConvertToInt() || !raw.get("mtu").isIntegralNumber()) {
                throw new CniException(CniException.INVALID_CONFIG, "\"mtu\" must be an integer, got " + raw.get("mtu"));
            }
            mtu = raw.get("mtu").asInt();
        }
        JsonNode ipam = raw.get("ipam");
        if (ipam != null && !ipam.isNull() && (!ipam.isObject() || !ipam.path("type").isTextual())) {
            throw new CniException(CniException.INVALID_CONFIG, "\"ipam\" must be an object with a \"type\"");
        }
        JsonNode runtime = raw.path("runtimeConfig");
        JsonNode args = raw.path("args").path("cni");
        List<String> ips = strings(runtime.path("ips"));
        if (ips.isEmpty()) {
            ips = strings(args.path("ips"));
        }
        if (ips.isEmpty() && cniArgs.containsKey("IP")) {
            ips = List.of(cniArgs.get("IP").split(","));
        }
        String mac = runtime.path("mac").asText(null);
        if (mac == null) {
            mac = args.path("mac").asText(null);
        }
        if (mac == null) {
            mac = cniArgs.get("MAC");
        }
        if (mac == null && raw.has("mac")) {
            mac = text(raw, "mac", true);
        }
        List<String> aliases = strings(runtime.path("aliases").path(name));
        return new CniConfig(raw, cniVersion, name, network, Path.of(socket), mtu, mac,
                ipam == null || ipam.isNull() ? null : ipam, ips, raw.get("dns"), raw.get("prevResult"),
                aliases.isEmpty() ? null : aliases);
    }

    private static String text(JsonNode raw, String key, boolean required) throws CniException {
        JsonNode v = raw.get(key);
        if (v == null || v.isNull()) {
            if (required) {
                throw new CniException(CniException.INVALID_CONFIG, "the network configuration has no \"" + key + "\"");
            }
            return null;
        }
        if (!v.isTextual() || v.asText().isBlank()) {
            throw new CniException(CniException.INVALID_CONFIG, "\"" + key + "\" must be a non-empty string, got " + v);
        }
        return v.asText();
    }

    static List<String> strings(JsonNode array) {
        List<String> list = new ArrayList<>();
        if (array.isArray()) {
            array.forEach(n -> list.add(n.asText()));
        }
        return list;
    }

    /** CNI_ARGS: "K=V;K=V". */
    static Map<String, String> cniArgs(Map<String, String> env) {
        Map<String, String> map = new HashMap<>();
        String text = env.get("CNI_ARGS");
        if (text != null) {
            for (String pair : text.split(";")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    map.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
            }
        }
        return map;
    }
}
