package io.vswitch.ctl;

import io.vswitch.control.ControlClient;
import io.vswitch.control.Views;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;

/** {@code vswitchctl cluster show}: the cluster this daemon is in, from its view of etcd. */
@Command(name = "cluster", description = "The cluster (etcd) this daemon is in.",
        subcommands = {ClusterCmd.ShowCluster.class, HelpCmd.class})
final class ClusterCmd {

    /** One line: who this host is, whether etcd is there, what is known. */
    static void status(PrintWriter out, Views.ClusterStatus s) {
        out.printf("cluster: host %s, etcd %s %s (prefix %s), revision %d, %d hosts, %d endpoints%n", s.host(),
                String.join(",", s.etcd()), s.connected() ? "connected" : "UNREACHABLE (last known state kept)",
                s.prefix(), s.revision(), s.hosts(), s.endpoints());
    }

    /** What the session refused and healed: values by reason, lingering deletes, keys written back. */
    static void refusals(PrintWriter out, Views.Cluster c) {
        out.printf("%nrefused values: %s (%d keys now); lingering deletes: %d; own keys written back: %d%n",
                c.refused().isEmpty() ? "none" : String.join(", ", c.refused().entrySet().stream()
                        .map(e -> e.getKey() + " " + e.getValue()).toList()), c.refusedKeys(), c.lingering(), c.rewrites());
    }

    @Command(name = "show", description = "Hosts with their VTEPs, lease age and TTL left, the networks each has ports in;"
            + " then the cluster's networks.")
    static final class ShowCluster extends Vswitchctl.Base {

        @Override
        public Integer call() throws Exception {
            Views.Cluster c = root().call(ControlClient::cluster);
            PrintWriter out = out();
            if (json()) {
                Vswitchctl.printJson(out, c);
                return 0;
            }
            status(out, c.status());
            out.printf("%-20s %-21s %8s %9s %9s  %s%n", "host", "vtep", "age", "lease", "endpoints", "networks");
            for (Views.ClusterHost h : c.hosts()) {
                out.printf("%-20s %-21s %7ds %9s %9d  %s%n", h.name() + (h.self() ? " (this)" : ""), h.vtep() + ":" + h.port(),
                        h.ageSeconds(), h.leaseTtlSeconds() < 0 ? "-" : h.leaseTtlSeconds() + "/" + c.ttlSeconds() + "s",
                        h.endpoints(), h.networks().isEmpty() ? "-" : String.join(" ", h.networks()));
            }
            out.printf("%n%-16s %9s %9s  %s%n", "network", "vni", "endpoints", "hosts with ports");
            for (Views.ClusterNetwork n : c.networks()) {
                out.printf("%-16s %9s %9d  %s%n", n.name(), n.vni() == null ? "-" : n.vni(), n.endpoints(),
                        n.hosts().isEmpty() ? "-" : String.join(" ", n.hosts()));
            }
            refusals(out, c);
            return 0;
        }
    }
}
