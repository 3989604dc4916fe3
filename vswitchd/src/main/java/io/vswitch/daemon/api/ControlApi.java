package io.vswitch.daemon.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.vswitch.cluster.ClusterView;
import io.vswitch.cluster.EtcdStore;
import io.vswitch.control.Json;
import io.vswitch.control.NetworkSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.control.Requests;
import io.vswitch.control.StaticEntry;
import io.vswitch.control.Views;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.DropReason;
import io.vswitch.core.MacAddress;
import io.vswitch.core.MacTable;
import io.vswitch.core.NetworkCounter;
import io.vswitch.core.Port;
import io.vswitch.core.PortCounter;
import io.vswitch.core.Trace;
import io.vswitch.control.EndpointSpec;
import io.vswitch.daemon.Attachments;
import io.vswitch.daemon.ClusterSync;
import io.vswitch.daemon.Daemon;
import io.vswitch.daemon.NetworkRules;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.daemon.PortFactory;
import io.vswitch.daemon.SpecException;
import io.vswitch.vxlan.TunnelCounter;
import io.vswitch.vxlan.VxlanEndpoint;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The control API's resources. Request bodies are read strictly into the contract's records
 * ({@link Json#STRICT}); responses are the contract's {@link Views}. Reads come straight from the
 * structures the data plane publishes (counters are summed stripes, the MAC table is read
 * lock-free); changes go through the registry ({@link Daemon}), which checks them with the same
 * rules as the config file.
 *
 * <pre>
 *   GET    /v1/info                           pid, version, uptime
 *   GET    /v1/show                           networks, their ports (state, MTU) and counters
 *   GET    /v1/stats                          totals and drops by reason
 *   GET    /v1/cluster                        the cluster: session, hosts (VTEP, lease), networks
 *   GET    /v1/networks                       networks and their settings
 *   GET    /v1/networks/NET                   one network
 *   GET    /v1/networks/NET/fdb               the MAC table of one network
 *   POST   /v1/networks                       NetworkSpec
 *   DELETE /v1/networks/NET
 *   PUT    /v1/networks/NET/peers             {"peers": [...]}: an overlay network's remote VTEPs
 *   POST   /v1/networks/NET/ports             PortSpec
 *   DELETE /v1/networks/NET/ports/PORT
 *   POST   /v1/networks/NET/fdb               StaticEntry
 *   DELETE /v1/networks/NET/fdb/MAC
 *   POST   /v1/networks/NET/fdb/flush         {"port"} optional
 *   POST   /v1/networks/NET/trace             {"in", "src", "dst", "vlan"}
 *   POST   /v1/networks/NET/capture           {"port", "filter", "count", "output"}: pcap to a FIFO or new file
 *   GET    /v1/captures                       running captures
 *   DELETE /v1/captures/ID
 *   PUT    /v1/networks/NET/mirrors           {"mirrors": [{"name", "ports", "direction", "output"}]}
 * </pre>
 * A refused request answers 4xx with {"error": reason} and changes nothing; a change that could
 * not be saved answers 500 and is undone.
 */
public final class ControlApi {
    public static final String VERSION = "0.1.0";

    /** What to answer: a status and a body of the contract. */
    public record Reply(int status, Object body) {
    }

    private final Daemon daemon;

    public ControlApi(Daemon daemon) {
        this.daemon = daemon;
    }

    /** Handles one request; a refusal becomes a 4xx or 5xx reply with the reason. */
    public Reply handle(String method, String path, String body) {
        try {
            return route(method, path, body);
        } catch (ApiException e) {
            return new Reply(e.status(), new Views.Error(e.getMessage()));
        } catch (SpecException e) {
            return switch (e.kind()) {
                // A bad value is named by its field, as the config file's errors name their key.
                case INVALID -> new Reply(400, new Views.Error(e.field() + ": " + e.getMessage()));
                case CONFLICT -> new Reply(409, new Views.Error(e.getMessage()));
                case NOT_FOUND -> new Reply(404, new Views.Error(e.getMessage()));
            };
        } catch (PortFactory.OpenException e) {
            return new Reply(409, new Views.Error(e.getMessage()));
        } catch (Daemon.UnavailableException e) {
            return new Reply(503, new Views.Error(e.getMessage()));
        } catch (Daemon.PersistException e) {
            return new Reply(500, new Views.Error(e.getMessage()));
        }
    }

    private Reply route(String method, String path, String body) throws PortFactory.OpenException {
        String[] parts = path.replaceAll("/+$", "").split("/", -1);
        if (parts.length < 3 || !parts[0].isEmpty() || !parts[1].equals("v1")) {
            throw ApiException.notFound("no such resource: " + path);
        }
        for (int i = 3; i < parts.length; i++) {
            parts[i] = decode(parts[i]);
        }
        String resource = parts[2];
        int n = parts.length;
        String what = method + " " + path;
        switch (method) {
            case "GET" -> {
                if (n == 3 && resource.equals("info")) {
                    return ok(info());
                }
                if (n == 3 && resource.equals("show")) {
                    return ok(show());
                }
                if (n == 3 && resource.equals("cluster")) {
                    return ok(cluster());
                }
                if (n == 3 && resource.equals("captures")) {
                    return ok(daemon.captures().list().stream().map(ControlApi::capture).toList());
                }
                if (n == 3 && resource.equals("stats")) {
                    return ok(stats());
                }
                if (n == 3 && resource.equals("endpoints")) {
                    return ok(daemon.endpoints().stream().map(this::endpoint).toList());
                }
                if (resource.equals("networks")) {
                    if (n == 5 && parts[4].equals("endpoints")) {
                        return ok(daemon.endpoints(parts[3]).stream().map(this::endpoint).toList());
                    }
                    if (n == 3) {
                        return ok(daemon.networks().stream().map(s -> network(s, false)).toList());
                    }
                    if (n == 4) {
                        return ok(network(daemon.network(parts[3]), false));
                    }
                    if (n == 5 && parts[4].equals("fdb")) {
                        return ok(fdb(daemon.network(parts[3]).domain()));
                    }
                }
            }
            case "POST" -> {
                if (resource.equals("networks") && n == 3) {
                    return created(network(daemon.addNetwork(read(body, NetworkSpec.class)), false));
                }
                if (resource.equals("networks") && n == 5 && parts[4].equals("ports")) {
                    Port port = daemon.addPort(parts[3], read(body, PortSpec.class));
                    return created(port(port, port.domain()));
                }
                if (resource.equals("networks") && n == 5 && parts[4].equals("fdb")) {
                    StaticEntry entry = read(body, StaticEntry.class);
                    daemon.addStatic(parts[3], entry);
                    return created(new Views.Added(entry.mac()));
                }
                if (resource.equals("networks") && n == 6 && parts[4].equals("fdb") && parts[5].equals("flush")) {
                    Requests.Flush flush = body == null || body.isBlank() ? new Requests.Flush(null) : read(body, Requests.Flush.class);
                    return ok(new Views.Flushed(daemon.flush(parts[3], flush.port())));
                }
                if (resource.equals("networks") && n == 5 && parts[4].equals("endpoints")) {
                    return created(endpoint(daemon.attach(parts[3], read(body, Requests.Attach.class))));
                }
                if (resource.equals("networks") && n == 6 && parts[4].equals("endpoints") && parts[5].equals("detach")) {
                    return ok(endpoint(daemon.detach(parts[3], read(body, Requests.Detach.class))));
                }
                if (resource.equals("networks") && n == 5 && parts[4].equals("capture")) {
                    try {
                        return created(capture(startCapture(parts[3], read(body, Requests.Capture.class))));
                    } catch (java.io.IOException e) {
                        throw new ApiException(503, "cannot start the capture: " + e.getMessage());
                    }
                }
                if (resource.equals("networks") && n == 5 && parts[4].equals("trace")) {
                    return ok(trace(parts[3], read(body, Requests.Trace.class)));
                }
            }
            case "PUT" -> {
                if (resource.equals("networks") && n == 5 && parts[4].equals("mirrors")) {
                    return ok(network(daemon.setMirrors(parts[3], read(body, Requests.Mirrors.class).mirrors()), false));
                }
                if (resource.equals("networks") && n == 5 && parts[4].equals("peers")) {
                    return ok(network(daemon.setPeers(parts[3], read(body, Requests.Peers.class).peers()), false));
                }
            }
            case "DELETE" -> {
                if (resource.equals("networks") && n == 4) {
                    return ok(new Views.Removed(parts[3], daemon.removeNetwork(parts[3])));
                }
                if (resource.equals("captures") && n == 4) {
                    long id;
                    try {
                        id = Long.parseLong(parts[3]);
                    } catch (NumberFormatException e) {
                        throw ApiException.badRequest("a capture's id is a number, got " + parts[3]);
                    }
                    if (!daemon.captures().stop(id)) {
                        throw ApiException.notFound("no capture " + id);
                    }
                    return ok(new Views.Removed(parts[3]));
                }
                if (resource.equals("networks") && n == 6 && parts[4].equals("ports")) {
                    daemon.removePort(parts[3], parts[5]);
                    return ok(new Views.Removed(parts[5]));
                }
                if (resource.equals("networks") && n == 6 && parts[4].equals("fdb")) {
                    daemon.removeMac(parts[3], parts[5]);
                    return ok(new Views.Removed(parts[5]));
                }
            }
            default -> throw new ApiException(405, "method " + method + " is not supported");
        }
        throw ApiException.notFound("no such resource: " + what);
    }

    /** Starts a capture of a network (or one port of it); bad values are named by their field. */
    private io.vswitch.capture.CaptureSession startCapture(String net, Requests.Capture r) throws java.io.IOException {
        BridgeDomain domain = daemon.network(net).domain();
        if (r.port() != null && domain.port(r.port()) == null) {
            throw SpecException.notFound("port", "network " + net + " has no port \"" + r.port() + "\"");
        }
        try {
            return daemon.captures().start(domain, r.port(), r.filter(), r.count() == null ? 0 : r.count(),
                    r.output() == null ? null : java.nio.file.Path.of(r.output()));
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            int colon = m.indexOf(": ");
            boolean named = colon > 0 && m.substring(0, colon).matches("[a-z]+");
            throw new SpecException(named ? m.substring(0, colon) : "filter", named ? m.substring(colon + 2) : m);
        } catch (IllegalStateException e) {
            throw SpecException.conflict("capture", e.getMessage());
        }
    }

    private static Views.Capture capture(io.vswitch.capture.CaptureSession s) {
        return new Views.Capture(s.id(), s.network(), s.port(), s.filter(), s.count(), s.captured(), s.written(),
                s.lost(), s.isRunning());
    }

    private static Reply ok(Object body) {
        return new Reply(200, body);
    }

    private static Reply created(Object body) {
        return new Reply(201, body);
    }

    private static String decode(String segment) {
        try {
            return URLDecoder.decode(segment, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("bad escape in the path: " + segment);
        }
    }

    /** Reads a request body into its record, strictly. */
    static <T> T read(String body, Class<T> type) {
        if (body == null || body.isBlank()) {
            throw ApiException.badRequest("a JSON body is required");
        }
        try {
            T value = Json.STRICT.readValue(body, type);
            if (value == null) {
                throw ApiException.badRequest("invalid JSON: expected an object");
            }
            return value;
        } catch (UnrecognizedPropertyException e) {
            throw ApiException.badRequest("invalid JSON: unknown field \"" + e.getPropertyName() + "\"; expected one of "
                    + e.getKnownPropertyIds());
        } catch (MismatchedInputException e) {
            String field = e.getPath().isEmpty() ? "" : "\"" + e.getPath().getLast().getFieldName() + "\": ";
            throw ApiException.badRequest("invalid JSON: " + field + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("invalid JSON: " + e.getOriginalMessage());
        }
    }

    // ---- views ------------------------------------------------------------------------------

    private Views.Info info() {
        return new Views.Info(ProcessHandle.current().pid(), VERSION,
                (System.currentTimeMillis() - daemon.startedMillis()) / 1000, daemon.config().source(),
                daemon.dataplane().threads());
    }

    private Views.Network network(Daemon.NetworkState s, boolean full) {
        BridgeDomain d = s.domain();
        Map<String, Long> counters = null;
        List<Views.Port> ports = null;
        if (full) {
            counters = new LinkedHashMap<>();
            for (NetworkCounter c : NetworkCounter.values()) {
                counters.put(c.label(), d.count(c));
            }
            ports = new ArrayList<>();
            for (Port p : d.ports()) {
                ports.add(port(p, d));
            }
        }
        NetworkRules.Network c = s.checked();
        return new Views.Network(d.name(), d.id(), d.mtu(), s.vni(), s.peers(), d.settings().macAging().toSeconds(),
                d.settings().macLimit(), d.table().size(), d.settings().offload(), counters, ports,
                c.subnet4() == null ? null : c.subnet4().toString(), c.gateway4() == null ? null : c.gateway4().getHostAddress(),
                c.subnet6() == null ? null : c.subnet6().toString(), c.gateway6() == null ? null : c.gateway6().getHostAddress(),
                c.gatewayPort() != null, c.masquerade(), c.icc(), daemon.endpoints(d.name()).size(), c.dns(),
                c.spec().vlan(), d.settings().macMoveLimit(), daemon.mirrors(d.name()));
    }

    private Views.Endpoint endpoint(Attachments.Endpoint e) {
        EndpointSpec s = e.spec();
        int mtu = s.mtu() != null ? s.mtu() : daemon.network(e.network()).domain().mtu();
        NetworkRules.Network checked = daemon.network(e.network()).checked();
        List<String> nameservers = new ArrayList<>();
        if (checked.dns()) {
            if (s.ipv4() != null && checked.gateway4() != null) {
                nameservers.add(checked.gateway4().getHostAddress());
            }
            if (s.ipv6() != null && checked.gateway6() != null) {
                nameservers.add(checked.gateway6().getHostAddress());
            }
        }
        // gone: its interface was not found after a restart, or its namespace was deleted (the port failed).
        String state = e.port() == null || e.port().hasFailed() ? "gone" : e.port().linkUp() ? "up" : "down";
        String reason = e.port() == null ? "its interface was not found in its namespace"
                : e.port().hasFailed() ? e.port().failure() : null;
        return new Views.Endpoint(e.network(), s.id(), s.name(), s.port(), s.netns(), s.ifname(), s.mac(), s.ipv4(), s.ipv6(),
                s.gateway(), s.gateway6(), mtu, s.owner(), s.aliases(), nameservers.isEmpty() ? null : nameservers, state, reason);
    }

    private Views.Port port(Port p, BridgeDomain d) {
        Map<String, Long> counters = new LinkedHashMap<>();
        for (PortCounter c : PortCounter.values()) {
            counters.put(c.label(), p.count(c));
        }
        Map<String, Long> drops = new LinkedHashMap<>();
        for (DropReason r : DropReason.values()) {
            drops.put(r.label(), p.drops(r));
        }
        Integer vni = p.remote() == null ? null : networkVni(d);
        String reason = p.failure() != null ? p.failure() : !p.linkUp() ? "link down in its network namespace" : null;
        return new Views.Port(p.name(), p.id(), p.kind(), p.isUp() && p.linkUp() ? "up" : "down", d.mtu(), reason,
                p.queueCount(), p.offloads(), p.remote(), vni, counters, drops);
    }

    private Integer networkVni(BridgeDomain d) {
        return daemon.network(d.name()).vni();
    }

    private Views.DataplaneStatus dataplaneStatus() {
        io.vswitch.dataplane.Dataplane dp = daemon.dataplane();
        long spin = dp.options().busyPollNs();
        String polling = spin == io.vswitch.dataplane.Dataplane.ADAPTIVE_POLL ? "adaptive"
                : spin == 0 ? "off" : spin % 1_000_000 == 0 ? spin / 1_000_000 + "ms" : spin / 1000 + "us";
        long[] ring = dp.ringCounts();
        return new Views.DataplaneStatus(dp.threads(), dp.io().label(), dp.ioNote(), polling, ring[0], ring[1], ring[2]);
    }

    private Views.Show show() {
        daemon.refreshLinks();
        List<Views.Network> nets = daemon.networks().stream().map(s -> network(s, true)).toList();
        return new Views.Show(dataplaneStatus(), nets, vxlan(), clusterStatus());
    }

    private Views.ClusterStatus clusterStatus() {
        ClusterSync c = daemon.cluster();
        if (c == null) {
            return null;
        }
        EtcdStore store = c.store();
        ClusterView v = store.view();
        return new Views.ClusterStatus(c.self(), store.connected(),
                store.options().etcd().stream().map(Object::toString).toList(), store.options().prefix(), v.revision(),
                v.hosts().size(), v.endpoints().values().stream().mapToInt(Map::size).sum());
    }

    private Views.Cluster cluster() {
        ClusterSync c = daemon.cluster();
        if (c == null) {
            throw ApiException.notFound("this daemon is not in a cluster: its config has no cluster: section");
        }
        EtcdStore store = c.store();
        ClusterView v = store.view();
        long now = System.currentTimeMillis();
        List<Views.ClusterHost> hosts = new java.util.ArrayList<>();
        for (ClusterView.Host h : new java.util.TreeMap<>(v.hosts()).values()) {
            List<String> nets = new java.util.ArrayList<>();
            int endpoints = 0;
            for (String net : new java.util.TreeSet<>(v.members().keySet())) {
                if (v.members(net).contains(h.name())) {
                    nets.add(net);
                }
            }
            for (Map<String, ClusterView.Endpoint> m : v.endpoints().values()) {
                for (ClusterView.Endpoint e : m.values()) {
                    if (h.name().equals(e.host())) {
                        endpoints++;
                    }
                }
            }
            hosts.add(new Views.ClusterHost(h.name(), h.vtep(), h.port(), h.name().equals(c.self()),
                    h.since() > 0 ? Math.max(0, (now - h.since()) / 1000) : -1, store.leaseTtl(h.lease()), nets, endpoints));
        }
        List<Views.ClusterNetwork> networks = new java.util.ArrayList<>();
        for (Map.Entry<String, String> e : new java.util.TreeMap<>(v.networks()).entrySet()) {
            Integer vni = null;
            try {
                com.fasterxml.jackson.databind.JsonNode n = Json.LENIENT.readTree(e.getValue()).path("vni");
                vni = n.isInt() ? n.asInt() : null;
            } catch (Exception ignored) {
                // shown without
            }
            networks.add(new Views.ClusterNetwork(e.getKey(), vni, List.copyOf(new java.util.TreeSet<>(v.members(e.getKey()))),
                    v.endpoints(e.getKey()).size()));
        }
        return new Views.Cluster(clusterStatus(), (int) store.options().ttl().toSeconds(), hosts, networks);
    }

    private Views.Vxlan vxlan() {
        VxlanEndpoint vx = daemon.vxlan();
        if (vx == null) {
            return null;
        }
        Map<String, Long> counters = new LinkedHashMap<>();
        for (TunnelCounter c : TunnelCounter.values()) {
            counters.put(c.label(), vx.count(c));
        }
        return new Views.Vxlan(vx.local().getHostAddress(), vx.port(), counters);
    }

    /** Totals over every port and network there is or was: they never go down. */
    private Views.Stats stats() {
        daemon.refreshLinks();
        Dataplane dp = daemon.dataplane();
        long rxFrames = dp.retiredPortCount(PortCounter.RX_FRAMES.ordinal());
        long rxBytes = dp.retiredPortCount(PortCounter.RX_BYTES.ordinal());
        long txFrames = dp.retiredPortCount(PortCounter.TX_FRAMES.ordinal());
        long txBytes = dp.retiredPortCount(PortCounter.TX_BYTES.ordinal());
        Map<String, Long> drops = new LinkedHashMap<>();
        for (DropReason r : DropReason.values()) {
            drops.put(r.label(), dp.retiredPortCount(PortCounter.dropIndex(r)));
        }
        Map<String, Long> network = new LinkedHashMap<>();
        for (NetworkCounter c : NetworkCounter.values()) {
            network.put(c.label(), dp.retiredNetworkCount(c));
        }
        for (Daemon.NetworkState s : daemon.networks()) {
            BridgeDomain d = s.domain();
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
        Map<String, Long> totals = new LinkedHashMap<>();
        totals.put("rx_frames", rxFrames);
        totals.put("rx_bytes", rxBytes);
        totals.put("tx_frames", txFrames);
        totals.put("tx_bytes", txBytes);
        totals.put("port_failures", daemon.dataplane().portFailures());
        Views.Vxlan vx = vxlan();
        return new Views.Stats(totals, drops, network, vx == null ? null : vx.counters());
    }

    private List<Views.FdbEntry> fdb(BridgeDomain d) {
        int now = BridgeDomain.tick(System.nanoTime());
        List<Views.FdbEntry> entries = new ArrayList<>();
        d.table().forEach((mac, value) -> {
            if (!d.isCurrent(value)) {
                return;
            }
            Port p = d.port(MacTable.portId(value));
            if (p == null) {
                return;
            }
            boolean isStatic = MacTable.isStatic(value);
            entries.add(new Views.FdbEntry(MacAddress.toString(mac), p.name(), p.remote(), isStatic ? "static" : "dynamic",
                    isStatic ? null : (long) Math.max(0, now - MacTable.tick(value))));
        });
        entries.sort(Comparator.comparing(Views.FdbEntry::mac));
        return entries;
    }

    private Views.Trace trace(String net, Requests.Trace request) {
        BridgeDomain d = daemon.network(net).domain();
        if (request.in() == null || request.src() == null || request.dst() == null) {
            throw ApiException.badRequest("\"in\", \"src\" and \"dst\" are required");
        }
        Port ingress = d.port(request.in());
        if (ingress == null) {
            throw ApiException.notFound("network " + net + " has no port \"" + request.in() + "\"");
        }
        long src;
        long dst;
        try {
            src = MacAddress.parse(request.src());
            dst = MacAddress.parse(request.dst());
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        int vlan = request.vlan() == null ? -1 : request.vlan();
        if (vlan < -1 || vlan > 4095) {
            throw ApiException.badRequest("\"vlan\" must be 0..4095, got " + vlan);
        }
        Trace.Result r = Trace.run(d, ingress, src, dst, vlan, System.nanoTime());
        return new Views.Trace(r.network(), r.in(), r.src(), r.dst(), r.vlan(), r.steps(), r.decision(), r.egress(), r.reason());
    }
}
