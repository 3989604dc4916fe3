package io.vswitch.daemon.ctl;

import com.fasterxml.jackson.databind.ObjectWriter;
import io.vswitch.control.ControlClient;
import io.vswitch.control.ControlException;
import io.vswitch.control.Json;
import io.vswitch.control.NetworkSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.control.Requests;
import io.vswitch.control.StaticEntry;
import io.vswitch.control.Views;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code vswitchctl}: the operator's view of a running vswitchd, over the control socket with
 * the typed client of the control contract. Every read command takes {@code --json}; every
 * failure exits non-zero with a one-line reason.
 */
@Command(name = "vswitchctl", mixinStandardHelpOptions = true, version = "vswitchctl 0.1.0",
        description = "Inspect and change a running vswitchd.",
        subcommands = {Vswitchctl.Show.class, Vswitchctl.Stats.class, Vswitchctl.Network.class,
                Vswitchctl.PortCmd.class, Vswitchctl.Fdb.class, Vswitchctl.TraceCmd.class, Vswitchctl.AttachCmd.class,
                Vswitchctl.DetachCmd.class, Vswitchctl.EndpointsCmd.class, ClusterCmd.class, CaptureCmd.class, CapturesCmd.class, MirrorCmd.class,
                CommandLine.HelpCommand.class})
public final class Vswitchctl {
    static final ObjectWriter JSON = Json.LENIENT.writerWithDefaultPrettyPrinter();

    @Option(names = {"-s", "--socket"}, paramLabel = "PATH", defaultValue = "${env:VSWITCH_SOCKET:-/run/vswitch/vswitchd.sock}",
            description = "Control socket of the daemon. Default: $VSWITCH_SOCKET or /run/vswitch/vswitchd.sock.",
            scope = CommandLine.ScopeType.INHERIT)
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

    /** One call of the client; its failures as the one line to print. */
    @FunctionalInterface
    interface Call<T> {
        T run(ControlClient client) throws IOException, ControlException;
    }

    <T> T call(Call<T> call) throws Failure {
        try {
            return call.run(new ControlClient(socket));
        } catch (ControlException e) {
            throw new Failure(e.getMessage());
        } catch (IOException e) {
            throw new Failure("cannot reach vswitchd at " + socket + ": " + e.getMessage());
        }
    }

    static void printJson(PrintWriter out, Object value) throws IOException {
        out.println(JSON.writeValueAsString(value));
    }

    /** Common shape of the commands: the root's socket, the output. */
    abstract static class Base implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        Vswitchctl root() {
            CommandLine.Model.CommandSpec s = spec;
            while (!(s.userObject() instanceof Vswitchctl)) {
                s = s.parent();
            }
            return (Vswitchctl) s.userObject();
        }

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
            Views.Show show = root().call(ControlClient::show);
            PrintWriter out = out();
            if (json) {
                printJson(out, show);
                return 0;
            }
            Views.DataplaneStatus dp = show.dataplane();
            if (dp != null) {
                String perFrame = dp.ringFramesRead() + dp.ringFramesWritten() > 0
                        ? String.format(", %.3f kernel entries per TAP frame", (double) dp.ringEnters()
                                / (dp.ringFramesRead() + dp.ringFramesWritten())) : "";
                out.printf("dataplane: %d loops, io %s%s, polling %s%s%n", dp.threads(), dp.io(),
                        dp.ioNote().isEmpty() ? "" : " (" + dp.ioNote() + ")", dp.polling(), perFrame);
            }
            if (show.cluster() != null) {
                ClusterCmd.status(out, show.cluster());
            }
            for (Views.Network n : show.networks()) {
                out.printf("network %s: mtu %d%s, %d MACs (limit %d, aging %ds)%n", n.name(), n.mtu(),
                        n.vni() != null ? ", vni " + n.vni() + ", peers " + String.join(" ", n.peers()) : "",
                        n.macCount(), n.macLimit(), n.macAgingSeconds());
                if (n.subnet() != null || n.subnet6() != null) {
                    out.printf("  subnet %s gateway %s%s%s%s%s%n", n.subnet() != null ? n.subnet() : n.subnet6(),
                            n.gateway() != null ? n.gateway() : n.gateway6(), n.gatewayPort() ? " (gateway port)" : "",
                            n.masquerade() ? ", masquerade" : "", n.icc() ? "" : ", icc off",
                            n.dns() ? ", dns on the gateway" : "");
                }
                out.printf("  %-22s %-7s %-5s %6s %12s %14s %12s %14s %8s%n", "port", "kind", "state", "mtu",
                        "rx_frames", "rx_bytes", "tx_frames", "tx_bytes", "drops");
                for (Views.Port p : n.ports()) {
                    long drops = p.drops().values().stream().mapToLong(Long::longValue).sum();
                    Map<String, Long> c = p.counters();
                    out.printf("  %-22s %-7s %-5s %6d %12d %14d %12d %14d %8d%n", p.name(), p.kind(), p.state(), p.mtu(),
                            c.get("rx_frames"), c.get("rx_bytes"), c.get("tx_frames"), c.get("tx_bytes"), drops);
                    if (p.reason() != null) {
                        out.printf("    down: %s%n", p.reason());
                    }
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
            Views.Stats stats = root().call(ControlClient::stats);
            PrintWriter out = out();
            if (json) {
                printJson(out, stats);
                return 0;
            }
            section(out, "totals", stats.totals());
            section(out, "networks", stats.networks());
            section(out, "drops", stats.drops());
            section(out, "vxlan", stats.vxlan());
            return 0;
        }

        private static void section(PrintWriter out, String name, Map<String, Long> values) {
            if (values == null) {
                return;
            }
            out.println(name + ":");
            values.forEach((k, v) -> out.printf("  %-22s %d%n", k, v));
        }
    }

