package io.vswitch.daemon;

import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A configuration file's YAML node tree read with types: each accessor takes a node and the key
 * it was found under, and refuses what is not of its type with an error that names the file,
 * the node's line and the key ({@code vswitch.yaml:7: networks[1].mtu: expected an integer
 * 68..65517, got "big"}). A typo is an error, never a default.
 */
final class YamlTree {
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

    private final String file;

    YamlTree(String file) {
        this.file = file;
    }

    Map<String, Node> mapping(Node node, String key, Set<String> allowed) throws ConfigException {
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

    List<Node> sequence(Node node, String key) throws ConfigException {
        if (node instanceof SequenceNode seq) {
            return seq.getValue();
        }
        throw error(node, key, "expected a list, got " + describe(node));
    }

    String string(Node node, String key) throws ConfigException {
        if (node instanceof ScalarNode s && !s.getTag().getValue().endsWith(":null")) {
            return s.getValue();
        }
        throw error(node, key, "expected a string, got " + describe(node));
    }

    boolean bool(Node node, String key) throws ConfigException {
        if (node instanceof ScalarNode s && (s.getValue().equals("true") || s.getValue().equals("false"))) {
            return Boolean.parseBoolean(s.getValue());
        }
        throw error(node, key, "expected true or false, got " + describe(node));
    }

    /**
     * An integer of a network field: refused here only when it is no integer at all (the message
     * names the rule's {@code range}); whether it is in range is for {@link NetworkRules} to say.
     */
    int number(Node node, String key, NetworkRules.Range range) throws ConfigException {
        long value = longValue(node, key, range);
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw error(node, key, "expected an integer " + range + ", got " + value);
        }
        return (int) value;
    }

    /** An integer in {@code range}. */
    int integer(Node node, String key, NetworkRules.Range range) throws ConfigException {
        long value = longValue(node, key, range);
        if (value < range.min() || value > range.max()) {
            throw error(node, key, "expected an integer " + range + ", got " + value);
        }
        return (int) value;
    }

    long longValue(Node node, String key, NetworkRules.Range range) throws ConfigException {
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

    Duration duration(Node node, String key) throws ConfigException {
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

    static int line(Node node) {
        return node.getStartMark().getLine() + 1;
    }

    ConfigException error(Node node, String key, String problem) {
        return new ConfigException(file, line(node), key, problem);
    }

    Path readable(Node node, String key) throws ConfigException {
        Path p = Path.of(string(node, key).trim());
        if (!java.nio.file.Files.isReadable(p) || java.nio.file.Files.isDirectory(p)) {
            throw error(node, key, "cannot read file " + p);
        }
        return p;
    }
}
