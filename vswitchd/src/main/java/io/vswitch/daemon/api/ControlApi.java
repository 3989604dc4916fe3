package io.vswitch.daemon.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.DropReason;
import io.vswitch.core.MacAddress;
import io.vswitch.core.MacTable;
import io.vswitch.core.NetworkCounter;
import io.vswitch.core.Port;
import io.vswitch.core.PortCounter;
import io.vswitch.daemon.Daemon;
import io.vswitch.tapio.TapPort;
import io.vswitch.vxlan.TunnelCounter;
import io.vswitch.vxlan.TunnelPort;
import io.vswitch.vxlan.VxlanEndpoint;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The control API's resources, as plain maps and lists that become JSON. Reads come straight
 * from the structures the data plane publishes (counters are summed stripes, the MAC table is
 * read lock-free); nothing here touches loop-owned state.
 *
 * <pre>
 *   GET /v1/info                  pid, version, uptime
 *   GET /v1/show                  networks, their ports (state, MTU) and counters
 *   GET /v1/stats                 totals and drops by reason
 *   GET /v1/networks              network names and settings
 *   GET /v1/networks/NET/fdb      the MAC table of one network
 *   POST   /v1/networks                       {"name", "mtu", "vni", "peers", "macAgingSeconds", "macLimit", "persist"}
 *   DELETE /v1/networks/NET
 *   POST   /v1/networks/NET/ports             {"name", "persist"}
 *   DELETE /v1/networks/NET/ports/PORT
 *   POST   /v1/networks/NET/fdb               {"mac", "port"}   a static entry
 *   DELETE /v1/networks/NET/fdb/MAC
 *   POST   /v1/networks/NET/fdb/flush         {"port"} optional
 *   POST   /v1/networks/NET/trace             {"in", "src", "dst", "vlan"}
 * </pre>
 * A refused change answers 4xx with {"error": reason} and changes nothing.
 */
public final class ControlApi {
    static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    public static final String VERSION = "0.1.0";

    private final Daemon daemon;

    public ControlApi(Daemon daemon) {
        this.daemon = daemon;
    }

    /** Handles one request; throws {@link ApiException} with a status and reason on refusal. */
    public Object handle(String method, String path, Map<String, List<String>> query, String body) {
        String[] parts = path.replaceAll("/+$", "").split("/");
        if (parts.length < 3 || !parts[1].equals("v1")) {
            throw ApiException.notFound("no such resource: " + path);
        }
        String resource = parts[2];
        if (!method.equals("GET")) {
            try {
                return change(method, parts, body);
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest(e.getMessage());
            } catch (java.util.NoSuchElementException e) {
                throw ApiException.notFound(e.getMessage());
            } catch (IllegalStateException e) {
                throw ApiException.conflict(e.getMessage());
            }
        }
        if (method.equals("GET")) {
            switch (resource) {
                case "info":
                    return info();
                case "show":
                    return show();
                case "stats":
                    return stats();
                case "networks":
                    if (parts.length == 3) {
                        return networks();
                    }
                    if (parts.length == 5 && parts[4].equals("fdb")) {
                        return fdb(network(parts[3]));
                    }
                    break;
                default:
                    break;
            }
        }
        throw ApiException.notFound("no such resource: " + method + " " + path);
    }