    @Command(name = "network", description = "List, add, change and remove networks.", mixinStandardHelpOptions = true,
            subcommands = {Network.Add.class, Network.Set.class, Network.Del.class, Network.ListCmd.class,
                    CommandLine.HelpCommand.class})
    static final class Network {
        @Command(name = "add", description = "Add a network (an overlay one with --vni and --peer).")
        static final class Add extends Base {
            @Parameters(index = "0", paramLabel = "NAME")
            String name;
            @Option(names = "--mtu", description = "Default 1500, or the underlay MTU - 50 for an overlay.")
            Integer mtu;
            @Option(names = "--vni", description = "VXLAN network identifier 1..16777215.")
            Integer vni;
            @Option(names = "--peer", paramLabel = "IP", description = "Remote VTEP (repeat for several).")
            List<String> peers = new ArrayList<>();
            @Option(names = "--mac-aging", paramLabel = "SECONDS")
            Long macAging;
            @Option(names = "--mac-limit")
            Integer macLimit;
            @Option(names = "--persist", description = "Ports of this network outlive the daemon.")
            boolean persist;
            @Option(names = "--no-offload", description = "No checksum or segmentation offloads in this network.")
            boolean noOffload;
            @Option(names = "--subnet", paramLabel = "CIDR", description = "IPv4 subnet whose addresses attached containers get.")
            String subnet;
            @Option(names = "--gateway", paramLabel = "IP", description = "Its gateway; default: the subnet's first address.")
            String gateway;
            @Option(names = "--subnet6", paramLabel = "CIDR", description = "IPv6 subnet.")
            String subnet6;
            @Option(names = "--gateway6", paramLabel = "IP")
            String gateway6;
            @Option(names = "--gateway-port", description = "The daemon's namespace holds the gateway addresses (as docker0).")
            boolean gatewayPort;
            @Option(names = "--masquerade", description = "Masquerade the subnet's traffic leaving the daemon's namespace.")
            boolean masquerade;
            @Option(names = "--no-icc", description = "Containers reach only the gateway, not each other.")
            boolean noIcc;
            @Option(names = "--dns", description = "The switch answers DNS queries to the gateway for the endpoints' names.")
            boolean dns;
            @Option(names = "--vlan", paramLabel = "VID", description = "802.1Q VLAN 1..4094 of its frames on trunk ports.")
            Integer vlan;
            @Option(names = "--mac-move-limit", paramLabel = "N",
                    description = "Moves a second that make a MAC flapping (a loop); default 10, 0: off.")
            Integer macMoveLimit;
            @Option(names = "--mac-move-hold", paramLabel = "SECONDS", description = "How long a flapping MAC is blocked; default 10.")
            Long macMoveHold;
            @CommandLine.Mixin
            StormOptions storm = new StormOptions();

