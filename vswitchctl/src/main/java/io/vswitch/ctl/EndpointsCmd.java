package io.vswitch.ctl;

import io.vswitch.control.Views;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;

/** {@code vswitchctl endpoints}: the containers attached, to one network or all. */
@Command(name = "endpoints", description = "The containers attached to NET (or to every network).")
final class EndpointsCmd extends Vswitchctl.Base {
    @Parameters(index = "0", paramLabel = "NET", arity = "0..1")
    String network;
    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<Views.Endpoint> list = root().call(c -> network == null ? c.endpoints() : c.endpoints(network));
        if (json) {
            Vswitchctl.printJson(out(), list);
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
