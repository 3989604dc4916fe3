package io.vswitch.hostnet;

import io.vswitch.ipam.Cidr;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the switch asks of the kernel's firewall in the daemon's namespace, for the networks
 * whose gateway port sits there: one nftables table of its own, {@code inet vswitch}, and
 * nothing else (no other table, no iptables chain, no sysctl but IP forwarding).
 *
 * <p>A gateway port puts a network's gateway address into the daemon's namespace, and with it
 * that namespace's routing within every container's reach. Three chains keep it from becoming a
 * way around the switch:
 * <pre>
 *   table inet vswitch {
 *     comment "forwarding found: ipv4=0 ipv6=-"          (what IP forwarding was; see below)
 *     chain prerouting {                                   strict reverse-path filter (RFC 3704)
 *       type filter hook prerouting priority raw; policy accept;
 *       iifname { "vs-blue", "vs-red" } fib saddr type local counter drop comment "spoofed source"
 *       iifname { ... } ip saddr != 0.0.0.0 fib saddr . iif oif missing counter drop comment "spoofed source"
 *       iifname { ... } ip6 saddr != :: fib saddr . iif oif missing counter drop comment "spoofed source"
 *     }
 *     chain forward {                                      isolation, as Docker's DOCKER-ISOLATION chains
 *       type filter hook forward priority filter; policy accept;
 *       ct status dnat accept                              published ports stay reachable
 *       iifname "vs-blue" oifname "vs-blue" accept         icc: true hair-pins through its gateway
 *       iifname { ... } oifname { ... } counter drop comment "isolated"
 *     }
 *     chain postrouting {                                  the way out
 *       type nat hook postrouting priority srcnat; policy accept;
 *       ip saddr 198.18.61.0/24 ip daddr != 198.18.61.0/24 masquerade comment "network blue"
 *     }
 *   }
 * </pre>
 * The reverse-path rule drops a packet from a container whose source address would not be
 * routed back out of the gateway port it came in by: a container can no longer claim the
 * upstream resolver's address (and so answer the DNS forwarder's questions itself), another
 * network's, or the namespace's own. The kernel's {@code rp_filter} sysctl cannot do this
 * reliably: the effective value is the maximum of {@code all} and the interface's, and systemd
 * sets {@code all} to 2 (loose), which accepts any source routable anywhere; IPv6 has none.
 * The forward rule drops what the namespace would route from one gateway port to another
 * (between two networks) or back out of the one it came in by (two containers of an
 * {@code icc: false} network meeting through their gateway's MAC), while the way out
 * (masquerade, any other interface) and connections to published ports (DNAT, e.g. CNI's
 * portmap) pass. Both only match the switch's own gateway ports.
 *
 * <p>The table is rewritten whole in one {@code nft -f} transaction on every change, so it is
 * never half-updated, and deleted when no network has a gateway port. IP forwarding
 * ({@link Forwarding}) is turned on while a network masquerades and set back to what was found
 * when the last one goes; what was found is kept as the table's comment, so a daemon killed
 * meanwhile finds it again in the kernel, not in a file.
 *
 * <p>Not thread-safe: the registry serialises changes.
 */
public final class SwitchTable {
    private static final Logger LOG = LoggerFactory.getLogger(SwitchTable.class);
    public static final String TABLE = "vswitch";
    private static final Pattern RECORD = Pattern.compile("table inet " + TABLE + " \\{\\s*comment \"([^\"]*)\"");

    /**
     * A network whose gateway port is in this namespace: the port's device name, whether its
     * containers may meet through it ({@code icc}), and the subnets masqueraded on the way out
     * (empty: none).
     */
    public record Gateway(String ifname, boolean icc, List<Cidr> masquerade) {
        public Gateway {
            masquerade = List.copyOf(masquerade);
        }

        boolean masqueradesIpv6() {
            return masquerade.stream().anyMatch(c -> !c.isIpv4());
        }
    }

    private final List<String> apply;
    private final List<String> list;
    private final Forwarding forwarding;
    private final Map<String, Gateway> gateways = new TreeMap<>();
    private boolean recordRead;

    /** With the nft of PATH and the namespace's own sysctls. */
    public SwitchTable() {
        this(List.of("nft", "-f", "-"), List.of("nft", "list", "table", "inet", TABLE), new Forwarding());
    }

    /**
     * {@code apply}: what reads an nft script on stdin and applies it ({@code nft -f -});
     * {@code list}: what prints the table as it is now ({@code nft list table inet vswitch}).
     */
    public SwitchTable(List<String> apply, List<String> list, Forwarding forwarding) {
        this.apply = List.copyOf(apply);
        this.list = List.copyOf(list);
        this.forwarding = forwarding;
    }

    /** Sets what the table holds for {@code network}; refuses (changing nothing) when nft or the sysctl does. */
    public void set(String network, Gateway gateway) throws IOException {
        Gateway before = gateways.put(network, gateway);
        try {
            apply(network);
        } catch (IOException e) {
            if (before == null) {
                gateways.remove(network);
            } else {
                gateways.put(network, before);
            }
            throw e;
        }
    }

    /** Takes {@code network} out of the table (the table goes with the last network). */
    public void remove(String network) throws IOException {
        if (gateways.remove(network) != null) {
            apply(network);
        }
    }

    public boolean has(String network) {
        return gateways.containsKey(network);
    }

    /** Whether a network masquerades now. */
    public boolean masquerades(String network) {
        Gateway g = gateways.get(network);
        return g != null && !g.masquerade().isEmpty();
    }

    private void apply(String network) throws IOException {
        if (!recordRead) {
            // A daemon killed while a network masqueraded left its record in the table it left.
            forwarding.found(readRecord());
            recordRead = true;
        }
        boolean needs = gateways.values().stream().anyMatch(g -> !g.masquerade().isEmpty());
        boolean needs6 = gateways.values().stream().anyMatch(Gateway::masqueradesIpv6);
        Forwarding.Record undo = forwarding.record();
        try {
            if (needs) {
                forwarding.hold(needs6, "the masquerade of network " + network);
            } else {
                forwarding.release(); // before the script: the table no longer carries the record
            }
            run(apply, script());
        } catch (IOException e) {
            if (needs) {
                forwarding.restore(undo);
            }
            throw e;
        }
    }

    /** The table's record of what IP forwarding was before the switch turned it on; null when none. */
    private String readRecord() {
        try {
            Matcher m = RECORD.matcher(run(list, ""));
            return m.find() ? m.group(1) : null;
        } catch (IOException noTable) {
            return null;
        }
    }

    /** The nft script that makes the table what {@link #gateways} say. */
    String script() {
        StringBuilder s = new StringBuilder();
        s.append("table inet ").append(TABLE).append('\n');
        s.append("delete table inet ").append(TABLE).append('\n');
        if (gateways.isEmpty()) {
            return s.toString();
        }
        List<String> ports = new ArrayList<>();
        for (Gateway g : gateways.values()) {
            ports.add('"' + g.ifname() + '"');
        }
        String all = "{ " + String.join(", ", ports) + " }";
        s.append("table inet ").append(TABLE).append(" {\n");
        String record = forwarding.record().text();
        if (record != null) {
            s.append("  comment \"").append(record).append("\"\n");
        }
        s.append("  chain prerouting {\n");
        s.append("    type filter hook prerouting priority raw; policy accept;\n");
        s.append("    iifname ").append(all).append(" fib saddr type local counter drop comment \"spoofed source\"\n");
        s.append("    iifname ").append(all)
                .append(" ip saddr != 0.0.0.0 fib saddr . iif oif missing counter drop comment \"spoofed source\"\n");
        s.append("    iifname ").append(all)
                .append(" ip6 saddr != :: fib saddr . iif oif missing counter drop comment \"spoofed source\"\n");
        s.append("  }\n");
        s.append("  chain forward {\n");
        s.append("    type filter hook forward priority filter; policy accept;\n");
        s.append("    ct status dnat accept\n");
        for (Gateway g : gateways.values()) {
            if (g.icc()) {
                s.append("    iifname \"").append(g.ifname()).append("\" oifname \"").append(g.ifname()).append("\" accept\n");
            }
        }
        s.append("    iifname ").append(all).append(" oifname ").append(all).append(" counter drop comment \"isolated\"\n");
        s.append("  }\n");
        boolean masquerade = gateways.values().stream().anyMatch(g -> !g.masquerade().isEmpty());
        if (masquerade) {
            s.append("  chain postrouting {\n");
            s.append("    type nat hook postrouting priority srcnat; policy accept;\n");
            for (Map.Entry<String, Gateway> e : gateways.entrySet()) {
                for (Cidr c : e.getValue().masquerade()) {
                    String family = c.isIpv4() ? "ip" : "ip6";
                    s.append("    ").append(family).append(" saddr ").append(c).append(' ').append(family).append(" daddr != ")
                            .append(c).append(" masquerade comment \"network ").append(e.getKey()).append("\"\n");
                }
            }
            s.append("  }\n");
        }
        s.append("}\n");
        return s.toString();
    }

    /** Runs {@code command} with {@code input} on stdin; returns its output, or throws with it when it fails. */
    private static String run(List<String> command, String input) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot run " + command.get(0) + " (nftables is needed for gateway ports): " + e.getMessage(), e);
        }
        try (var in = p.getOutputStream()) {
            in.write(input.getBytes(StandardCharsets.UTF_8));
        } catch (IOException stoppedReading) {
            // It ended before reading the script: its exit code and output say why.
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(command.get(0) + " did not finish within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command.get(0));
        }
        if (p.exitValue() != 0) {
            throw new IOException("nft refused the table inet " + TABLE + ": " + out);
        }
        LOG.debug("{}: {}", command, out);
        return out;
    }
}