            @Override
            public Integer call() throws Exception {
                NetworkSpec spec = new NetworkSpec(name, mtu, macAging, macLimit, vni, peers, persist ? true : null,
                        noOffload ? false : null, null, null, subnet, gateway, subnet6, gateway6, gatewayPort ? true : null,
                        masquerade ? true : null, noIcc ? false : null, null, dns ? true : null, vlan, macMoveLimit,
                        macMoveHold, storm.spec(), null);
                Views.Network r = root().call(c -> c.addNetwork(spec));
                out().println("network " + name + " added (mtu " + r.mtu() + ")");
                return 0;
            }
        }

        @Command(name = "set", description = "Change a network: the remote VTEPs of an overlay network.")
        static final class Set extends Base {
            @Parameters(index = "0", paramLabel = "NAME")
            String name;
            @Option(names = "--peer", paramLabel = "IP", description = "Remote VTEP (repeat for several); the new set "
                    + "replaces the old one: new peers get a tunnel, removed ones lose theirs and the MACs behind it.")
            List<String> peers = new ArrayList<>();
            @Option(names = "--no-peers", description = "Remove every peer.")
            boolean noPeers;

            @Override
            public Integer call() throws Exception {
                if (peers.isEmpty() && !noPeers) {
                    throw new Failure("nothing to change: give --peer IP (repeatable) or --no-peers");
                }
                Views.Network r = root().call(c -> c.setPeers(name, peers));
                out().println("network " + name + ": peers " + (r.peers().isEmpty() ? "none" : String.join(" ", r.peers())));
                return 0;
            }
        }

        @Command(name = "del", description = "Remove a network with its ports; their devices are deleted, persistent ones too.")
        static final class Del extends Base {
            @Parameters(index = "0", paramLabel = "NAME")
            String name;

            @Override
            public Integer call() throws Exception {
                Views.Removed r = root().call(c -> c.removeNetwork(name));
                out().println("network " + name + " removed" + (r.devices() == null || r.devices().isEmpty() ? ""
                        : "; devices deleted with it: " + String.join(", ", r.devices())));
                return 0;
            }
        }

        @Command(name = "list", description = "Networks and their settings.")
        static final class ListCmd extends Base {
            @Option(names = "--json", description = "Print JSON.")
            boolean json;

            @Override
            public Integer call() throws Exception {
                List<Views.Network> list = root().call(ControlClient::networks);
                if (json) {
                    printJson(out(), list);
                    return 0;
                }
                out().printf("%-16s %6s %9s %8s %8s %8s%n", "name", "mtu", "vni", "macs", "limit", "aging");
                for (Views.Network n : list) {
                    out().printf("%-16s %6d %9s %8d %8d %7ds%n", n.name(), n.mtu(), n.vni() != null ? n.vni().toString() : "-",
                            n.macCount(), n.macLimit(), n.macAgingSeconds());
                }
                return 0;
            }
        }
    }

    @Command(name = "port", description = "Add and remove ports of a network.", mixinStandardHelpOptions = true,
            subcommands = {PortCmd.Add.class, PortCmd.Del.class, CommandLine.HelpCommand.class})
    static final class PortCmd {
        @Command(name = "add", description = "Create (or take over) TAP device TAP as a port of NET; with --uplink, put"
                + " host interface TAP (a NIC) on NET.")
        static final class Add extends Base {
            @Parameters(index = "0", paramLabel = "NET")
            String network;
            @Parameters(index = "1", paramLabel = "TAP")
            String tap;
            @Option(names = "--persist", description = "The TAP outlives the daemon (TUNSETPERSIST).")
            boolean persist;
            @Option(names = "--no-offload", description = "No offloads on this port even in an offload network "
                    + "(frames to it are segmented in software).")
            boolean noOffload;
            @Option(names = "--uplink", description = "An existing host interface, read and written through AF_PACKET.")
            boolean uplink;
            @Option(names = "--trunk", description = "The port carries several networks, each tagged with its --vlan.")
            boolean trunk;
            @Option(names = "--mac-limit", paramLabel = "N", description = "MACs this port may have at most.")
            Integer macLimit;
            @CommandLine.Mixin
            StormOptions storm = new StormOptions();