    private Object change(String method, String[] parts, String body) {
        if (!parts[2].equals("networks")) {
            throw ApiException.notFound("no such resource: " + method + " " + String.join("/", parts));
        }
        com.fasterxml.jackson.databind.JsonNode json = body(body);
        if (method.equals("POST") && parts.length == 3) {
            List<String> peers = new ArrayList<>();
            json.path("peers").forEach(p -> peers.add(p.asText()));
            List<io.vswitch.daemon.NetworkSpec.PortSpec> ports = new ArrayList<>();
            json.path("ports").forEach(p -> ports.add(new io.vswitch.daemon.NetworkSpec.PortSpec(p.asText(), false)));
            io.vswitch.daemon.NetworkSpec spec = new io.vswitch.daemon.NetworkSpec(text(json, "name", true),
                    integer(json, "mtu", 0, 65517), integer(json, "macAgingSeconds", 0, 365 * 86400),
                    integer(json, "macLimit", 0, 1 << 20), integer(json, "vni", 0, Integer.MAX_VALUE), peers,
                    json.path("persist").asBoolean(false),
                    json.hasNonNull("offload") ? Boolean.valueOf(json.get("offload").asBoolean()) : null, ports, List.of());
            daemon.addNetwork(spec);
            return networkSummary(daemon.network(spec.name()));
        }
        if (parts.length < 4) {
            throw ApiException.notFound("no such resource: " + method + " " + String.join("/", parts));
        }
        String net = parts[3];
        if (method.equals("DELETE") && parts.length == 4) {
            daemon.removeNetwork(net);
            return Map.of("removed", net);
        }
        String sub = parts.length > 4 ? parts[4] : "";
        if (sub.equals("ports")) {
            if (method.equals("POST") && parts.length == 5) {
                String port = text(json, "name", true);
                daemon.addPort(net, port, json.path("persist").asBoolean(false),
                        json.hasNonNull("offload") ? Boolean.valueOf(json.get("offload").asBoolean()) : null);
                BridgeDomain d = network(net);
                return port(d.port(port), d);
            }
            if (method.equals("DELETE") && parts.length == 6) {
                daemon.removePort(net, parts[5]);
                return Map.of("removed", parts[5]);
            }
        }
        if (sub.equals("fdb")) {
            if (method.equals("POST") && parts.length == 5) {
                daemon.addStatic(net, text(json, "mac", true), text(json, "port", true));
                return Map.of("added", text(json, "mac", true));
            }
            if (method.equals("POST") && parts.length == 6 && parts[5].equals("flush")) {
                return Map.of("flushed", daemon.flush(net, text(json, "port", false)));
            }
            if (method.equals("DELETE") && parts.length == 6) {
                daemon.removeMac(net, java.net.URLDecoder.decode(parts[5], java.nio.charset.StandardCharsets.UTF_8));
                return Map.of("removed", parts[5]);
            }
        }
        if (sub.equals("trace") && method.equals("POST") && parts.length == 5) {
            BridgeDomain d = network(net);
            String in = text(json, "in", true);
            Port ingress = d.port(in);
            if (ingress == null) {
                throw ApiException.notFound("network " + net + " has no port \"" + in + "\"");
            }
            long src = MacAddress.parse(text(json, "src", true));
            long dst = MacAddress.parse(text(json, "dst", true));
            int vlan = json.has("vlan") && !json.get("vlan").isNull() ? integer(json, "vlan", 0, 4095) : -1;
            return io.vswitch.core.Trace.run(d, ingress, src, dst, vlan, System.nanoTime());
        }
        throw ApiException.notFound("no such resource: " + method + " " + String.join("/", parts));
    }

    private static com.fasterxml.jackson.databind.JsonNode body(String body) {
        if (body == null || body.isBlank()) {
            return JSON.createObjectNode();
        }
        try {
            com.fasterxml.jackson.databind.JsonNode node = JSON.readTree(body);
            if (!node.isObject()) {
                throw ApiException.badRequest("invalid JSON: expected an object");
            }
            return node;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw ApiException.badRequest("invalid JSON: " + e.getOriginalMessage());
        }
    }

