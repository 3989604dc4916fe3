package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

/**
 * A hostile (or any) etcd client for tests: etcd's v3 JSON gateway, called with curl from inside
 * the namespace where etcd listens (the test JVM is in the host's namespace and never reaches
 * the test's underlay). Writes whatever it is told, as anyone with access to etcd could.
 * {@code token}: an auth token (etcd with authentication on), or null.
 */
final class EtcdGateway {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String netns;
    private final String url;
    private final String token;

    EtcdGateway(String netns, String url) {
        this(netns, url, null);
    }

    private EtcdGateway(String netns, String url, String token) {
        this.netns = netns;
        this.url = url;
        this.token = token;
    }

    /** The same gateway, authenticated as {@code user} (etcd with auth enabled). */
    EtcdGateway as(String user, String password) throws Exception {
        ObjectNode b = JSON.createObjectNode().put("name", user).put("password", password);
        JsonNode r = call("/v3/auth/authenticate", b);
        return new EtcdGateway(netns, url, r.path("token").asText());
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(JsonNode b64) {
        return new String(Base64.getDecoder().decode(b64.asText()), StandardCharsets.UTF_8);
    }

    /** POSTs {@code body} to {@code path}; returns the answer (an {"error": ...} answer throws). */
    JsonNode call(String path, JsonNode body) throws Exception {
        Path file = Files.createTempFile("etcd-", ".json");
        try {
            Files.writeString(file, JSON.writeValueAsString(body));
            List<String> cmd = new java.util.ArrayList<>(List.of("ip", "netns", "exec", netns, "curl", "-sS", "-m", "10",
                    "-X", "POST", url + path, "--data-binary", "@" + file));
            if (token != null) {
                cmd.addAll(List.of("-H", "Authorization: " + token));
            }
            Sh.Result r = Sh.run(20, cmd);
            if (!r.ok()) {
                throw new AssertionError("curl " + path + ": " + r);
            }
            JsonNode answer = JSON.readTree(r.out());
            if (answer.has("error") || answer.has("code") && answer.path("code").asInt() != 0) {
                throw new EtcdRefused(path + ": " + r.out());
            }
            return answer;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** etcd answered with an error (such as permission denied). */
    static final class EtcdRefused extends AssertionError {
        EtcdRefused(String message) {
            super(message);
        }
    }

    long grant(int ttlSeconds) throws Exception {
        return call("/v3/lease/grant", JSON.createObjectNode().put("TTL", ttlSeconds)).path("ID").asLong();
    }

    void put(String key, String value) throws Exception {
        put(key, value, 0);
    }

    void put(String key, String value, long lease) throws Exception {
        ObjectNode b = JSON.createObjectNode().put("key", b64(key)).put("value", b64(value));
        if (lease != 0) {
            b.put("lease", Long.toString(lease));
        }
        call("/v3/kv/put", b);
    }

    void delete(String key) throws Exception {
        call("/v3/kv/deleterange", JSON.createObjectNode().put("key", b64(key)));
    }

    /** The key's value, or null. */
    String get(String key) throws Exception {
        JsonNode kvs = call("/v3/kv/range", JSON.createObjectNode().put("key", b64(key))).path("kvs");
        return kvs.isEmpty() ? null : text(kvs.get(0).path("value"));
    }

    /** The lease the key is under (0: none or no key). */
    long lease(String key) throws Exception {
        JsonNode kvs = call("/v3/kv/range", JSON.createObjectNode().put("key", b64(key))).path("kvs");
        return kvs.isEmpty() ? 0 : kvs.get(0).path("lease").asLong();
    }

    /** Puts many keys (key, value pairs) under {@code lease}, 128 to a Txn (etcd's default limit per Txn). */
    void putAll(List<String[]> pairs, long lease) throws Exception {
        for (int from = 0; from < pairs.size(); from += 128) {
            ObjectNode txn = JSON.createObjectNode();
            ArrayNode success = txn.putArray("success");
            for (String[] kv : pairs.subList(from, Math.min(pairs.size(), from + 128))) {
                ObjectNode put = success.addObject().putObject("request_put");
                put.put("key", b64(kv[0])).put("value", b64(kv[1]));
                if (lease != 0) {
                    put.put("lease", Long.toString(lease));
                }
            }
            call("/v3/kv/txn", txn);
        }
    }

    /** Deletes every key under {@code prefix}. */
    void deletePrefix(String prefix) throws Exception {
        byte[] end = prefix.getBytes(StandardCharsets.UTF_8);
        end[end.length - 1]++;
        call("/v3/kv/deleterange", JSON.createObjectNode().put("key", b64(prefix))
                .put("range_end", Base64.getEncoder().encodeToString(end)));
    }
}