            @Override
            public Integer call() throws Exception {
                root().call(c -> c.addPort(network, new PortSpec(tap, persist ? true : null, noOffload ? false : null,
                        uplink ? PortSpec.UPLINK : null, trunk ? true : null, macLimit, storm.spec())));
                out().println("port " + tap + " added to network " + network);
                return 0;
            }
        }

        @Command(name = "del", description = "Remove port TAP from NET and delete the device (a persistent one too).")
        static final class Del extends Base {
            @Parameters(index = "0", paramLabel = "NET")
            String network;
            @Parameters(index = "1", paramLabel = "TAP")
            String tap;

            @Override
            public Integer call() throws Exception {
                root().call(c -> c.removePort(network, tap));
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
            Views.Trace r = root().call(c -> c.trace(network, new Requests.Trace(in, src, dst, vlan)));
            if (json) {
                printJson(out(), r);
                return 0;
            }
            r.steps().forEach(out()::println);
            StringBuilder verdict = new StringBuilder("=> ").append(r.decision());
            if (!r.egress().isEmpty()) {
                verdict.append(": ").append(String.join(", ", r.egress()));
            }
            if (r.reason() != null) {
                verdict.append(" (").append(r.reason()).append(")");
            }
            out().println(verdict);
            return 0;
        }
    }

    @Command(name = "fdb", description = "The MAC table of a network.", mixinStandardHelpOptions = true,
            subcommands = {Fdb.ShowFdb.class, Fdb.Flush.class, Fdb.Add.class, Fdb.Del.class, CommandLine.HelpCommand.class})
    static final class Fdb {
        @Command(name = "flush", description = "Forget the dynamic entries of NET (of one port with --port).")
        static final class Flush extends Base {
            @Parameters(index = "0", paramLabel = "NET")
            String network;
            @Option(names = "--port", paramLabel = "PORT")
            String port;

            @Override
            public Integer call() throws Exception {
                Views.Flushed r = root().call(c -> c.flush(network, port));
                out().println(r.flushed() + " entries flushed");
                return 0;
            }
        }

        @Command(name = "add", description = "Add a static entry: MAC on PORT, never ages, never moves.")
        static final class Add extends Base {
            @Parameters(index = "0", paramLabel = "NET")
            String network;
            @Parameters(index = "1", paramLabel = "MAC")
            String mac;
            @Parameters(index = "2", paramLabel = "PORT")
            String port;

            @Override
            public Integer call() throws Exception {
                root().call(c -> c.addStatic(network, new StaticEntry(mac, port)));
                out().println("static entry " + mac + " -> " + port + " added");
                return 0;
            }
        }

        @Command(name = "del", description = "Remove the entry of MAC (dynamic or static).")
        static final class Del extends Base {
            @Parameters(index = "0", paramLabel = "NET")
            String network;
            @Parameters(index = "1", paramLabel = "MAC")
            String mac;

            @Override
            public Integer call() throws Exception {
                root().call(c -> c.removeMac(network, mac));
                out().println("entry " + mac + " removed");
                return 0;
            }
        }

        @Command(name = "show", description = "MAC, port or remote VTEP, dynamic/static, age.")
        static final class ShowFdb extends Base {
            @Parameters(index = "0", paramLabel = "NET")
            String network;
            @Option(names = "--json", description = "Print JSON.")
            boolean json;

            @Override
            public Integer call() throws Exception {
                List<Views.FdbEntry> entries = root().call(c -> c.fdb(network));
                PrintWriter out = out();
                if (json) {
                    printJson(out, entries);
                    return 0;
                }
                out.printf("%-18s %-22s %-8s %s%n", "mac", "port", "type", "age");
                for (Views.FdbEntry e : entries) {
                    out.printf("%-18s %-22s %-8s %s%n", e.mac(), e.port(), e.type(), e.ageSeconds() == null ? "-" : e.ageSeconds() + "s");
                }
                return 0;
            }
        }
    }

