package io.vswitch.ctl;

import io.vswitch.control.ControlClient;
import io.vswitch.control.NetworkSpec;
import io.vswitch.control.Views;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;

/** {@code vswitchctl network add|set|del|list}: the networks of the switch. */
@Command(name = "network", description = "List, add, change and remove networks.",
        subcommands = {NetworkCmd.Add.class, NetworkCmd.Set.class, NetworkCmd.Del.class, NetworkCmd.ListCmd.class,
                HelpCmd.class})
final class NetworkCmd {
    /** "v4,v6", either alone, or null. */
    static String both(String v4, String v6) {
        return v4 == null ? v6 : v6 == null ? v4 : v4 + "," + v6;
    }

    @Command(name = "add", description = "Add a network (an overlay one with --vni and --peer).")
    static final class Add extends Vswitchctl.Base {
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
            if (!printedJson(r)) {
                out().println("network " + name + " added (mtu " + r.mtu() + ")");
            }
            return 0;
        }
    }

    @Command(name = "set", description = "Change a network: the remote VTEPs of an overlay network.")
    static final class Set extends Vswitchctl.Base {
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
                throw new Vswitchctl.Failure("nothing to change: give --peer IP (repeatable) or --no-peers");
            }
            Views.Network r = root().call(c -> c.setPeers(name, peers));
            if (printedJson(r)) {
                return 0;
            }
            out().println("network " + name + ": peers " + (r.peers().isEmpty() ? "none" : String.join(" ", r.peers())));
            return 0;
        }
    }

    @Command(name = "del", description = "Remove a network with its ports; their devices are deleted, persistent ones too.")
    static final class Del extends Vswitchctl.Base {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws Exception {
            Views.Removed r = root().call(c -> c.removeNetwork(name));
            if (printedJson(r)) {
                return 0;
            }
            out().println("network " + name + " removed" + (r.devices() == null || r.devices().isEmpty() ? ""
                    : "; devices deleted with it: " + String.join(", ", r.devices())));
            return 0;
        }
    }

    @Command(name = "list", description = "Networks and their settings.")
    static final class ListCmd extends Vswitchctl.Base {

        @Override
        public Integer call() throws Exception {
            List<Views.Network> list = root().call(ControlClient::networks);
            if (printedJson(list)) {
                return 0;
            }
            Table t = new Table("name", "mtu", "vni", "vlan", "subnet", "gateway", "dns", "icc", "macs", "limit", "aging");
            for (Views.Network n : list) {
                t.row(n.name(), n.mtu(), n.vni(), n.vlan(), both(n.subnet(), n.subnet6()), both(n.gateway(), n.gateway6()),
                        n.dns() ? "on" : "off", n.icc() ? "on" : "off", n.macCount(), n.macLimit(), n.macAgingSeconds() + "s");
            }
            t.print(out());
            return 0;
        }
    }
}
