package io.vswitch.ctl;

import io.vswitch.control.StaticEntry;
import io.vswitch.control.Views;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.List;

/** {@code vswitchctl fdb show|flush|add|del}: the MAC table of a network. */
@Command(name = "fdb", description = "The MAC table of a network.",
        subcommands = {FdbCmd.ShowFdb.class, FdbCmd.Flush.class, FdbCmd.Add.class, FdbCmd.Del.class, HelpCmd.class})
final class FdbCmd {
    @Command(name = "flush", description = "Forget the dynamic entries of NET (of one port with --port).")
    static final class Flush extends Vswitchctl.Base {
        @Parameters(index = "0", paramLabel = "NET")
        String network;
        @Option(names = "--port", paramLabel = "PORT")
        String port;

        @Override
        public Integer call() throws Exception {
            Views.Flushed r = root().call(c -> c.flush(network, port));
            if (printedJson(r)) {
                return 0;
            }
            out().println(r.flushed() + " entries flushed");
            return 0;
        }
    }

    @Command(name = "add", description = "Add a static entry: MAC on PORT, never ages, never moves.")
    static final class Add extends Vswitchctl.Base {
        @Parameters(index = "0", paramLabel = "NET")
        String network;
        @Parameters(index = "1", paramLabel = "MAC")
        String mac;
        @Parameters(index = "2", paramLabel = "PORT")
        String port;

        @Override
        public Integer call() throws Exception {
            var r = root().call(c -> c.addStatic(network, new StaticEntry(mac, port)));
            if (printedJson(r)) {
                return 0;
            }
            out().println("static entry " + mac + " -> " + port + " added");
            return 0;
        }
    }

    @Command(name = "del", description = "Remove the entry of MAC (dynamic or static).")
    static final class Del extends Vswitchctl.Base {
        @Parameters(index = "0", paramLabel = "NET")
        String network;
        @Parameters(index = "1", paramLabel = "MAC")
        String mac;

        @Override
        public Integer call() throws Exception {
            var r = root().call(c -> c.removeMac(network, mac));
            if (printedJson(r)) {
                return 0;
            }
            out().println("entry " + mac + " removed");
            return 0;
        }
    }

    @Command(name = "show", description = "MAC, port or remote VTEP, dynamic/static, age.")
    static final class ShowFdb extends Vswitchctl.Base {
        @Parameters(index = "0", paramLabel = "NET")
        String network;

        @Override
        public Integer call() throws Exception {
            List<Views.FdbEntry> entries = root().call(c -> c.fdb(network));
            PrintWriter out = out();
            if (json()) {
                Vswitchctl.printJson(out, entries);
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
