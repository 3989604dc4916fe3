package io.vswitch.daemon;

import io.vswitch.cluster.ClusterOptions;
import io.vswitch.control.MirrorSpec;
import io.vswitch.control.NetworkSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.control.StormSpec;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
    private final YamlTree yaml;
    private final DaemonSections sections;
    private final Map<String, Integer> lines = new HashMap<>();

    private ConfigReader(String file) {
        this.file = file;
        this.yaml = new YamlTree(file);
        this.sections = new DaemonSections(yaml);
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
        Map<String, Node> top = yaml.mapping(root, "", Set.of("dataplane", "vxlan", "metrics", "docker", "dns", "cluster", "networks"));

        DaemonConfig.Dataplane dataplane = sections.dataplane(top.get("dataplane"));
        DaemonConfig.Vxlan vxlan = sections.vxlan(top.get("vxlan"));
        DaemonConfig.Metrics metrics = sections.metrics(top.get("metrics"));
        DaemonConfig.Docker docker = sections.docker(top.get("docker"));
        DaemonConfig.Dns dns = sections.dns(top.get("dns"));
        ClusterOptions cluster = sections.cluster(top.get("cluster"));
        if (cluster != null && vxlan == null) {
            throw yaml.error(top.get("cluster"), "cluster", "a cluster needs this host's VTEP: add a vxlan: section with local: ADDRESS");
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
        List<Node> items = networksNode == null ? List.of() : yaml.sequence(networksNode, "networks");
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
        lines.put(key, YamlTree.line(item));
        Map<String, Node> fields = yaml.mapping(item, key,
                Set.of("name", "mtu", "mac-aging", "mac-limit", "ports", "vni", "peers", "persist", "offload", "subnet",
                        "gateway", "subnet6", "gateway6", "gateway-port", "masquerade", "icc", "dns", "vlan",
                        "mac-move-limit", "mac-move-hold", "storm", "mirror"));
        fields.forEach((k, v) -> lines.put(key + "." + k, YamlTree.line(v)));
        String name = fields.containsKey("name") ? yaml.string(fields.get("name"), key + ".name") : null;
        Integer mtu = fields.containsKey("mtu") ? yaml.number(fields.get("mtu"), key + ".mtu", NetworkRules.MTU) : null;
        Long aging = fields.containsKey("mac-aging") ? yaml.duration(fields.get("mac-aging"), key + ".mac-aging").toSeconds() : null;
        Integer limit = fields.containsKey("mac-limit")
                ? yaml.number(fields.get("mac-limit"), key + ".mac-limit", NetworkRules.MAC_LIMIT) : null;
        Integer vni = fields.containsKey("vni") ? yaml.number(fields.get("vni"), key + ".vni", NetworkRules.VNI) : null;
        List<String> peers = new ArrayList<>();
        if (fields.containsKey("peers")) {
            List<Node> peerItems = yaml.sequence(fields.get("peers"), key + ".peers");
            for (int j = 0; j < peerItems.size(); j++) {
                lines.put(key + ".peers[" + j + "]", YamlTree.line(peerItems.get(j)));
                peers.add(yaml.string(peerItems.get(j), key + ".peers[" + j + "]").trim());
            }
        }
        List<PortSpec> ports = new ArrayList<>();
        if (fields.containsKey("ports")) {
            List<Node> portItems = yaml.sequence(fields.get("ports"), key + ".ports");
            for (int j = 0; j < portItems.size(); j++) {
                String portKey = key + ".ports[" + j + "]";
                lines.put(portKey, YamlTree.line(portItems.get(j)));
                ports.add(port(portItems.get(j), portKey));
            }
        }
        Boolean persist = fields.containsKey("persist") ? yaml.bool(fields.get("persist"), key + ".persist") : null;
        Boolean offload = fields.containsKey("offload") ? yaml.bool(fields.get("offload"), key + ".offload") : null;
        String subnet = fields.containsKey("subnet") ? yaml.string(fields.get("subnet"), key + ".subnet").trim() : null;
        String gateway = fields.containsKey("gateway") ? yaml.string(fields.get("gateway"), key + ".gateway").trim() : null;
        String subnet6 = fields.containsKey("subnet6") ? yaml.string(fields.get("subnet6"), key + ".subnet6").trim() : null;
        String gateway6 = fields.containsKey("gateway6") ? yaml.string(fields.get("gateway6"), key + ".gateway6").trim() : null;
        Boolean gatewayPort = fields.containsKey("gateway-port") ? yaml.bool(fields.get("gateway-port"), key + ".gateway-port") : null;
        Boolean masquerade = fields.containsKey("masquerade") ? yaml.bool(fields.get("masquerade"), key + ".masquerade") : null;
        Boolean icc = fields.containsKey("icc") ? yaml.bool(fields.get("icc"), key + ".icc") : null;
        Boolean dns = fields.containsKey("dns") ? yaml.bool(fields.get("dns"), key + ".dns") : null;
        Integer vlan = fields.containsKey("vlan") ? yaml.number(fields.get("vlan"), key + ".vlan", NetworkRules.VLAN) : null;
        Integer moveLimit = fields.containsKey("mac-move-limit")
                ? yaml.number(fields.get("mac-move-limit"), key + ".mac-move-limit", NetworkRules.MAC_MOVE_LIMIT) : null;
        Long moveHold = fields.containsKey("mac-move-hold")
                ? yaml.duration(fields.get("mac-move-hold"), key + ".mac-move-hold").toSeconds() : null;
        StormSpec storm = fields.containsKey("storm") ? storm(fields.get("storm"), key + ".storm") : null;
        List<MirrorSpec> mirrors = new ArrayList<>();
        if (fields.containsKey("mirror")) {
            List<Node> items = yaml.sequence(fields.get("mirror"), key + ".mirror");
            for (int j = 0; j < items.size(); j++) {
                mirrors.add(mirror(items.get(j), key + ".mirror[" + j + "]"));
            }
        }
        return new NetworkSpec(name, mtu, aging, limit, vni, peers, persist, offload, ports, List.of(), subnet, gateway,
                subnet6, gateway6, gatewayPort, masquerade, icc, List.of(), dns, vlan, moveLimit, moveHold, storm, mirrors);
    }

    /** {@code storm: {broadcast: N, multicast: N, unknown-unicast: N}}, frames per second. */
    private StormSpec storm(Node node, String key) throws ConfigException {
        lines.put(key, YamlTree.line(node));
        Map<String, Node> fields = yaml.mapping(node, key, Set.of("broadcast", "multicast", "unknown-unicast"));
        fields.forEach((k, v) -> lines.put(key + "." + k, YamlTree.line(v)));
        Long[] values = new Long[3];
        String[] names = {"broadcast", "multicast", "unknown-unicast"};
        for (int i = 0; i < 3; i++) {
            if (fields.containsKey(names[i])) {
                values[i] = yaml.longValue(fields.get(names[i]), key + "." + names[i], NetworkRules.STORM_RATE);
            }
        }
        return new StormSpec(values[0], values[1], values[2]);
    }

    /** One {@code mirror:} entry: {@code {name, ports: [..], direction: in|out|both, output: PORT}}. */
    private MirrorSpec mirror(Node node, String key) throws ConfigException {
        lines.put(key, YamlTree.line(node));
        Map<String, Node> fields = yaml.mapping(node, key, Set.of("name", "ports", "direction", "output"));
        fields.forEach((k, v) -> lines.put(key + "." + k, YamlTree.line(v)));
        List<String> ports = new ArrayList<>();
        if (fields.containsKey("ports")) {
            List<Node> items = yaml.sequence(fields.get("ports"), key + ".ports");
            for (int j = 0; j < items.size(); j++) {
                lines.put(key + ".ports[" + j + "]", YamlTree.line(items.get(j)));
                ports.add(yaml.string(items.get(j), key + ".ports[" + j + "]").trim());
            }
        }
        return new MirrorSpec(fields.containsKey("name") ? yaml.string(fields.get("name"), key + ".name").trim() : null, ports,
                fields.containsKey("direction") ? yaml.string(fields.get("direction"), key + ".direction").trim() : null,
                fields.containsKey("output") ? yaml.string(fields.get("output"), key + ".output").trim() : null);
    }

    /**
     * A port: a device name, or a mapping {@code {name: X, persist: B, offload: B, type: tap|uplink,
     * trunk: B, mac-limit: N, storm: {...}}}.
     */
    private PortSpec port(Node node, String key) throws ConfigException {
        if (node instanceof MappingNode) {
            Map<String, Node> fields = yaml.mapping(node, key, Set.of("name", "persist", "offload", "type", "trunk",
                    "mac-limit", "storm"));
            fields.forEach((k, v) -> lines.put(key + "." + k, YamlTree.line(v)));
            if (!fields.containsKey("name")) {
                throw yaml.error(node, key + ".name", "missing: a port needs a device name");
            }
            return new PortSpec(yaml.string(fields.get("name"), key + ".name"),
                    fields.containsKey("persist") ? yaml.bool(fields.get("persist"), key + ".persist") : null,
                    fields.containsKey("offload") ? yaml.bool(fields.get("offload"), key + ".offload") : null,
                    fields.containsKey("type") ? yaml.string(fields.get("type"), key + ".type").trim() : null,
                    fields.containsKey("trunk") ? yaml.bool(fields.get("trunk"), key + ".trunk") : null,
                    fields.containsKey("mac-limit")
                            ? yaml.number(fields.get("mac-limit"), key + ".mac-limit", NetworkRules.PORT_MAC_LIMIT) : null,
                    fields.containsKey("storm") ? storm(fields.get("storm"), key + ".storm") : null);
        }
        return PortSpec.named(yaml.string(node, key));
    }
}
