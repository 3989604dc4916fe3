package io.vswitch.daemon;

import io.vswitch.cluster.ClusterOptions;
import io.vswitch.dataplane.Dataplane;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The configuration's daemon-wide sections, each read into its record of {@link DaemonConfig}
 * with its defaults: {@code dataplane:}, {@code vxlan:}, {@code metrics:}, {@code docker:},
 * {@code dns:}, {@code cluster:}. An absent section takes its defaults (or is null where the
 * daemon has none of it: no VXLAN endpoint, no Docker driver, no cluster).
 */
final class DaemonSections {
    private static final int MAX_THREADS = 64;
    private static final Pattern IPV4 = Pattern.compile(
            "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final NetworkRules.Range PORT = new NetworkRules.Range(1, 65535);

    private final YamlTree yaml;

    DaemonSections(YamlTree yaml) {
        this.yaml = yaml;
    }

    DaemonConfig.Dataplane dataplane(Node node) throws ConfigException {
        int cpuCount = Runtime.getRuntime().availableProcessors();
        if (node == null) {
            return new DaemonConfig.Dataplane(cpuCount, List.of(), 64, Duration.ZERO, true, false, true, Dataplane.Io.AUTO);
        }
        Map<String, Node> fields = yaml.mapping(node, "dataplane",
                Set.of("threads", "cpus", "batch", "busy-poll", "pin", "multi-queue", "io"));
        int threads = fields.containsKey("threads")
                ? yaml.integer(fields.get("threads"), "dataplane.threads", new NetworkRules.Range(1, MAX_THREADS)) : cpuCount;
        List<Integer> cpus = new ArrayList<>();
        if (fields.containsKey("cpus")) {
            List<Node> items = yaml.sequence(fields.get("cpus"), "dataplane.cpus");
            for (int i = 0; i < items.size(); i++) {
                String key = "dataplane.cpus[" + i + "]";
                int cpu = yaml.integer(items.get(i), key, new NetworkRules.Range(0, cpuCount - 1));
                if (cpus.contains(cpu)) {
                    throw yaml.error(items.get(i), key, "duplicate cpu " + cpu + ": each loop needs a CPU of its own");
                }
                cpus.add(cpu);
            }
        }
        int batch = fields.containsKey("batch")
                ? yaml.integer(fields.get("batch"), "dataplane.batch", new NetworkRules.Range(1, 256)) : 64;
        Duration busyPoll = Duration.ZERO;
        boolean adaptive = true;
        if (fields.containsKey("busy-poll")) {
            Node n = fields.get("busy-poll");
            String text = yaml.string(n, "dataplane.busy-poll").trim();
            Matcher m = Pattern.compile("(\\d+)(us|ms)").matcher(text);
            adaptive = text.equals("adaptive");
            if (!adaptive && !text.equals("0") && !m.matches()) {
                throw yaml.error(n, "dataplane.busy-poll",
                        "expected adaptive, 0 (never poll) or a spin time such as 50us or 2ms, got \"" + text + "\"");
            }
            if (!adaptive && !text.equals("0")) {
                busyPoll = m.group(2).equals("us")
                        ? Duration.ofNanos(Long.parseLong(m.group(1)) * 1000) : Duration.ofMillis(Long.parseLong(m.group(1)));
                if (busyPoll.compareTo(Duration.ofSeconds(1)) > 0) {
                    throw yaml.error(n, "dataplane.busy-poll", "expected at most 1s of spinning, got \"" + text + "\"");
                }
            }
        }
        // Unpinned by default: on a host whose CPUs the containers share, the scheduler then wakes
        // a loop where the sender runs (ping p99 0.11-0.14 ms against 0.24-0.37 ms pinned, on 2
        // CPUs). Naming cpus (CPUs set aside for the switch) pins.
        boolean pin = fields.containsKey("pin") ? yaml.bool(fields.get("pin"), "dataplane.pin") : !cpus.isEmpty();
        if (!pin && !cpus.isEmpty()) {
            throw yaml.error(fields.get("cpus"), "dataplane.cpus", "cpus name where to pin the loops, but pin is false");
        }
        boolean multiQueue = !fields.containsKey("multi-queue") || yaml.bool(fields.get("multi-queue"), "dataplane.multi-queue");
        Dataplane.Io io = Dataplane.Io.AUTO;
        if (fields.containsKey("io")) {
            String text = yaml.string(fields.get("io"), "dataplane.io").trim();
            io = null;
            for (Dataplane.Io v : Dataplane.Io.values()) {
                if (v.label().equals(text)) {
                    io = v;
                }
            }
            if (io == null) {
                throw yaml.error(fields.get("io"), "dataplane.io", "expected auto, io_uring or epoll, got \"" + text + "\"");
            }
        }
        return new DaemonConfig.Dataplane(threads, List.copyOf(cpus), batch, busyPoll, adaptive, pin, multiQueue, io);
    }

    DaemonConfig.Metrics metrics(Node node) throws ConfigException {
        if (node == null) {
            return DaemonConfig.Metrics.DEFAULT;
        }
        Map<String, Node> fields = yaml.mapping(node, "metrics", Set.of("listen"));
        if (!fields.containsKey("listen")) {
            return DaemonConfig.Metrics.DEFAULT;
        }
        Node listen = fields.get("listen");
        String text = listen instanceof ScalarNode s && s.getValue().equals("false") ? "off" : yaml.string(listen, "metrics.listen").trim();
        if (text.equals("off")) {
            return new DaemonConfig.Metrics(null);
        }
        int colon = text.lastIndexOf(':');
        String expected = "expected ADDRESS:PORT such as 127.0.0.1:9477, or off";
        if (colon < 0 || !IPV4.matcher(text.substring(0, colon)).matches()) {
            throw yaml.error(listen, "metrics.listen", expected + ", got \"" + text + "\"");
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw yaml.error(listen, "metrics.listen", expected + ", got \"" + text + "\"");
        }
        if (port < 1 || port > 65535) {
            throw yaml.error(listen, "metrics.listen", expected + ", got \"" + text + "\"");
        }
        return new DaemonConfig.Metrics(new java.net.InetSocketAddress(InetAddress.ofLiteral(text.substring(0, colon)), port));
    }

    DaemonConfig.Docker docker(Node node) throws ConfigException {
        if (node == null) {
            return null;
        }
        if (node instanceof ScalarNode s && s.getTag().getValue().endsWith(":null")) {
            return new DaemonConfig.Docker(DaemonConfig.Docker.DEFAULT_SOCKET);
        }
        Map<String, Node> fields = yaml.mapping(node, "docker", Set.of("plugin-socket"));
        if (!fields.containsKey("plugin-socket")) {
            return new DaemonConfig.Docker(DaemonConfig.Docker.DEFAULT_SOCKET);
        }
        String path = yaml.string(fields.get("plugin-socket"), "docker.plugin-socket").trim();
        if (!path.startsWith("/") || !path.endsWith(".sock")) {
            throw yaml.error(fields.get("plugin-socket"), "docker.plugin-socket",
                    "expected an absolute path ending in .sock (Docker finds /run/docker/plugins/NAME.sock), got \"" + path + "\"");
        }
        return new DaemonConfig.Docker(Path.of(path));
    }

    DaemonConfig.Dns dns(Node node) throws ConfigException {
        if (node == null) {
            return DaemonConfig.Dns.DEFAULT;
        }
        Map<String, Node> fields = yaml.mapping(node, "dns", Set.of("upstream", "pending-per-port", "rate-per-port"));
        List<InetSocketAddress> upstream = null;
        if (fields.containsKey("upstream")) {
            List<Node> items = yaml.sequence(fields.get("upstream"), "dns.upstream");
            upstream = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                String text = yaml.string(items.get(i), "dns.upstream[" + i + "]").trim();
                try {
                    upstream.add(io.vswitch.resolver.ResolvConf.parse(text));
                } catch (IllegalArgumentException e) {
                    throw yaml.error(items.get(i), "dns.upstream[" + i + "]", e.getMessage());
                }
            }
            upstream = List.copyOf(upstream);
        }
        int pending = fields.containsKey("pending-per-port")
                ? yaml.integer(fields.get("pending-per-port"), "dns.pending-per-port", DaemonConfig.Dns.PER_PORT)
                : DaemonConfig.Dns.DEFAULT.pendingPerPort();
        int rate = fields.containsKey("rate-per-port")
                ? yaml.integer(fields.get("rate-per-port"), "dns.rate-per-port", DaemonConfig.Dns.PER_PORT)
                : DaemonConfig.Dns.DEFAULT.ratePerPort();
        return new DaemonConfig.Dns(upstream, pending, rate);
    }

