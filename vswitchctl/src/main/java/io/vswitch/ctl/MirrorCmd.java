package io.vswitch.ctl;

import io.vswitch.control.MirrorSpec;
import io.vswitch.control.Views;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;

/** {@code vswitchctl mirror add|del|list}: a network's mirrors (SPAN), as Open vSwitch's Mirror. */
@Command(name = "mirror", description = "Mirrors (SPAN): copies of chosen ports' frames sent to an output port.",
        subcommands = {MirrorCmd.Add.class, MirrorCmd.Del.class, MirrorCmd.ListCmd.class,
                HelpCmd.class})
final class MirrorCmd {

    static List<MirrorSpec> current(Vswitchctl root, String network) throws Vswitchctl.Failure {
        Views.Network n = root.call(c -> c.network(network));
        return n.mirrors() == null ? new ArrayList<>() : new ArrayList<>(n.mirrors());
    }

    @Command(name = "add", description = "Add mirror NAME to NET: what --port P receives (--direction in), what is sent"
            + " to it (out), or both (default), copied to --output O; without --port, every port.")
    static final class Add extends Vswitchctl.Base {
        @Parameters(index = "0", paramLabel = "NET")
        String network;
        @Parameters(index = "1", paramLabel = "NAME")
        String name;
        @Option(names = "--port", paramLabel = "PORT", description = "A mirrored port (repeat for several).")
        List<String> ports = new ArrayList<>();
        @Option(names = "--direction", paramLabel = "DIR", description = "in, out or both (default).")
        String direction;
        @Option(names = "--output", paramLabel = "PORT", required = true, description = "The port that gets the copies.")
        String output;

        @Override
        public Integer call() throws Exception {
            List<MirrorSpec> mirrors = current(root(), network);
            mirrors.removeIf(m -> m.name().equals(name));
            mirrors.add(new MirrorSpec(name, ports, direction, output));
            Views.Network r = root().call(c -> c.setMirrors(network, mirrors));
            if (printedJson(r.mirrors())) {
                return 0;
            }
            out().println("mirror " + name + " of network " + network + " sends to " + output);
            return 0;
        }
    }

    @Command(name = "del", description = "Remove mirror NAME from NET.")
    static final class Del extends Vswitchctl.Base {
        @Parameters(index = "0", paramLabel = "NET")
        String network;
        @Parameters(index = "1", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws Exception {
            List<MirrorSpec> mirrors = current(root(), network);
            if (!mirrors.removeIf(m -> m.name().equals(name))) {
                throw new Vswitchctl.Failure("network " + network + " has no mirror " + name);
            }
            Views.Network r = root().call(c -> c.setMirrors(network, mirrors));
            if (printedJson(r.mirrors())) {
                return 0;
            }
            out().println("mirror " + name + " removed from network " + network);
            return 0;
        }
    }

    @Command(name = "list", description = "The mirrors of NET.")
    static final class ListCmd extends Vswitchctl.Base {
        @Parameters(index = "0", paramLabel = "NET")
        String network;

        @Override
        public Integer call() throws Exception {
            List<MirrorSpec> mirrors = current(root(), network);
            if (printedJson(mirrors)) {
                return 0;
            }
            for (MirrorSpec m : mirrors) {
                out().printf("%-16s %-5s %-30s -> %s%n", m.name(), m.direction(),
                        m.ports().isEmpty() ? "(every port)" : String.join(",", m.ports()), m.output());
            }
            return 0;
        }
    }

    private MirrorCmd() {
    }
}
