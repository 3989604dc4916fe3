package io.vswitch.ctl;

import io.vswitch.control.PortSpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code vswitchctl port add|del}: ports of a network (TAPs, uplinks, trunks). */
@Command(name = "port", description = "Add and remove ports of a network.",
        subcommands = {PortCmd.Add.class, PortCmd.Del.class, HelpCmd.class})
final class PortCmd {
    @Command(name = "add", description = "Create (or take over) TAP device TAP as a port of NET; with --uplink, put"
            + " host interface TAP (a NIC) on NET.")
    static final class Add extends Vswitchctl.Base {
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
            var r = root().call(c -> c.addPort(network, new PortSpec(tap, persist ? true : null, noOffload ? false : null,
                    uplink ? PortSpec.UPLINK : null, trunk ? true : null, macLimit, storm.spec())));
            if (printedJson(r)) {
                return 0;
            }
            out().println("port " + tap + " added to network " + network);
            return 0;
        }
    }

    @Command(name = "del", description = "Remove port TAP from NET and delete the device (a persistent one too).")
    static final class Del extends Vswitchctl.Base {
        @Parameters(index = "0", paramLabel = "NET")
        String network;
        @Parameters(index = "1", paramLabel = "TAP")
        String tap;

        @Override
        public Integer call() throws Exception {
            var r = root().call(c -> c.removePort(network, tap));
            if (printedJson(r)) {
                return 0;
            }
            out().println("port " + tap + " removed from network " + network);
            return 0;
        }
    }
}
