package io.vswitch.daemon.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vswitch.daemon.api.ControlClient;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code vswitchctl}: the operator's view of a running vswitchd, over the control socket. Every
 * read command takes {@code --json}; every failure exits non-zero with a one-line reason.
 */
@Command(name = "vswitchctl", mixinStandardHelpOptions = true, version = "vswitchctl 0.1.0",
        description = "Inspect and change a running vswitchd.",
        subcommands = {Vswitchctl.Show.class, Vswitchctl.Stats.class, Vswitchctl.Network.class,
                Vswitchctl.PortCmd.class, Vswitchctl.Fdb.class, Vswitchctl.TraceCmd.class})
public final class Vswitchctl {
    static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = {"-s", "--socket"}, paramLabel = "PATH", defaultValue = "${env:VSWITCH_SOCKET:-/run/vswitch/vswitchd.sock}",
            description = "Control socket of the daemon. Default: $VSWITCH_SOCKET or /run/vswitch/vswitchd.sock.", scope = CommandLine.ScopeType.INHERIT)
    Path socket;

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new Vswitchctl());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("vswitchctl: " + (e instanceof Failure ? e.getMessage() : e.toString()));
            return 1;
        });
        System.exit(cli.execute(args));
    }

    /** A failure whose message is the one line to print. */
    static final class Failure extends Exception {
        Failure(String message) {
            super(message);
        }
    }

    JsonNode call(String method, String path, Object body) throws Failure {
        ControlClient.Response r;
        try {
            r = new ControlClient(socket).call(method, path, body == null ? null : JSON.writeValueAsString(body));
        } catch (IOException e) {
            throw new Failure("cannot reach vswitchd at " + socket + ": " + e.getMessage());
        }
        if (!r.ok()) {
            throw new Failure(r.error());
        }
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new Failure("bad response from vswitchd: " + e.getMessage());
        }
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static void printJson(PrintWriter out, JsonNode node) throws IOException {
        out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
    }

    /** Common shape of the commands. */
    abstract static class Base implements Callable<Integer> {
        @ParentCommand
        Vswitchctl root;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }
    }

    @Command(name = "show", description = "Networks, ports (state, MTU) and per-port counters.")
    static final class Show extends Base {
        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            JsonNode show = root.call("GET", "/v1/show", null);
            PrintWriter out = out();
            if (json) {
                printJson(out, show);
                return 0;
            }
            for (JsonNode n : show.path("networks")) {
                out.printf("network %s: mtu %d%s, %d MACs (limit %d, aging %ds)%n", n.path("name").asText(),
                        n.path("mtu").asInt(), n.has("vni") ? ", vni " + n.path("vni").asInt() : "",
                        n.path("macCount").asInt(), n.path("macLimit").asInt(), n.path("macAgingSeconds").asInt());
                out.printf("  %-22s %-6s %-5s %6s %12s %14s %12s %14s %8s%n", "port", "kind", "state", "mtu",
                        "rx_frames", "rx_bytes", "tx_frames", "tx_bytes", "drops");
                for (JsonNode p : n.path("ports")) {
                    long drops = 0;
                    for (JsonNode d : p.path("drops")) {
                        drops += d.asLong();
                    }
                    JsonNode c = p.path("counters");
                    out.printf("  %-22s %-6s %-5s %6d %12d %14d %12d %14d %8d%n", p.path("name").asText(),
                            p.path("kind").asText(), p.path("state").asText(), p.path("mtu").asInt(),
                            c.path("rx_frames").asLong(), c.path("rx_bytes").asLong(), c.path("tx_frames").asLong(),
                            c.path("tx_bytes").asLong(), drops);
                }
            }
            return 0;
        }
    }

    @Command(name = "stats", description = "Totals and drops by reason.")
    static final class Stats extends Base {
        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            JsonNode stats = root.call("GET", "/v1/stats", null);
            PrintWriter out = out();
            if (json) {
                printJson(out, stats);
                return 0;
            }
            for (String section : new String[] {"totals", "networks", "drops", "vxlan"}) {
                if (!stats.has(section)) {
                    continue;
                }
                out.println(section + ":");
                for (Iterator<Map.Entry<String, JsonNode>> it = stats.path(section).fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    out.printf("  %-22s %d%n", e.getKey(), e.getValue().asLong());
                }
            }
            return 0;
        }
    }

    @Command(name = "network", description = "List, add and remove networks.",
            subcommands = {Network.Add.class, Network.Del.class, Network.ListCmd.class})
    static final class Network {
        @ParentCommand
        Vswitchctl root;

        @Command(name = "add", description = "Add a network (an overlay one with --vni and --peer).")
        static final class Add extends Sub {
            @Parameters(index = "0", paramLabel = "NAME")
            String name;
            @Option(names = "--mtu", description = "Default 1500, or the underlay MTU - 50 for an overlay.")
            Integer mtu;
            @Option(names = "--vni", description = "VXLAN network identifier 1..16777215.")
            Integer vni;
            @Option(names = "--peer", paramLabel = "IP", description = "Remote VTEP (repeat for several).")
            java.util.List<String> peers = new java.util.ArrayList<>();
            @Option(names = "--mac-aging", paramLabel = "SECONDS")
            Integer macAging;
            @Option(names = "--mac-limit")
            Integer macLimit;
            @Option(names = "--persist", description = "Ports of this network outlive the daemon.")
            boolean persist;

            @Override
            public Integer call() throws Exception {
                Map<String, Object> body = new java.util.LinkedHashMap<>();
                body.put("name", name);
                body.put("mtu", mtu);
                body.put("vni", vni);
                body.put("peers", peers);
                body.put("macAgingSeconds", macAging);
                body.put("macLimit", macLimit);
                body.put("persist", persist);
                JsonNode r = root().call("POST", "/v1/networks", body);
                out().println("network " + name + " added (mtu " + r.path("mtu").asInt() + ")");
                return 0;
            }
        }

        @Command(name = "del", description = "Remove a network with its ports.")
        static final class Del extends Sub {
            @Parameters(index = "0", paramLabel = "NAME")
            String name;

            @Override
            public Integer call() throws Exception {
                root().call("DELETE", "/v1/networks/" + enc(name), null);
                out().println("network " + name + " removed");
                return 0;
            }
        }

        @Command(name = "list", description = "Networks and their settings.")
        static final class ListCmd extends Sub {
            @Option(names = "--json", description = "Print JSON.")
            boolean json;

            @Override
            public Integer call() throws Exception {
                JsonNode list = root().call("GET", "/v1/networks", null);
                if (json) {
                    printJson(out(), list);
                    return 0;
                }
                out().printf("%-16s %6s %9s %8s %8s %8s%n", "name", "mtu", "vni", "macs", "limit", "aging");
                for (JsonNode n : list) {
                    out().printf("%-16s %6d %9s %8d %8d %7ds%n", n.path("name").asText(), n.path("mtu").asInt(),
                            n.has("vni") ? n.path("vni").asText() : "-", n.path("macCount").asInt(),
                            n.path("macLimit").asInt(), n.path("macAgingSeconds").asInt());
                }
                return 0;
            }
        }
    }

    /** A subcommand two levels down (vswitchctl GROUP VERB). */
    abstract static class Sub implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        Vswitchctl root() {
            return (Vswitchctl) spec.parent().parent().userObject();
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }
    }

    @Command(name = "port", description = "Add and remove ports of a network.", subcommands = {PortCmd.Add.class, PortCmd.Del.class})
    static final class PortCmd {
        @Command(name = "add", description = "Create (or take over) TAP device TAP as a port of NET.")
        static final class Add extends Sub {
            @Parameters(index = "0", paramLabel = "NET")
            String network;
            @Parameters(index = "1", paramLabel = "TAP")
            String tap;
            @Option(names = "--persist", description = "The TAP outlives the daemon (TUNSETPERSIST).")
            boolean persist;
            @Option(names = "--no-offload", description = "No offloads on this port even in an offload network "
                    + "(frames to it are segmented in software).")
            boolean noOffload;

            @Override
            public Integer call() throws Exception {
                Map<String, Object> body = new java.util.LinkedHashMap<>();
                body.put("name", tap);
                body.put("persist", persist);
                if (noOffload) {
                    body.put("offload", false);
                }
                root().call("POST", "/v1/networks/" + enc(network) + "/ports", body);
                out().println("port " + tap + " added to network " + network);
                return 0;
            }
        }

        @Command(name = "del", description = "Remove port TAP from NET and delete the device.")
        static final class Del extends Sub {
            @Parameters(index = "0", paramLabel = "NET")
            String network;
            @Parameters(index = "1", paramLabel = "TAP")
            String tap;

            @Override
            public Integer call() throws Exception {
                root().call("DELETE", "/v1/networks/" + enc(network) + "/ports/" + enc(tap), null);
                out().println("port " + tap + " removed from network " + network);
                return 0;
            }
        }
    }

    @Command(name = "trace", description = "What the switch would do with such a frame, and why.")
    static final class TraceCmd extends Base {
        @Parameters(index = "0", paramLabel = "NET")
        String network;
        @Option(names = "--in", required = true, paramLabel = "PORT")
        String in;
        @Option(names = "--src", required = true, paramLabel = "MAC")
        String src;
        @Option(names = "--dst", required = true, paramLabel = "MAC")
        String dst;
        @Option(names = "--vlan", paramLabel = "N")
        Integer vlan;
        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            Map<String, Object> body = new java.util.LinkedHashMap<>();
            body.put("in", in);
            body.put("src", src);
            body.put("dst", dst);
            body.put("vlan", vlan);
            JsonNode r = root.call("POST", "/v1/networks/" + enc(network) + "/trace", body);
            if (json) {
                printJson(out(), r);
                return 0;
            }
            for (JsonNode step : r.path("steps")) {
                out().println(step.asText());
            }
            StringBuilder verdict = new StringBuilder("=> ").append(r.path("decision").asText());
            if (r.path("egress").size() > 0) {
                java.util.List<String> names = new java.util.ArrayList<>();
                r.path("egress").forEach(e -> names.add(e.asText()));
                verdict.append(": ").append(String.join(", ", names));
            }
            if (!r.path("reason").isNull() && r.has("reason")) {
                verdict.append(" (").append(r.path("reason").asText()).append(")");
            }
            out().println(verdict);
            return 0;
        }
    }

    @Command(name = "fdb", description = "The MAC table of a network.",
            subcommands = {Fdb.ShowFdb.class, Fdb.Flush.class, Fdb.Add.class, Fdb.Del.class})
    static final class Fdb {
        @ParentCommand
        Vswitchctl root;

        @Command(name = "flush", description = "Forget the dynamic entries of NET (of one port with --port).")
        static final class Flush extends Sub {
            @Parameters(index = "0", paramLabel = "NET")
            String network;
            @Option(names = "--port", paramLabel = "PORT")
            String port;

            @Override
            public Integer call() throws Exception {
                Map<String, Object> body = new java.util.HashMap<>();
                body.put("port", port);
                JsonNode r = root().call("POST", "/v1/networks/" + enc(network) + "/fdb/flush", body);
                out().println(r.path("flushed").asInt() + " entries flushed");
                return 0;
            }
        }

        @Command(name = "add", description = "Add a static entry: MAC on PORT, never ages, never moves.")
        static final class Add extends Sub {
            @Parameters(index = "0", paramLabel = "NET")
            String network;
            @Parameters(index = "1", paramLabel = "MAC")
            String mac;
            @Parameters(index = "2", paramLabel = "PORT")
            String port;

            @Override
            public Integer call() throws Exception {
                root().call("POST", "/v1/networks/" + enc(network) + "/fdb", Map.of("mac", mac, "port", port));
                out().println("static entry " + mac + " -> " + port + " added");
                return 0;
            }
        }

        @Command(name = "del", description = "Remove the entry of MAC (dynamic or static).")
        static final class Del extends Sub {
            @Parameters(index = "0", paramLabel = "NET")
            String network;
            @Parameters(index = "1", paramLabel = "MAC")
            String mac;

            @Override
            public Integer call() throws Exception {
                root().call("DELETE", "/v1/networks/" + enc(network) + "/fdb/" + enc(mac), null);
                out().println("entry " + mac + " removed");
                return 0;
            }
        }

        @Command(name = "show", description = "MAC, port or remote VTEP, dynamic/static, age.")
        static final class ShowFdb implements Callable<Integer> {
            @ParentCommand
            Fdb fdb;

            @CommandLine.Spec
            CommandLine.Model.CommandSpec spec;

            @Parameters(index = "0", paramLabel = "NET")
            String network;

            @Option(names = "--json", description = "Print JSON.")
            boolean json;

            @Override
            public Integer call() throws Exception {
                JsonNode entries = fdb.root.call("GET", "/v1/networks/" + enc(network) + "/fdb", null);
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    printJson(out, entries);
                    return 0;
                }
                out.printf("%-18s %-22s %-8s %s%n", "mac", "port", "type", "age");
                for (JsonNode e : entries) {
                    out.printf("%-18s %-22s %-8s %s%n", e.path("mac").asText(), e.path("port").asText(),
                            e.path("type").asText(), e.path("ageSeconds").isNull() ? "-" : e.path("ageSeconds").asText() + "s");
                }
                return 0;
            }
        }
    }
}
