package io.vswitch.ctl;

import io.vswitch.control.Requests;
import io.vswitch.control.Views;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code vswitchctl trace}: what the switch would do with a frame, and why. */
@Command(name = "trace", description = "What the switch would do with such a frame, and why.")
final class TraceCmd extends Vswitchctl.Base {
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

    @Override
    public Integer call() throws Exception {
        Views.Trace r = root().call(c -> c.trace(network, new Requests.Trace(in, src, dst, vlan)));
        if (json()) {
            Vswitchctl.printJson(out(), r);
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
