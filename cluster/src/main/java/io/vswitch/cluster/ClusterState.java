package io.vswitch.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The cluster's keys folded into maps, one put or delete at a time ({@link #apply}); a list
 * starts from {@link #clear()}. Not thread-safe: the store's session thread owns it. Values that
 * cannot be read are left out and counted, never fatal: one bad writer must not stop the rest.
 */
public final class ClusterState {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterState.class);
    static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, ClusterView.Host> hosts = new TreeMap<>();
    private final Map<String, String> networks = new TreeMap<>();
    private final Map<String, Set<String>> members = new TreeMap<>();
    private final Map<String, Map<String, ClusterView.Endpoint>> endpoints = new TreeMap<>();
    private final Map<String, Map<String, String>> addresses = new TreeMap<>();
    private final Set<String> ignored = new HashSet<>();
    /** Immutable copies of each network's endpoints as of the last view, dropped when they change. */
    private final Map<String, Map<String, ClusterView.Endpoint>> endpointCopies = new HashMap<>();
    private long revision;

    public void clear() {
        hosts.clear();
        networks.clear();
        members.clear();
        endpoints.clear();
        endpointCopies.clear();
        addresses.clear();
        ignored.clear();
    }

    public void revision(long revision) {
        this.revision = revision;
    }

    /**
     * Folds in one key ({@code rel}: without the prefix): a put with {@code value}, or a delete
     * when it is null. {@code lease} is the key's lease (0: none).
     */
    public void apply(String rel, String value, long lease) {
        try {
            if (rel.startsWith(Keys.HOSTS)) {
                String name = single(rel.substring(Keys.HOSTS.length()));
                if (value == null) {
                    hosts.remove(name);
                } else {
                    JsonNode n = JSON.readTree(value);
                    String vtep = text(n, "vtep");
                    hosts.put(name, new ClusterView.Host(name, vtep, n.path("port").asInt(4789),
                            n.path("since").asLong(0), lease));
                }
            } else if (rel.startsWith(Keys.NETWORKS)) {
                String name = single(rel.substring(Keys.NETWORKS.length()));
                if (value == null) {
                    networks.remove(name);
                } else {
                    JsonNode n = JSON.readTree(value);
                    if (!n.path("spec").isObject()) {
                        throw new IllegalArgumentException("no \"spec\" object");
                    }
                    networks.put(name, JSON.writeValueAsString(n.get("spec")));
                }
            } else if (rel.startsWith(Keys.MEMBERS)) {
                String[] p = pair(rel.substring(Keys.MEMBERS.length()));
                if (value == null) {
                    Set<String> s = members.get(p[0]);
                    if (s != null && s.remove(p[1]) && s.isEmpty()) {
                        members.remove(p[0]);
                    }
                } else {
                    members.computeIfAbsent(p[0], k -> new java.util.TreeSet<>()).add(p[1]);
                }
            } else if (rel.startsWith(Keys.ENDPOINTS)) {
                String[] p = pair(rel.substring(Keys.ENDPOINTS.length()));
                endpointCopies.remove(p[0]);
                if (value == null) {
                    Map<String, ClusterView.Endpoint> m = endpoints.get(p[0]);
                    if (m != null && m.remove(p[1]) != null && m.isEmpty()) {
                        endpoints.remove(p[0]);
                    }
                } else {
                    JsonNode n = JSON.readTree(value);
                    String ip = n.path("ip").isTextual() ? n.get("ip").asText() : null;
                    endpoints.computeIfAbsent(p[0], k -> new HashMap<>())
                            .put(p[1], new ClusterView.Endpoint(p[1], mac(p[1]), ip, text(n, "host")));
                }
            } else if (rel.startsWith(Keys.ADDRESSES)) {
                String[] p = pair(rel.substring(Keys.ADDRESSES.length()));
                if (value == null) {
                    Map<String, String> m = addresses.get(p[0]);
                    if (m != null && m.remove(p[1]) != null && m.isEmpty()) {
                        addresses.remove(p[0]);
                    }
                } else {
                    addresses.computeIfAbsent(p[0], k -> new HashMap<>()).put(p[1], text(JSON.readTree(value), "host"));
                }
            } else {
                throw new IllegalArgumentException("not a key of this layout");
            }
            ignored.remove(rel);
        } catch (Exception e) {
            if (ignored.add(rel)) {
                LOG.warn("cluster: key {} ignored: {}", rel, e.getMessage());
            }
        }
    }

    /** A MAC written aa:bb:cc:dd:ee:ff (as the daemons write them) as a number. */
    static long mac(String text) {
        if (text.length() != 17) {
            throw new IllegalArgumentException("expected a MAC such as 02:00:00:00:00:01, got " + text);
        }
        long v = 0;
        for (int i = 0; i < 17; i++) {
            char c = text.charAt(i);
            if (i % 3 == 2) {
                if (c != ':') {
                    throw new IllegalArgumentException("expected a MAC such as 02:00:00:00:00:01, got " + text);
                }
                continue;
            }
            int d = Character.digit(c, 16);
            if (d < 0) {
                throw new IllegalArgumentException("expected a MAC such as 02:00:00:00:00:01, got " + text);
            }
            v = (v << 4) | d;
        }
        return v;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) {
            throw new IllegalArgumentException("no \"" + field + "\"");
        }
        return v.asText();
    }

    private static String single(String part) {
        if (part.isEmpty() || part.contains("/")) {
            throw new IllegalArgumentException("expected one name after the kind");
        }
        return part;
    }

    private static String[] pair(String part) {
        String[] p = part.split("/", -1);
        if (p.length != 2 || p[0].isEmpty() || p[1].isEmpty()) {
            throw new IllegalArgumentException("expected NET/NAME after the kind");
        }
        return p;
    }

    /** An immutable copy as of now. */
    public ClusterView view() {
        Map<String, Set<String>> m = new LinkedHashMap<>();
        members.forEach((k, v) -> m.put(k, Set.copyOf(v)));
        Map<String, Map<String, ClusterView.Endpoint>> e = new LinkedHashMap<>();
        endpoints.forEach((k, v) -> e.put(k, endpointCopies.computeIfAbsent(k, x -> Map.copyOf(v))));
        Map<String, Map<String, String>> a = new LinkedHashMap<>();
        addresses.forEach((k, v) -> a.put(k, Map.copyOf(v)));
        return new ClusterView(Map.copyOf(hosts), Map.copyOf(networks), Map.copyOf(m), Map.copyOf(e), Map.copyOf(a),
                revision, ignored.size());
    }
}