    @Command(name = "attach", description = "Attach a container to NET: a TAP moved into its namespace, renamed, "
            + "addressed, up, with a default route via the network's gateway. Prints the endpoint as JSON.")
    static final class AttachCmd extends Base {
        @Parameters(index = "0", paramLabel = "NET")
        String network;
        @Option(names = "--netns", paramLabel = "PATH", description = "The container's network namespace (/var/run/netns/NAME).")
        String netns;
        @Option(names = "--pid", paramLabel = "PID", description = "A process of the container.")
        Integer pid;
        @Option(names = "--name", paramLabel = "NAME", description = "The name it is known by; also what detach --name takes.")
        String name;
        @Option(names = "--id", paramLabel = "ID", description = "Its key for detach; default: the name, else the namespace.")
        String id;
        @Option(names = "--ifname", paramLabel = "IF", description = "Its interface's name in the container; default eth0.")
        String ifname;
        @Option(names = "--ip", paramLabel = "CIDR", description = "Its IPv4 address; default: the next free one of the subnet.")
        String ip;
        @Option(names = "--ip6", paramLabel = "CIDR", description = "Its IPv6 address; default: the next free one of subnet6.")
        String ip6;
        @Option(names = "--mac", paramLabel = "MAC", description = "Its MAC; default: a random local one.")
        String mac;
        @Option(names = "--no-route", description = "No default route via the gateway.")
        boolean noRoute;
        @Option(names = "--alias", paramLabel = "NAME", description = "Another name it answers to on a network with DNS (repeatable).")
        List<String> aliases;

        @Override
        public Integer call() throws Exception {
            if ((netns == null) == (pid == null)) {
                throw new Failure("say where the container is: --netns PATH or --pid PID");
            }
            Views.Endpoint e = root().call(c -> c.attach(network, new Requests.Attach(netns, pid, id, name, ifname, ip, ip6,
                    mac, null, null, noRoute ? true : null, null, "cli", aliases)));
            printJson(out(), e);
            return 0;
        }
    }

    @Command(name = "detach", description = "Detach a container from NET: its interface goes, its address is free again.")
    static final class DetachCmd extends Base {
        @Parameters(index = "0", paramLabel = "NET")
        String network;
        @Option(names = "--netns", paramLabel = "PATH")
        String netns;
        @Option(names = "--pid", paramLabel = "PID")
        Integer pid;
        @Option(names = "--name", paramLabel = "NAME")
        String name;
        @Option(names = "--id", paramLabel = "ID")
        String id;

        @Override
        public Integer call() throws Exception {
            if (netns == null && pid == null && name == null && id == null) {
                throw new Failure("say which endpoint: --netns PATH, --pid PID, --name NAME or --id ID");
            }
            Views.Endpoint e = root().call(c -> c.detach(network, new Requests.Detach(id, name, netns, pid)));
            out().println("endpoint " + e.id() + " detached from network " + network + " (" + e.ifname() + " in " + e.netns()
                    + (e.ipv4() != null ? ", " + e.ipv4() + " free again" : "") + ")");
            return 0;
        }
    }

    @Command(name = "endpoints", description = "The containers attached to NET (or to every network).")
    static final class EndpointsCmd extends Base {
        @Parameters(index = "0", paramLabel = "NET", arity = "0..1")
        String network;
        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            List<Views.Endpoint> list = root().call(c -> network == null ? c.endpoints() : c.endpoints(network));
            if (json) {
                printJson(out(), list);
                return 0;
            }
            out().printf("%-10s %-24s %-12s %-8s %-18s %-20s %-5s %s%n", "network", "id", "port", "ifname", "ipv4", "mac", "state",
                    "netns");
            for (Views.Endpoint e : list) {
                out().printf("%-10s %-24s %-12s %-8s %-18s %-20s %-5s %s%n", e.network(), e.id(), e.port(), e.ifname(),
                        e.ipv4() == null ? "-" : e.ipv4(), e.mac(), e.state(), e.netns());
            }
            return 0;
        }
    }
}
