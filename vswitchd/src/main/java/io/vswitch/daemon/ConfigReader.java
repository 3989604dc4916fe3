package io.vswitch.daemon;

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
import java.net.InetAddress;
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
 * starts, and this class walks that tree with the schema in hand, so every complaint names the
 * line and the key. Unknown keys are errors (a typo must not silently fall back to a default).
 */
public final class ConfigReader {
    public static final Pattern NETWORK_NAME_PATTERN = Pattern.compile("[a-z0-9-]{1,15}");
    static final Pattern NETWORK_NAME = Pattern.compile("[a-z0-9-]{1,15}");
    static final Pattern DEVICE_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
    private static final int MAX_THREADS = 64;
    private static final int MIN_MTU = 68;
    private static final int MAX_MTU = 65535 - 18;
    private static final int MAX_MAC_LIMIT = 1 << 20;
    private static final int MAX_VNI = 0xFF_FFFF;
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

    private final String file;

    private ConfigReader(String file) {
        this.file = file;
    }

    public static DaemonConfig read(Path path) throws ConfigException {
        String text;
        try {
            text = Files.readString(path);
        } catch (NoSuchFileException e) {
            throw new ConfigException(path.toString(), 0, "", "no such file");
        } catch (IOException e) {
            throw new ConfigException(path.toString(), 0, "", "cannot read: " + e.getMessage());
        }
        return parse(path.toString(), text);
    }

    public static DaemonConfig parse(String file, String text) throws ConfigException {
        return new ConfigReader(file).parse(text);
    }

    private DaemonConfig parse(String text) throws ConfigException {
        Node root;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
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
        Map<String, Node> top = mapping(root, "", Set.of("dataplane", "vxlan", "metrics", "networks"));

        DaemonConfig.Dataplane dataplane = dataplane(top.get("dataplane"));
        DaemonConfig.Vxlan vxlan = vxlan(top.get("vxlan"));
        DaemonConfig.Metrics metrics = metrics(top.get("metrics"));
        Node networksNode = top.get("networks");
        if (networksNode == null) {
            throw error(root, "networks", "missing: expected a list of networks, each with a name and ports");
        }
        List<Node> items = sequence(networksNode, "networks");
        if (items.isEmpty()) {
            throw error(networksNode, "networks", "expected at least one network");
        }
        List<DaemonConfig.Network> networks = new ArrayList<>();
        Map<String, Node> networkNames = new HashMap<>();
        Map<String, String> portOwners = new HashMap<>();
        Map<String, Node> portNodes = new HashMap<>();
        Map<Integer, String> vniOwners = new HashMap<>();
        for (int i = 0; i < items.size(); i++) {
            String key = "networks[" + i + "]";
            Node item = items.get(i);
            Map<String, Node> fields = mapping(item, key,
                    Set.of("name", "mtu", "mac-aging", "mac-limit", "ports", "vni", "peers", "persist", "offload"));
            Node nameNode = fields.get("name");
            if (nameNode == null) {
                throw error(item, key + ".name", "missing: every network needs a name (1-15 chars [a-z0-9-])");
            }
            String name = string(nameNode, key + ".name");
            if (!NETWORK_NAME.matcher(name).matches()) {
                throw error(nameNode, key + ".name", "expected 1-15 characters [a-z0-9-], got \"" + name + "\"");
            }
            if (networkNames.containsKey(name)) {
                throw error(nameNode, key + ".name", "duplicate network \"" + name + "\" (first defined at line "
                        + line(networkNames.get(name)) + ")");
            }
            networkNames.put(name, nameNode);
            int vni = 0;
            List<InetAddress> peers = new ArrayList<>();
            if (fields.containsKey("vni")) {
                Node vniNode = fields.get("vni");
                vni = integer(vniNode, key + ".vni", 1, MAX_VNI);
                if (vxlan == null) {
                    throw error(vniNode, key + ".vni", "an overlay network needs a 'vxlan:' section with the local underlay address");
                }
                if (vniOwners.containsKey(vni)) {
                    throw error(vniNode, key + ".vni", "duplicate vni " + vni + " (already used by network " + vniOwners.get(vni) + ")");
                }
                vniOwners.put(vni, name);
            }
            if (fields.containsKey("peers")) {
                if (vni == 0) {
                    throw error(fields.get("peers"), key + ".peers", "peers need a vni: only an overlay network has remote VTEPs");
                }
                List<Node> peerItems = sequence(fields.get("peers"), key + ".peers");
                for (int j = 0; j < peerItems.size(); j++) {
                    String peerKey = key + ".peers[" + j + "]";
                    InetAddress peer = address(peerItems.get(j), peerKey);
                    if (peer.equals(vxlan.local())) {
                        throw error(peerItems.get(j), peerKey, "a peer cannot be the local address " + peer.getHostAddress());
                    }
                    if (peers.contains(peer)) {
                        throw error(peerItems.get(j), peerKey, "duplicate peer " + peer.getHostAddress());
                    }
                    peers.add(peer);
                }
            }
            int defaultMtu = vni != 0 ? 1500 - 50 : 1500;
            int mtu = fields.containsKey("mtu")
                    ? integer(fields.get("mtu"), key + ".mtu", MIN_MTU, MAX_MTU) : defaultMtu;
            int mtuLine = fields.containsKey("mtu") ? line(fields.get("mtu")) : line(item);
            Duration aging = fields.containsKey("mac-aging")
                    ? duration(fields.get("mac-aging"), key + ".mac-aging") : Duration.ofSeconds(300);
            int limit = fields.containsKey("mac-limit")
                    ? integer(fields.get("mac-limit"), key + ".mac-limit", 1, MAX_MAC_LIMIT) : 8192;
            List<String> ports = new ArrayList<>();
            if (fields.containsKey("ports")) {
                List<Node> portItems = sequence(fields.get("ports"), key + ".ports");
                for (int j = 0; j < portItems.size(); j++) {
                    String portKey = key + ".ports[" + j + "]";
                    Node portNode = portItems.get(j);
                    String port = string(portNode, portKey);
                    if (!DEVICE_NAME.matcher(port).matches()) {
                        throw error(portNode, portKey, "expected a device name of 1-15 characters [A-Za-z0-9_.-], got \""
                                + port + "\"");
                    }
                    if (portOwners.containsKey(port)) {
                        throw error(portNode, portKey, "duplicate port \"" + port + "\" (already in network "
                                + portOwners.get(port) + " at line " + line(portNodes.get(port)) + ")");
                    }
                    portOwners.put(port, name);
                    portNodes.put(port, portNode);
                    ports.add(port);
                }
            }
            boolean persist = fields.containsKey("persist") && bool(fields.get("persist"), key + ".persist");
            Boolean offload = null;
            if (fields.containsKey("offload")) {
                offload = bool(fields.get("offload"), key + ".offload");
            }
            networks.add(new DaemonConfig.Network(name, mtu, aging, limit, List.copyOf(ports), vni,
                    List.copyOf(peers), persist, offload, line(item), mtuLine));
        }
        return new DaemonConfig(file, dataplane, vxlan, metrics, List.copyOf(networks));
    }