    private static final Pattern CLUSTER_HOST = Pattern.compile("[a-z0-9][a-z0-9.-]{0,62}");
    private static final Pattern CLUSTER_PREFIX = Pattern.compile("(/[A-Za-z0-9_.-]+)+");

    /** {@code cluster:} etcd as the overlay's shared store ({@link ClusterOptions}); null without the section. */
    ClusterOptions cluster(Node node) throws ConfigException {
        if (node == null) {
            return null;
        }
        Map<String, Node> fields = yaml.mapping(node, "cluster", Set.of("etcd", "prefix", "host", "ttl", "tls", "underlay",
                "user", "password-file"));
        if (!fields.containsKey("etcd")) {
            throw yaml.error(node, "cluster.etcd", "missing: expected etcd's client URLs, such as [http://127.0.0.1:2379]");
        }
        List<Node> items = yaml.sequence(fields.get("etcd"), "cluster.etcd");
        if (items.isEmpty()) {
            throw yaml.error(fields.get("etcd"), "cluster.etcd", "expected at least one URL, such as http://127.0.0.1:2379");
        }
        List<java.net.URI> etcd = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String key = "cluster.etcd[" + i + "]";
            String text = yaml.string(items.get(i), key).trim();
            java.net.URI uri;
            try {
                uri = new java.net.URI(text);
            } catch (java.net.URISyntaxException e) {
                throw yaml.error(items.get(i), key, "expected a URL such as http://127.0.0.1:2379, got \"" + text + "\"");
            }
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null
                    || uri.getPort() < 1 || (uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/"))) {
                throw yaml.error(items.get(i), key, "expected http://HOST:PORT or https://HOST:PORT, got \"" + text + "\"");
            }
            etcd.add(uri);
        }
        String prefix = ClusterOptions.DEFAULT_PREFIX;
        if (fields.containsKey("prefix")) {
            prefix = yaml.string(fields.get("prefix"), "cluster.prefix").trim();
            if (!CLUSTER_PREFIX.matcher(prefix).matches()) {
                throw yaml.error(fields.get("prefix"), "cluster.prefix", "expected a key prefix such as /vswitch/v1 (a leading"
                        + " slash, no trailing one, letters, digits, '_', '.', '-'), got \"" + prefix + "\"");
            }
        }
        String host;
        if (fields.containsKey("host")) {
            host = yaml.string(fields.get("host"), "cluster.host").trim();
        } else {
            host = defaultHost();
        }
        if (!CLUSTER_HOST.matcher(host).matches()) {
            throw yaml.error(fields.containsKey("host") ? fields.get("host") : node, "cluster.host", "expected this host's name in"
                    + " the cluster: 1-63 of [a-z0-9.-], got \"" + host + "\"" + (fields.containsKey("host") ? ""
                    : " (from the host name: set host:)"));
        }
        Duration ttl = ClusterOptions.DEFAULT_TTL;
        if (fields.containsKey("ttl")) {
            ttl = yaml.duration(fields.get("ttl"), "cluster.ttl");
            if (ttl.toMillis() % 1000 != 0 || ttl.toSeconds() < 2 || ttl.toSeconds() > 3600) {
                throw yaml.error(fields.get("ttl"), "cluster.ttl", "expected whole seconds from 2s to 1h (etcd leases count"
                        + " seconds), got " + ttl.toMillis() + " ms");
            }
        }
        Path ca = null;
        Path cert = null;
        Path key = null;
        if (fields.containsKey("tls")) {
            Map<String, Node> tls = yaml.mapping(fields.get("tls"), "cluster.tls", Set.of("ca", "cert", "key"));
            ca = tls.containsKey("ca") ? yaml.readable(tls.get("ca"), "cluster.tls.ca") : null;
            cert = tls.containsKey("cert") ? yaml.readable(tls.get("cert"), "cluster.tls.cert") : null;
            key = tls.containsKey("key") ? yaml.readable(tls.get("key"), "cluster.tls.key") : null;
            if ((cert == null) != (key == null)) {
                throw yaml.error(fields.get("tls"), "cluster.tls", "cert and key go together: give both or neither");
            }
            for (int i = 0; i < etcd.size(); i++) {
                if (!"https".equals(etcd.get(i).getScheme())) {
                    throw yaml.error(items.get(i), "cluster.etcd[" + i + "]", "with tls: the URLs are https://, got " + etcd.get(i));
                }
            }
        }
        List<String> underlay = null;
        if (fields.containsKey("underlay")) {
            underlay = new ArrayList<>();
            List<Node> prefixes = yaml.sequence(fields.get("underlay"), "cluster.underlay");
            for (int i = 0; i < prefixes.size(); i++) {
                String p = yaml.string(prefixes.get(i), "cluster.underlay[" + i + "]").trim();
                try {
                    io.vswitch.cluster.Underlay.parsePrefix(p);
                } catch (IllegalArgumentException e) {
                    throw yaml.error(prefixes.get(i), "cluster.underlay[" + i + "]", e.getMessage());
                }
                underlay.add(p);
            }
        }
        String user = fields.containsKey("user") ? yaml.string(fields.get("user"), "cluster.user").trim() : null;
        Path password = fields.containsKey("password-file") ? yaml.readable(fields.get("password-file"), "cluster.password-file")
                : null;
        if ((user == null) != (password == null)) {
            throw yaml.error(fields.containsKey("user") ? fields.get("user") : fields.get("password-file"), "cluster.user",
                    "user and password-file go together: give both or neither");
        }
        return new ClusterOptions(etcd, prefix, host, ttl, ca, cert, key, underlay, user, password);
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

    DaemonConfig.Vxlan vxlan(Node node) throws ConfigException {
        if (node == null) {
            return null;
        }
        Map<String, Node> fields = yaml.mapping(node, "vxlan", Set.of("local", "port"));
        if (!fields.containsKey("local")) {
            throw yaml.error(node, "vxlan.local", "missing: expected the underlay IPv4 address to bind, such as 198.19.0.1");
        }
        Node localNode = fields.get("local");
        Inet4Address local;
        try {
            local = NetworkRules.unicastIpv4(yaml.string(localNode, "vxlan.local"), "vxlan.local");
        } catch (SpecException e) {
            throw yaml.error(localNode, "vxlan.local", e.getMessage().replace("of a remote VTEP", "of this host"));
        }
        int port = fields.containsKey("port") ? yaml.integer(fields.get("port"), "vxlan.port", PORT) : 4789;
        return new DaemonConfig.Vxlan(local, port, YamlTree.line(node));
    }
}
