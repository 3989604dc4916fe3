package io.vswitch.daemon;

import io.vswitch.dataplane.Dataplane;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.io.IOException;
import io.vswitch.cluster.ClusterOptions;
import io.vswitch.control.MirrorSpec;
import io.vswitch.control.StormSpec;
import io.vswitch.control.NetworkSpec;
import io.vswitch.control.PortSpec;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the YAML configuration into a {@link DaemonConfig}, checking all of it before anything
 * is created. SnakeYAML composes the file into a node tree that remembers where every node
 * starts; this class walks that tree with the schema in hand (unknown keys and wrong types are
 * errors: a typo must not silently fall back to a default), turns each network into the same
 * {@link NetworkSpec} the control API takes, and hands it to {@link NetworkRules} and
 * {@link Conflicts}, the rules the API applies too. Their refusals name a field; this class only
 * adds the file, the line and the {@code networks[i].} in front.
 */
public final class ConfigReader {
    /** A config file larger than this is refused before it is parsed. */
    public static final long MAX_FILE_BYTES = 1 << 20;
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
    private static final int MAX_THREADS = 64;
    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final NetworkRules.Range PORT = new NetworkRules.Range(1, 65535);

    /** What the rules learn from the host where the daemon runs. */
    @FunctionalInterface
    public interface HostProbe {
        /** The interface that has {@code local}, with its MTU; throws saying why there is none. */
        NetworkRules.Host underlay(Inet4Address local) throws ProbeException;

        /** This host's interfaces. */
        HostProbe LOCAL = local -> {
            NetworkInterface underlay;
            try {
                underlay = NetworkInterface.getByInetAddress(local);
            } catch (SocketException e) {
                throw new ProbeException("cannot list interfaces: " + e.getMessage());
            }
            if (underlay == null) {
                throw new ProbeException(local.getHostAddress() + " is not an address of any interface in this network namespace");
            }
            try {
                return new NetworkRules.Host(local, underlay.getName(), underlay.getMTU());
            } catch (SocketException e) {
                throw new ProbeException("cannot read the MTU of " + underlay.getName() + ": " + e.getMessage());
            }
        };

        /** A host whose underlay MTU is {@code mtu} wherever asked: for checking a file elsewhere. */
        static HostProbe assuming(int mtu) {
            return local -> new NetworkRules.Host(local, "eth0", mtu);
        }
    }

    /** The host is not as the config assumes. */
    public static final class ProbeException extends Exception {
        public ProbeException(String message) {
            super(message);
        }
    }

    private final String file;
    private final Map<String, Integer> lines = new HashMap<>();

    private ConfigReader(String file) {
        this.file = file;
    }

    /** Reads and checks {@code path} against this host. */
    public static DaemonConfig read(Path path) throws ConfigException {
        return read(path, HostProbe.LOCAL);
    }

    public static DaemonConfig read(Path path, HostProbe probe) throws ConfigException {
        String text;
        try {
            long size = Files.size(path);
            if (size > MAX_FILE_BYTES) {
                throw new ConfigException(path.toString(), 0, "", "the file has " + size + " bytes; a configuration is at most "
                        + MAX_FILE_BYTES + " (1 MB)");
            }
            text = Files.readString(path);
        } catch (NoSuchFileException e) {
            throw new ConfigException(path.toString(), 0, "", "no such file");
        } catch (IOException e) {
            throw new ConfigException(path.toString(), 0, "", "cannot read: " + e.getMessage());
        }
        return parse(path.toString(), text, probe);
    }

    /** Checks {@code text} as if on a host whose underlay MTU is 1500. */
    public static DaemonConfig parse(String file, String text) throws ConfigException {
        return parse(file, text, HostProbe.assuming(1500));
    }

    public static DaemonConfig parse(String file, String text, HostProbe probe) throws ConfigException {
        if (text.length() > MAX_FILE_BYTES) {
            throw new ConfigException(file, 0, "", "the file has " + text.length() + " characters; a configuration is at most "
                    + MAX_FILE_BYTES + " (1 MB)");
        }
        return new ConfigReader(file).parse(text, probe);
    }

