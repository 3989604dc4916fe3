package io.vswitch.ctl;

import io.vswitch.control.Requests;
import io.vswitch.control.Views;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;

/** {@code vswitchctl attach}: a container plugged into a network by the switch. */
@Command(name = "attach", description = "Attach a container to NET: a TAP moved into its namespace, renamed, "
        + "addressed, up, with a default route via the network's gateway. Prints the endpoint as JSON.")
final class AttachCmd extends Vswitchctl.Base {
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
            throw new Vswitchctl.Failure("say where the container is: --netns PATH or --pid PID");
        }
        Views.Endpoint e = root().call(c -> c.attach(network, new Requests.Attach(netns, pid, id, name, ifname, ip, ip6,
                mac, null, null, noRoute ? true : null, null, "cli", aliases)));
        Vswitchctl.printJson(out(), e);
        if (e.ipv4() == null && e.ipv6() == null) {
            // As docker run on a network without IPAM, or ovs-docker add-port without --ipaddress.
            note("endpoint " + e.id() + " has no address: network " + network + " has no subnet; give one with --ip CIDR,"
                    + " or add the network with --subnet CIDR");
        }
        return 0;
    }
}
