package io.vswitch.ctl;

import io.vswitch.control.ControlClient;
import io.vswitch.control.Views;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.Map;

/** {@code vswitchctl stats}: totals and drops by reason. */
@Command(name = "stats", description = "Totals and drops by reason.")
final class StatsCmd extends Vswitchctl.Base {

    @Override
    public Integer call() throws Exception {
        Views.Stats stats = root().call(ControlClient::stats);
        PrintWriter out = out();
        if (json()) {
            Vswitchctl.printJson(out, stats);
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