    private DaemonConfig.Dataplane dataplane(Node node) throws ConfigException {
        int cpuCount = Runtime.getRuntime().availableProcessors();
        if (node == null) {
            return new DaemonConfig.Dataplane(cpuCount, List.of(), 64, Duration.ZERO, true);
        }
        Map<String, Node> fields = mapping(node, "dataplane", Set.of("threads", "cpus", "batch", "busy-poll", "pin"));
        int threads = fields.containsKey("threads")
                ? integer(fields.get("threads"), "dataplane.threads", 1, MAX_THREADS) : cpuCount;
        List<Integer> cpus = new ArrayList<>();
        if (fields.containsKey("cpus")) {
            List<Node> items = sequence(fields.get("cpus"), "dataplane.cpus");
            for (int i = 0; i < items.size(); i++) {
                cpus.add(integer(items.get(i), "dataplane.cpus[" + i + "]", 0, 1023));
            }
        }
        int batch = fields.containsKey("batch")
                ? integer(fields.get("batch"), "dataplane.batch", 1, 256) : 64;
        Duration busyPoll = Duration.ZERO;
        if (fields.containsKey("busy-poll")) {
            Node n = fields.get("busy-poll");
            String text = string(n, "dataplane.busy-poll").trim();
            Matcher m = Pattern.compile("(\\d+)(us|ms)").matcher(text);
            if (!text.equals("0") && !m.matches()) {
                throw error(n, "dataplane.busy-poll", "expected a spin time such as 0, 50us or 2ms, got \"" + text + "\"");
            }
            busyPoll = text.equals("0") ? Duration.ZERO : m.group(2).equals("us")
                    ? Duration.ofNanos(Long.parseLong(m.group(1)) * 1000) : Duration.ofMillis(Long.parseLong(m.group(1)));
            if (busyPoll.compareTo(Duration.ofSeconds(1)) > 0) {
                throw error(n, "dataplane.busy-poll", "expected at most 1s of spinning, got \"" + text + "\"");
            }
        }
        boolean pin = !fields.containsKey("pin") || bool(fields.get("pin"), "dataplane.pin");
        if (!pin && !cpus.isEmpty()) {
            throw error(fields.get("cpus"), "dataplane.cpus", "cpus name where to pin the loops, but pin is false");
        }
        return new DaemonConfig.Dataplane(threads, List.copyOf(cpus), batch, busyPoll, pin);
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

    private DaemonConfig.Vxlan vxlan(Node node) throws ConfigException {
        if (node == null) {
            return null;
        }
        Map<String, Node> fields = mapping(node, "vxlan", Set.of("local", "port"));
        if (!fields.containsKey("local")) {
            throw error(node, "vxlan.local", "missing: expected the underlay IPv4 address to bind, such as 198.19.0.1");
        }
        InetAddress local = address(fields.get("local"), "vxlan.local");
        int port = fields.containsKey("port") ? integer(fields.get("port"), "vxlan.port", 1, 65535) : 4789;
        return new DaemonConfig.Vxlan(local, port, line(node));
    }

    // ---- typed accessors over the node tree -------------------------------------------------

    /** An IPv4 address literal; never a host name (no DNS lookup at start-up). */
    private InetAddress address(Node node, String key) throws ConfigException {
        String text = string(node, key).trim();
        if (!IPV4.matcher(text).matches()) {
            throw error(node, key, "expected an IPv4 address such as 198.19.0.2, got \"" + text + "\"");
        }
        try {
            return InetAddress.ofLiteral(text);
        } catch (IllegalArgumentException e) {
            throw error(node, key, "expected an IPv4 address such as 198.19.0.2, got \"" + text + "\"");
        }
    }


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

    private int integer(Node node, String key, int min, int max) throws ConfigException {
        String range = min + ".." + max;
        if (!(node instanceof ScalarNode s)) {
            throw error(node, key, "expected an integer " + range + ", got " + describe(node));
        }
        long value;
        try {
            value = Long.parseLong(s.getValue().trim());
        } catch (NumberFormatException e) {
            throw error(node, key, "expected an integer " + range + ", got \"" + s.getValue() + "\"");
        }
        if (value < min || value > max) {
            throw error(node, key, "expected an integer " + range + ", got " + value);
        }
        return (int) value;
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