    private static String text(com.fasterxml.jackson.databind.JsonNode json, String field, boolean required) {
        com.fasterxml.jackson.databind.JsonNode v = json.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw ApiException.badRequest("\"" + field + "\" is required");
            }
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest("\"" + field + "\" must be a string");
        }
        return v.asText();
    }

    private static int integer(com.fasterxml.jackson.databind.JsonNode json, String field, int min, int max) {
        com.fasterxml.jackson.databind.JsonNode v = json.get(field);
        if (v == null || v.isNull()) {
            return 0;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < min || v.asInt() > max) {
            throw ApiException.badRequest("\"" + field + "\" must be an integer " + min + ".." + max + ", got " + v);
        }
        return v.asInt();
    }

    private BridgeDomain network(String name) {
        BridgeDomain domain = daemon.network(name);
        if (domain == null) {
            throw ApiException.notFound("no network named \"" + name + "\"");
        }
        return domain;
    }

    private Map<String, Object> info() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", ProcessHandle.current().pid());
        m.put("version", VERSION);
        m.put("uptimeSeconds", (System.currentTimeMillis() - daemon.startedMillis()) / 1000);
        m.put("config", daemon.config().source());
        m.put("threads", daemon.dataplane().threads());
        return m;
    }

    private List<Map<String, Object>> networks() {
        List<Map<String, Object>> list = new ArrayList<>();
        for (BridgeDomain d : daemon.networks().values()) {
            list.add(networkSummary(d));
        }
        return list;
    }

    private Map<String, Object> networkSummary(BridgeDomain d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", d.name());
        m.put("id", d.id());
        m.put("mtu", d.mtu());
        int vni = daemon.vni(d.name());
        if (vni != 0) {
            m.put("vni", vni);
        }
        m.put("macAgingSeconds", d.settings().macAging().toSeconds());
        m.put("macLimit", d.settings().macLimit());
        m.put("macCount", d.table().size());
        m.put("offload", d.settings().offload());
        return m;
    }

    private Map<String, Object> show() {
        List<Map<String, Object>> nets = new ArrayList<>();
        for (BridgeDomain d : daemon.networks().values()) {
            Map<String, Object> m = networkSummary(d);
            Map<String, Long> counters = new LinkedHashMap<>();
            for (NetworkCounter c : NetworkCounter.values()) {
                counters.put(c.label(), d.count(c));
            }
            m.put("counters", counters);
            List<Map<String, Object>> ports = new ArrayList<>();
            for (Port p : d.ports()) {
                ports.add(port(p, d));
            }
            m.put("ports", ports);
            nets.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("networks", nets);
        VxlanEndpoint vx = daemon.vxlan();
        if (vx != null) {
            out.put("vxlan", tunnel(vx));
        }
        return out;
    }

    private static Map<String, Object> port(Port p, BridgeDomain d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", p.name());
        m.put("id", p.id());
        m.put("kind", p instanceof TunnelPort ? "vxlan" : p instanceof TapPort ? "tap" : "other");
        String state = p.isUp() ? "up" : "down";
        m.put("state", state);
        m.put("mtu", d.mtu());
        if (p instanceof TunnelPort t) {
            m.put("peer", t.peer().getHostAddress());
            m.put("vni", t.vni());
        }
        if (p instanceof TapPort t) {
            m.put("queues", t.queueCount());
            m.put("offload", t.vnetHeader());
            if (t.failure() != null) {
                m.put("reason", t.failure());
            }
        }
        Map<String, Long> counters = new LinkedHashMap<>();
        for (PortCounter c : PortCounter.values()) {
            counters.put(c.label(), p.count(c));
        }
        m.put("counters", counters);
        Map<String, Long> drops = new LinkedHashMap<>();
        for (DropReason r : DropReason.values()) {
            drops.put(r.label(), p.drops(r));
        }
        m.put("drops", drops);
        return m;
    }

    private static Map<String, Object> tunnel(VxlanEndpoint vx) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("local", vx.local().getHostAddress());
        m.put("port", vx.port());
        Map<String, Long> counters = new LinkedHashMap<>();
        for (TunnelCounter c : TunnelCounter.values()) {
            counters.put(c.label(), vx.count(c));
        }
        m.put("counters", counters);
        return m;
    }

    private Map<String, Object> stats() {
        long rxFrames = 0;
        long rxBytes = 0;
        long txFrames = 0;
        long txBytes = 0;
        Map<String, Long> drops = new LinkedHashMap<>();
        for (DropReason r : DropReason.values()) {
            drops.put(r.label(), 0L);
        }
        Map<String, Long> network = new LinkedHashMap<>();
        for (NetworkCounter c : NetworkCounter.values()) {
            network.put(c.label(), 0L);
        }
        for (BridgeDomain d : daemon.networks().values()) {
            for (NetworkCounter c : NetworkCounter.values()) {
                network.merge(c.label(), d.count(c), Long::sum);
            }
            for (Port p : d.ports()) {
                rxFrames += p.count(PortCounter.RX_FRAMES);
                rxBytes += p.count(PortCounter.RX_BYTES);
                txFrames += p.count(PortCounter.TX_FRAMES);
                txBytes += p.count(PortCounter.TX_BYTES);
                for (DropReason r : DropReason.values()) {
                    drops.merge(r.label(), p.drops(r), Long::sum);
                }
            }
        }
        Map<String, Object> totals = new LinkedHashMap<>();
        totals.put("rx_frames", rxFrames);
        totals.put("rx_bytes", rxBytes);
        totals.put("tx_frames", txFrames);
        totals.put("tx_bytes", txBytes);
        totals.put("port_failures", daemon.dataplane().portFailures());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("totals", totals);
        out.put("drops", drops);
        out.put("networks", network);
        VxlanEndpoint vx = daemon.vxlan();
        if (vx != null) {
            out.put("vxlan", tunnel(vx).get("counters"));
        }
        return out;
    }

    private List<Map<String, Object>> fdb(BridgeDomain d) {
        int now = BridgeDomain.tick(System.nanoTime());
        List<Map<String, Object>> entries = new ArrayList<>();
        d.table().forEach((mac, value) -> {
            if (!d.isCurrent(value)) {
                return;
            }
            Port p = d.port(MacTable.portId(value));
            if (p == null) {
                return;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mac", MacAddress.toString(mac));
            m.put("port", p.name());
            if (p instanceof TunnelPort t) {
                m.put("vtep", t.peer().getHostAddress());
            }
            boolean isStatic = MacTable.isStatic(value);
            m.put("type", isStatic ? "static" : "dynamic");
            m.put("ageSeconds", isStatic ? null : Math.max(0, now - MacTable.tick(value)));
            entries.add(m);
        });
        entries.sort(Comparator.comparing(e -> (String) e.get("mac")));
        return entries;
    }
}
