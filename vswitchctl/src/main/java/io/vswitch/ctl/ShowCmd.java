package io.vswitch.ctl;

import io.vswitch.control.ControlClient;
import io.vswitch.control.Views;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.Map;

/** {@code vswitchctl show}: networks, ports (state, MTU) and per-port counters. */
@Command(name = "show", description = "Networks, ports (state, MTU) and per-port counters.")
final class ShowCmd extends Vswitchctl.Base {

    @Override
    public Integer call() throws Exception {
        Views.Show show = root().call(ControlClient::show);
        PrintWriter out = out();
        if (json()) {
            Vswitchctl.printJson(out, show);
            return 0;
        }
        Views.DataplaneStatus dp = show.dataplane();
        if (dp != null) {
            String perFrame = dp.ringFramesRead() + dp.ringFramesWritten() > 0
                    ? String.format(", %.3f kernel entries per TAP frame", (double) dp.ringEnters()
                            / (dp.ringFramesRead() + dp.ringFramesWritten())) : "";
            out.printf("dataplane: %d loops, io %s%s, polling %s%s%n", dp.threads(), dp.io(),
                    dp.ioNote().isEmpty() ? "" : " (" + dp.ioNote() + ")", dp.polling(), perFrame);
        }
        if (show.cluster() != null) {
            ClusterCmd.status(out, show.cluster());
        }
        for (Views.Network n : show.networks()) {
            out.printf("network %s: mtu %d%s, %d MACs (limit %d, aging %ds)%n", n.name(), n.mtu(),
                    n.vni() != null ? ", vni " + n.vni() + ", peers " + String.join(" ", n.peers()) : "",
                    n.macCount(), n.macLimit(), n.macAgingSeconds());
            if (n.subnet() != null || n.subnet6() != null) {
                out.printf("  subnet %s gateway %s%s%s%s%s%n", n.subnet() != null ? n.subnet() : n.subnet6(),
                        n.gateway() != null ? n.gateway() : n.gateway6(), n.gatewayPort() ? " (gateway port)" : "",
                        n.masquerade() ? ", masquerade" : "", n.icc() ? "" : ", icc off",
                        n.dns() ? ", dns on the gateway" : "");
            }
            out.printf("  %-22s %-7s %-5s %6s %12s %14s %12s %14s %8s%n", "port", "kind", "state", "mtu",
                    "rx_frames", "rx_bytes", "tx_frames", "tx_bytes", "drops");
            for (Views.Port p : n.ports()) {
                long drops = p.drops().values().stream().mapToLong(Long::longValue).sum();
                Map<String, Long> c = p.counters();
                out.printf("  %-22s %-7s %-5s %6d %12d %14d %12d %14d %8d%n", p.name(), p.kind(), p.state(), p.mtu(),
                        c.get("rx_frames"), c.get("rx_bytes"), c.get("tx_frames"), c.get("tx_bytes"), drops);
                if (p.reason() != null) {
                    out.printf("    down: %s%n", p.reason());
                }
            }
        }
        return 0;
    }
}
