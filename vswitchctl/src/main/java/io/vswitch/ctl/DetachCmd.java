package io.vswitch.ctl;

import io.vswitch.control.Requests;
import io.vswitch.control.Views;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code vswitchctl detach}: a container unplugged; its address is free again. */
@Command(name = "detach", description = "Detach a container from NET: its interface goes, its address is free again.")
final class DetachCmd extends Vswitchctl.Base {
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
            throw new Vswitchctl.Failure("say which endpoint: --netns PATH, --pid PID, --name NAME or --id ID");
        }
        Views.Endpoint e = root().call(c -> c.detach(network, new Requests.Detach(id, name, netns, pid)));
        if (printedJson(e)) {
            return 0;
        }
        out().println("endpoint " + e.id() + " detached from network " + network + " (" + e.ifname() + " in " + e.netns()
                + (e.ipv4() != null ? ", " + e.ipv4() + " free again" : "") + ")");
        return 0;
    }
}