    private DaemonConfig parse(String text, HostProbe probe) throws ConfigException {
        Node root;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            options.setCodePointLimit((int) MAX_FILE_BYTES);
            options.setMaxAliasesForCollections(50);
            root = new Yaml(options).compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            throw new ConfigException(file, mark != null ? mark.getLine() + 1 : 0, "",
                    "not valid YAML: " + e.getProblem());
        } catch (YAMLException e) {
            throw new ConfigException(file, 0, "", "not valid YAML: " + e.getMessage());
        }
        if (root == null) {
            throw new ConfigException(file, 1, "", "the file is empty: expected at least a 'networks:' list");
        }
        Map<String, Node> top = mapping(root, "", Set.of("dataplane", "vxlan", "metrics", "docker", "dns", "cluster", "networks"));

        DaemonConfig.Dataplane dataplane = dataplane(top.get("dataplane"));
        DaemonConfig.Vxlan vxlan = vxlan(top.get("vxlan"));
        DaemonConfig.Metrics metrics = metrics(top.get("metrics"));
        DaemonConfig.Docker docker = docker(top.get("docker"));
        DaemonConfig.Dns dns = dns(top.get("dns"));
        ClusterOptions cluster = cluster(top.get("cluster"));
        if (cluster != null && vxlan == null) {
            throw error(top.get("cluster"), "cluster", "a cluster needs this host's VTEP: add a vxlan: section with local: ADDRESS");
        }
        NetworkRules.Host host = NetworkRules.Host.NO_VXLAN;
        if (vxlan != null) {
            try {
                host = probe.underlay(vxlan.local());
            } catch (ProbeException e) {
                throw new ConfigException(file, vxlan.line(), "vxlan.local", e.getMessage());
            }
        }
        // Networks may all come later: from Docker, CNI runtimes or the API.
        Node networksNode = top.get("networks");
        List<Node> items = networksNode == null ? List.of() : sequence(networksNode, "networks");
        List<NetworkRules.Network> networks = new ArrayList<>();
        List<NetworkSpec> checked = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String key = "networks[" + i + "]";
            NetworkSpec spec = network(items.get(i), key);
            if (cluster != null && !spec.peers().isEmpty()) {
                throw new ConfigException(file, lines.getOrDefault(key + ".peers", lines.get(key)), key + ".peers",
                        "in a cluster an overlay network's peers are the hosts with ports in it; leave peers out");
            }
            try {
                NetworkRules.Network network = NetworkRules.check(spec, host);
                Conflicts.check(network.spec(), checked);
                networks.add(network);
                checked.add(network.spec());
            } catch (SpecException e) {
                String field = key + "." + e.field();
                throw new ConfigException(file, lines.getOrDefault(field, lines.getOrDefault(key + "." + baseOf(e.field()),
                        lines.get(key))), field, e.getMessage());
            }
        }
        return new DaemonConfig(file, dataplane, vxlan, metrics, docker, dns, cluster, host, List.copyOf(networks));
    }

    /** {@code peers} for {@code peers[2]}: where to point when the item itself has no line. */
    private static String baseOf(String field) {
        int bracket = field.indexOf('[');
        return bracket < 0 ? field : field.substring(0, bracket);
    }

    /** One {@code networks:} entry as the spec the API takes too; types checked, values left to the rules. */
    private NetworkSpec network(Node item, String key) throws ConfigException {
        lines.put(key, line(item));
        Map<String, Node> fields = mapping(item, key,
                Set.of("name", "mtu", "mac-aging", "mac-limit", "ports", "vni", "peers", "persist", "offload", "subnet",
                        "gateway", "subnet6", "gateway6", "gateway-port", "masquerade", "icc", "dns", "vlan",
                        "mac-move-limit", "mac-move-hold", "storm", "mirror"));
        fields.forEach((k, v) -> lines.put(key + "." + k, line(v)));
        String name = fields.containsKey("name") ? string(fields.get("name"), key + ".name") : null;
        Integer mtu = fields.containsKey("mtu") ? number(fields.get("mtu"), key + ".mtu", NetworkRules.MTU) : null;
        Long aging = fields.containsKey("mac-aging") ? duration(fields.get("mac-aging"), key + ".mac-aging").toSeconds() : null;
        Integer limit = fields.containsKey("mac-limit")
                ? number(fields.get("mac-limit"), key + ".mac-limit", NetworkRules.MAC_LIMIT) : null;
        Integer vni = fields.containsKey("vni") ? number(fields.get("vni"), key + ".vni", NetworkRules.VNI) : null;
        List<String> peers = new ArrayList<>();
        if (fields.containsKey("peers")) {
            List<Node> peerItems = sequence(fields.get("peers"), key + ".peers");
            for (int j = 0; j < peerItems.size(); j++) {
                lines.put(key + ".peers[" + j + "]", line(peerItems.get(j)));
                peers.add(string(peerItems.get(j), key + ".peers[" + j + "]").trim());
            }
        }
        List<PortSpec> ports = new ArrayList<>();
        if (fields.containsKey("ports")) {
            List<Node> portItems = sequence(fields.get("ports"), key + ".ports");
            for (int j = 0; j < portItems.size(); j++) {
                String portKey = key + ".ports[" + j + "]";
                lines.put(portKey, line(portItems.get(j)));
                ports.add(port(portItems.get(j), portKey));
            }
        }
        Boolean persist = fields.containsKey("persist") ? bool(fields.get("persist"), key + ".persist") : null;
        Boolean offload = fields.containsKey("offload") ? bool(fields.get("offload"), key + ".offload") : null;
        String subnet = fields.containsKey("subnet") ? string(fields.get("subnet"), key + ".subnet").trim() : null;
        String gateway = fields.containsKey("gateway") ? string(fields.get("gateway"), key + ".gateway").trim() : null;
        String subnet6 = fields.containsKey("subnet6") ? string(fields.get("subnet6"), key + ".subnet6").trim() : null;
        String gateway6 = fields.containsKey("gateway6") ? string(fields.get("gateway6"), key + ".gateway6").trim() : null;
        Boolean gatewayPort = fields.containsKey("gateway-port") ? bool(fields.get("gateway-port"), key + ".gateway-port") : null;
        Boolean masquerade = fields.containsKey("masquerade") ? bool(fields.get("masquerade"), key + ".masquerade") : null;
        Boolean icc = fields.containsKey("icc") ? bool(fields.get("icc"), key + ".icc") : null;
        Boolean dns = fields.containsKey("dns") ? bool(fields.get("dns"), key + ".dns") : null;
        Integer vlan = fields.containsKey("vlan") ? number(fields.get("vlan"), key + ".vlan", NetworkRules.VLAN) : null;
        Integer moveLimit = fields.containsKey("mac-move-limit")
                ? number(fields.get("mac-move-limit"), key + ".mac-move-limit", NetworkRules.MAC_MOVE_LIMIT) : null;
        Long moveHold = fields.containsKey("mac-move-hold")
                ? duration(fields.get("mac-move-hold"), key + ".mac-move-hold").toSeconds() : null;
        StormSpec storm = fields.containsKey("storm") ? storm(fields.get("storm"), key + ".storm") : null;
        List<MirrorSpec> mirrors = new ArrayList<>();
        if (fields.containsKey("mirror")) {
            List<Node> items = sequence(fields.get("mirror"), key + ".mirror");
            for (int j = 0; j < items.size(); j++) {
                mirrors.add(mirror(items.get(j), key + ".mirror[" + j + "]"));
            }
        }
        return new NetworkSpec(name, mtu, aging, limit, vni, peers, persist, offload, ports, List.of(), subnet, gateway,
                subnet6, gateway6, gatewayPort, masquerade, icc, List.of(), dns, vlan, moveLimit, moveHold, storm, mirrors);
    }

    /** {@code storm: {broadcast: N, multicast: N, unknown-unicast: N}}, frames per second. */
    private StormSpec storm(Node node, String key) throws ConfigException {
        lines.put(key, line(node));
        Map<String, Node> fields = mapping(node, key, Set.of("broadcast", "multicast", "unknown-unicast"));
        fields.forEach((k, v) -> lines.put(key + "." + k, line(v)));
        Long[] values = new Long[3];
        String[] names = {"broadcast", "multicast", "unknown-unicast"};
        for (int i = 0; i < 3; i++) {
            if (fields.containsKey(names[i])) {
                values[i] = longValue(fields.get(names[i]), key + "." + names[i], NetworkRules.STORM_RATE);
            }
        }
        return new StormSpec(values[0], values[1], values[2]);
    }

    /** One {@code mirror:} entry: {@code {name, ports: [..], direction: in|out|both, output: PORT}}. */
    private MirrorSpec mirror(Node node, String key) throws ConfigException {
        lines.put(key, line(node));
        Map<String, Node> fields = mapping(node, key, Set.of("name", "ports", "direction", "output"));
        fields.forEach((k, v) -> lines.put(key + "." + k, line(v)));
        List<String> ports = new ArrayList<>();
        if (fields.containsKey("ports")) {
            List<Node> items = sequence(fields.get("ports"), key + ".ports");
            for (int j = 0; j < items.size(); j++) {
                lines.put(key + ".ports[" + j + "]", line(items.get(j)));
                ports.add(string(items.get(j), key + ".ports[" + j + "]").trim());
            }
        }
        return new MirrorSpec(fields.containsKey("name") ? string(fields.get("name"), key + ".name").trim() : null, ports,
                fields.containsKey("direction") ? string(fields.get("direction"), key + ".direction").trim() : null,
                fields.containsKey("output") ? string(fields.get("output"), key + ".output").trim() : null);
    }

    /**
     * A port: a device name, or a mapping {@code {name: X, persist: B, offload: B, type: tap|uplink,
     * trunk: B, mac-limit: N, storm: {...}}}.
     */
    private PortSpec port(Node node, String key) throws ConfigException {
        if (node instanceof MappingNode) {
            Map<String, Node> fields = mapping(node, key, Set.of("name", "persist", "offload", "type", "trunk",
                    "mac-limit", "storm"));
            fields.forEach((k, v) -> lines.put(key + "." + k, line(v)));
            if (!fields.containsKey("name")) {
                throw error(node, key + ".name", "missing: a port needs a device name");
            }
            return new PortSpec(string(fields.get("name"), key + ".name"),
                    fields.containsKey("persist") ? bool(fields.get("persist"), key + ".persist") : null,
                    fields.containsKey("offload") ? bool(fields.get("offload"), key + ".offload") : null,
                    fields.containsKey("type") ? string(fields.get("type"), key + ".type").trim() : null,
                    fields.containsKey("trunk") ? bool(fields.get("trunk"), key + ".trunk") : null,
                    fields.containsKey("mac-limit")
                            ? number(fields.get("mac-limit"), key + ".mac-limit", NetworkRules.PORT_MAC_LIMIT) : null,
                    fields.containsKey("storm") ? storm(fields.get("storm"), key + ".storm") : null);
        }
        return PortSpec.named(string(node, key));
    }

    private DaemonConfig.Dataplane dataplane(Node node) throws ConfigException {
        int cpuCount = Runtime.getRuntime().availableProcessors();
        if (node == null) {
            return new DaemonConfig.Dataplane(cpuCount, List.of(), 64, Duration.ZERO, true, false, true, Dataplane.Io.AUTO);
        }
        Map<String, Node> fields = mapping(node, "dataplane",
                Set.of("threads", "cpus", "batch", "busy-poll", "pin", "multi-queue", "io"));
        int threads = fields.containsKey("threads")
                ? integer(fields.get("threads"), "dataplane.threads", new NetworkRules.Range(1, MAX_THREADS)) : cpuCount;
        List<Integer> cpus = new ArrayList<>();
        if (fields.containsKey("cpus")) {
            List<Node> items = sequence(fields.get("cpus"), "dataplane.cpus");
            for (int i = 0; i < items.size(); i++) {
                String key = "dataplane.cpus[" + i + "]";
                int cpu = integer(items.get(i), key, new NetworkRules.Range(0, cpuCount - 1));
                if (cpus.contains(cpu)) {
                    throw error(items.get(i), key, "duplicate cpu " + cpu + ": each loop needs a CPU of its own");
                }
                cpus.add(cpu);
            }
        }
        int batch = fields.containsKey("batch")
                ? integer(fields.get("batch"), "dataplane.batch", new NetworkRules.Range(1, 256)) : 64;
        Duration busyPoll = Duration.ZERO;
        boolean adaptive = true;
        if (fields.containsKey("busy-poll")) {
            Node n = fields.get("busy-poll");
            String text = string(n, "dataplane.busy-poll").trim();
            Matcher m = Pattern.compile("(\\d+)(us|ms)").matcher(text);
            adaptive = text.equals("adaptive");
            if (!adaptive && !text.equals("0") && !m.matches()) {
                throw error(n, "dataplane.busy-poll",
                        "expected adaptive, 0 (never poll) or a spin time such as 50us or 2ms, got \"" + text + "\"");
            }
            if (!adaptive && !text.equals("0")) {
                busyPoll = m.group(2).equals("us")
                        ? Duration.ofNanos(Long.parseLong(m.group(1)) * 1000) : Duration.ofMillis(Long.parseLong(m.group(1)));
                if (busyPoll.compareTo(Duration.ofSeconds(1)) > 0) {
                    throw error(n, "dataplane.busy-poll", "expected at most 1s of spinning, got \"" + text + "\"");
                }
            }
        }
        // Unpinned by default: on a host whose CPUs the containers share, the scheduler then wakes
        // a loop where the sender runs (ping p99 0.11-0.14 ms against 0.24-0.37 ms pinned, on 2
        // CPUs). Naming cpus (CPUs set aside for the switch) pins.
        boolean pin = fields.containsKey("pin") ? bool(fields.get("pin"), "dataplane.pin") : !cpus.isEmpty();
        if (!pin && !cpus.isEmpty()) {
            throw error(fields.get("cpus"), "dataplane.cpus", "cpus name where to pin the loops, but pin is false");
        }
        boolean multiQueue = !fields.containsKey("multi-queue") || bool(fields.get("multi-queue"), "dataplane.multi-queue");
        Dataplane.Io io = Dataplane.Io.AUTO;
        if (fields.containsKey("io")) {
            String text = string(fields.get("io"), "dataplane.io").trim();
            io = null;
            for (Dataplane.Io v : Dataplane.Io.values()) {
                if (v.label().equals(text)) {
                    io = v;
                }
            }
            if (io == null) {
                throw error(fields.get("io"), "dataplane.io", "expected auto, io_uring or epoll, got \"" + text + "\"");
            }
        }
        return new DaemonConfig.Dataplane(threads, List.copyOf(cpus), batch, busyPoll, adaptive, pin, multiQueue, io);
    }

    private DaemonConfig.Metrics metrics(Node node) throws ConfigException {
        if (node == null) {
            return DaemonConfig.Metrics.DEFAULT;
        }
        Map<String, Node> fields = mapping(node, "metrics", Set.of("listen"));
        if (!fields.containsKey("listen")) {
            return DaemonConfig.Metrics.DEFAULT;
        }
        Node listen = fields.get("listen");
        String text = listen instanceof ScalarNode s && s.getValue().equals("false") ? "off" : string(listen, "metrics.listen").trim();
        if (text.equals("off")) {
            return new DaemonConfig.Metrics(null);
        }
        int colon = text.lastIndexOf(':');
        String expected = "expected ADDRESS:PORT such as 127.0.0.1:9477, or off";
        if (colon < 0 || !IPV4.matcher(text.substring(0, colon)).matches()) {
            throw error(listen, "metrics.listen", expected + ", got \"" + text + "\"");
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw error(listen, "metrics.listen", expected + ", got \"" + text + "\"");
        }
        if (port < 1 || port > 65535) {
            throw error(listen, "metrics.listen", expected + ", got \"" + text + "\"");
        }
        return new DaemonConfig.Metrics(new java.net.InetSocketAddress(InetAddress.ofLiteral(text.substring(0, colon)), port));
    }

    private DaemonConfig.Docker docker(Node node) throws ConfigException {
        if (node == null) {
            return null;
        }
        if (node instanceof ScalarNode s && s.getTag().getValue().endsWith(":null")) {
            return new DaemonConfig.Docker(DaemonConfig.Docker.DEFAULT_SOCKET);
        }
        Map<String, Node> fields = mapping(node, "docker", Set.of("plugin-socket"));
        if (!fields.containsKey("plugin-socket")) {
            return new DaemonConfig.Docker(DaemonConfig.Docker.DEFAULT_SOCKET);
        }
        String path = string(fields.get("plugin-socket"), "docker.plugin-socket").trim();
        if (!path.startsWith("/") || !path.endsWith(".sock")) {
            throw error(fields.get("plugin-socket"), "docker.plugin-socket",
                    "expected an absolute path ending in .sock (Docker finds /run/docker/plugins/NAME.sock), got \"" + path + "\"");
        }
        return new DaemonConfig.Docker(Path.of(path));
    }

    private DaemonConfig.Dns dns(Node node) throws ConfigException {
        if (node == null) {
            return DaemonConfig.Dns.DEFAULT;
        }
        Map<String, Node> fields = mapping(node, "dns", Set.of("upstream", "pending-per-port", "rate-per-port"));
        List<InetSocketAddress> upstream = null;
        if (fields.containsKey("upstream")) {
            List<Node> items = sequence(fields.get("upstream"), "dns.upstream");
            upstream = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                String text = string(items.get(i), "dns.upstream[" + i + "]").trim();
                try {
                    upstream.add(io.vswitch.resolver.ResolvConf.parse(text));
                } catch (IllegalArgumentException e) {
                    throw error(items.get(i), "dns.upstream[" + i + "]", e.getMessage());
                }
            }
            upstream = List.copyOf(upstream);
        }
        int pending = fields.containsKey("pending-per-port")
                ? integer(fields.get("pending-per-port"), "dns.pending-per-port", DaemonConfig.Dns.PER_PORT)
                : DaemonConfig.Dns.DEFAULT.pendingPerPort();
        int rate = fields.containsKey("rate-per-port")
                ? integer(fields.get("rate-per-port"), "dns.rate-per-port", DaemonConfig.Dns.PER_PORT)
                : DaemonConfig.Dns.DEFAULT.ratePerPort();
        return new DaemonConfig.Dns(upstream, pending, rate);
    }

    private static final Pattern CLUSTER_HOST = Pattern.compile("[a-z0-9][a-z0-9.-]{0,62}");
    private static final Pattern CLUSTER_PREFIX = Pattern.compile("(/[A-Za-z0-9_.-]+)+");

    /** {@code cluster:} etcd as the overlay's shared store ({@link ClusterOptions}); null without the section. */
    private ClusterOptions cluster(Node node) throws ConfigException {
        if (node == null) {
            return null;
        }
        Map<String, Node> fields = mapping(node, "cluster", Set.of("etcd", "prefix", "host", "ttl", "tls"));
        if (!fields.containsKey("etcd")) {
            throw error(node, "cluster.etcd", "missing: expected etcd's client URLs, such as [http://127.0.0.1:2379]");
        }
        List<Node> items = sequence(fields.get("etcd"), "cluster.etcd");
        if (items.isEmpty()) {
            throw error(fields.get("etcd"), "cluster.etcd", "expected at least one URL, such as http://127.0.0.1:2379");
        }
        List<java.net.URI> etcd = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String key = "cluster.etcd[" + i + "]";
            String text = string(items.get(i), key).trim();
            java.net.URI uri;
            try {
                uri = new java.net.URI(text);
            } catch (java.net.URISyntaxException e) {
                throw error(items.get(i), key, "expected a URL such as http://127.0.0.1:2379, got \"" + text + "\"");
            }
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null
                    || uri.getPort() < 1 || (uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/"))) {
                throw error(items.get(i), key, "expected http://HOST:PORT or https://HOST:PORT, got \"" + text + "\"");
            }
            etcd.add(uri);
        }
        String prefix = ClusterOptions.DEFAULT_PREFIX;
        if (fields.containsKey("prefix")) {
            prefix = string(fields.get("prefix"), "cluster.prefix").trim();
            if (!CLUSTER_PREFIX.matcher(prefix).matches()) {
                throw error(fields.get("prefix"), "cluster.prefix", "expected a key prefix such as /vswitch/v1 (a leading"
                        + " slash, no trailing one, letters, digits, '_', '.', '-'), got \"" + prefix + "\"");
            }
        }
        String host;
        if (fields.containsKey("host")) {
            host = string(fields.get("host"), "cluster.host").trim();
        } else {
            host = defaultHost();
        }
        if (!CLUSTER_HOST.matcher(host).matches()) {
            throw error(fields.containsKey("host") ? fields.get("host") : node, "cluster.host", "expected this host's name in"
                    + " the cluster: 1-63 of [a-z0-9.-], got \"" + host + "\"" + (fields.containsKey("host") ? ""
                    : " (from the host name: set host:)"));
        }
        Duration ttl = ClusterOptions.DEFAULT_TTL;
        if (fields.containsKey("ttl")) {
            ttl = duration(fields.get("ttl"), "cluster.ttl");
            if (ttl.toMillis() % 1000 != 0 || ttl.toSeconds() < 2 || ttl.toSeconds() > 3600) {
                throw error(fields.get("ttl"), "cluster.ttl", "expected whole seconds from 2s to 1h (etcd leases count"
                        + " seconds), got " + ttl.toMillis() + " ms");
            }
        }
        Path ca = null;
        Path cert = null;
        Path key = null;
        if (fields.containsKey("tls")) {
            Map<String, Node> tls = mapping(fields.get("tls"), "cluster.tls", Set.of("ca", "cert", "key"));
            ca = tls.containsKey("ca") ? readable(tls.get("ca"), "cluster.tls.ca") : null;
            cert = tls.containsKey("cert") ? readable(tls.get("cert"), "cluster.tls.cert") : null;
            key = tls.containsKey("key") ? readable(tls.get("key"), "cluster.tls.key") : null;
            if ((cert == null) != (key == null)) {
                throw error(fields.get("tls"), "cluster.tls", "cert and key go together: give both or neither");
            }
            for (int i = 0; i < etcd.size(); i++) {
                if (!"https".equals(etcd.get(i).getScheme())) {
                    throw error(items.get(i), "cluster.etcd[" + i + "]", "with tls: the URLs are https://, got " + etcd.get(i));
                }
            }
        }
        return new ClusterOptions(etcd, prefix, host, ttl, ca, cert, key);
    }

    private Path readable(Node node, String key) throws ConfigException {
        Path p = Path.of(string(node, key).trim());
        if (!java.nio.file.Files.isReadable(p) || java.nio.file.Files.isDirectory(p)) {
            throw error(node, key, "cannot read file " + p);
        }
        return p;
    }

    /** This machine's host name, lower case, up to its first dot. */
    private static String defaultHost() {
        try {
            String name = java.nio.file.Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
            return name.toLowerCase(java.util.Locale.ROOT);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private DaemonConfig.Vxlan vxlan(Node node) throws ConfigException {
        if (node == null) {
            return null;
        }
        Map<String, Node> fields = mapping(node, "vxlan", Set.of("local", "port"));
        if (!fields.containsKey("local")) {
            throw error(node, "vxlan.local", "missing: expected the underlay IPv4 address to bind, such as 198.19.0.1");
        }
        Node localNode = fields.get("local");
        Inet4Address local;
        try {
            local = NetworkRules.unicastIpv4(string(localNode, "vxlan.local"), "vxlan.local");
        } catch (SpecException e) {
            throw error(localNode, "vxlan.local", e.getMessage().replace("of a remote VTEP", "of this host"));
        }
        int port = fields.containsKey("port") ? integer(fields.get("port"), "vxlan.port", PORT) : 4789;
        return new DaemonConfig.Vxlan(local, port, line(node));
    }

    // ---- typed accessors over the node tree -------------------------------------------------

    private Map<String, Node> mapping(Node node, String key, Set<String> allowed) throws ConfigException {
        if (!(node instanceof MappingNode map)) {
            throw error(node, key.isEmpty() ? "(top level)" : key, "expected a mapping of keys "
                    + String.join(", ", sorted(allowed)) + ", got " + describe(node));
        }
        Map<String, Node> fields = new LinkedHashMap<>();
        for (NodeTuple tuple : map.getValue()) {
            Node keyNode = tuple.getKeyNode();
            String name = keyNode instanceof ScalarNode s ? s.getValue() : null;
            String path = key.isEmpty() ? String.valueOf(name) : key + "." + name;
            if (name == null || !allowed.contains(name)) {
                throw error(keyNode, path, "unknown key; expected one of " + String.join(", ", sorted(allowed)));
            }
            if (fields.containsKey(name)) {
                throw error(keyNode, path, "duplicate key (first at line " + line(fields.get(name)) + ")");
            }
            fields.put(name, tuple.getValueNode());
        }
        return fields;
    }

    private List<Node> sequence(Node node, String key) throws ConfigException {
        if (node instanceof SequenceNode seq) {
            return seq.getValue();
        }
        throw error(node, key, "expected a list, got " + describe(node));
    }

    private String string(Node node, String key) throws ConfigException {
        if (node instanceof ScalarNode s && !s.getTag().getValue().endsWith(":null")) {
            return s.getValue();
        }
        throw error(node, key, "expected a string, got " + describe(node));
    }

    private boolean bool(Node node, String key) throws ConfigException {
        if (node instanceof ScalarNode s && (s.getValue().equals("true") || s.getValue().equals("false"))) {
            return Boolean.parseBoolean(s.getValue());
        }
        throw error(node, key, "expected true or false, got " + describe(node));
    }

    /**
     * An integer of a network field: refused here only when it is no integer at all (the message
     * names the rule's {@code range}); whether it is in range is for {@link NetworkRules} to say.
     */
    private int number(Node node, String key, NetworkRules.Range range) throws ConfigException {
        long value = longValue(node, key, range);
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw error(node, key, "expected an integer " + range + ", got " + value);
        }
        return (int) value;
    }

    /** An integer in {@code range}. */
    private int integer(Node node, String key, NetworkRules.Range range) throws ConfigException {
        long value = longValue(node, key, range);
        if (value < range.min() || value > range.max()) {
            throw error(node, key, "expected an integer " + range + ", got " + value);
        }
        return (int) value;
    }

    private long longValue(Node node, String key, NetworkRules.Range range) throws ConfigException {
        if (!(node instanceof ScalarNode s)) {
            throw error(node, key, "expected an integer " + range + ", got " + describe(node));
        }
        long value;
        try {
            value = Long.parseLong(s.getValue().trim());
        } catch (NumberFormatException e) {
            throw error(node, key, "expected an integer " + range + ", got \"" + s.getValue() + "\"");
        }
        return value;
    }

    private Duration duration(Node node, String key) throws ConfigException {
        String expected = "expected a duration of at least 1s such as 300s, 5m, 1h or 1500ms";
        if (!(node instanceof ScalarNode s)) {
            throw error(node, key, expected + ", got " + describe(node));
        }
        Matcher m = DURATION.matcher(s.getValue().trim());
        if (!m.matches()) {
            throw error(node, key, expected + ", got \"" + s.getValue() + "\"");
        }
        long amount;
        try {
            amount = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw error(node, key, expected + ", got \"" + s.getValue() + "\"");
        }
        Duration d = switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            default -> Duration.ofHours(amount);
        };
        if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(Duration.ofDays(365)) > 0) {
            throw error(node, key, "expected a duration from 1s to 365 days, got \"" + s.getValue() + "\"");
        }
        return d;
    }

    private static String describe(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        if (node instanceof ScalarNode s) {
            return s.getTag().getValue().endsWith(":null") ? "nothing" : "\"" + s.getValue() + "\"";
        }
        return "nothing";
    }

    private static List<String> sorted(Set<String> keys) {
        return keys.stream().sorted().toList();
    }

    private static int line(Node node) {
        return node.getStartMark().getLine() + 1;
    }

    private ConfigException error(Node node, String key, String problem) {
        return new ConfigException(file, line(node), key, problem);
    }
}
