package io.vswitch.ctl;

import io.vswitch.control.Views;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.List;

/** {@code vswitchctl endpoints}: the containers attached, to one network or all. */
@Command(name = "endpoints", description = "The containers attached to NET (or to every network). Docker and podman"
        + " ids are cut to 12 hex digits, as docker ps does; --json shows them whole.")
final class EndpointsCmd extends Vswitchctl.Base {
    @Parameters(index = "0", paramLabel = "NET", arity = "0..1")
    String network;

    @Override
    public Integer call() throws Exception {
        List<Views.Endpoint> list = root().call(c -> network == null ? c.endpoints() : c.endpoints(network));
        if (printedJson(list)) {
            return 0;
        }
        Table t = new Table("network", "id", "port", "ifname", "address", "mac", "state", "netns");
        for (Views.Endpoint e : list) {
            t.row(e.network(), Table.shortId(e.id()), e.port(), e.ifname(), NetworkCmd.both(e.ipv4(), e.ipv6()), e.mac(),
                    e.state(), e.netns());
        }
        t.print(out());
        return 0;
    }
}
