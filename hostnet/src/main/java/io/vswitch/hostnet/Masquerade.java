package io.vswitch.hostnet;

import io.vswitch.ipam.Cidr;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Masquerade for networks whose containers reach beyond the daemon's namespace, as Docker does
 * for docker0: traffic from a network's subnet to anywhere outside it leaves with the address of
 * the interface it leaves by. The rules live in an nftables table of the switch's own,
 * {@code inet vswitch}, and nothing else is touched: no other table, no iptables chain.
 *
 * <p>The table is rewritten whole in one {@code nft -f} transaction on every change (create it
 * if absent, delete it, define it anew), so it is never half-updated, and it is deleted when no
 * network masquerades any more. One rule per network and family:
 * <pre>
 *   table inet vswitch {
 *     chain postrouting {
 *       type nat hook postrouting priority srcnat; policy accept;
 *       ip saddr 198.18.61.0/24 ip daddr != 198.18.61.0/24 masquerade comment "network blue"
 *     }
 *   }
 * </pre>
 * Not thread-safe: the registry serialises changes.
 */
public final class Masquerade {
    public static final String TABLE = "vswitch";

    private final List<String> command;
    private final Map<String, List<Cidr>> networks = new TreeMap<>();

    /** With the nft of PATH. */
    public Masquerade() {
        this(List.of("nft", "-f", "-"));
    }

    /** {@code command}: what reads an nft script on stdin and applies it (nft -f -). */
    public Masquerade(List<String> command) {
        this.command = List.copyOf(command);
    }

    /** Masquerades {@code subnets} of {@code network}; refuses (changing nothing) when nft does. */
    public void set(String network, List<Cidr> subnets) throws IOException {
        List<Cidr> before = networks.put(network, List.copyOf(subnets));
        try {
            apply();
        } catch (IOException e) {
            if (before == null) {
                networks.remove(network);
            } else {
                networks.put(network, before);
            }
            throw e;
        }
    }

    /** Stops masquerading {@code network}. */
    public void remove(String network) throws IOException {
        if (networks.remove(network) != null) {
            apply();
        }
    }

    public boolean has(String network) {
        return networks.containsKey(network);
    }

    /** The nft script that makes the table what {@link #networks} says. */
    String script() {
        StringBuilder s = new StringBuilder();
        s.append("table inet ").append(TABLE).append('\n');
        s.append("delete table inet ").append(TABLE).append('\n');
        if (networks.isEmpty()) {
            return s.toString();
        }
        s.append("table inet ").append(TABLE).append(" {\n");
        s.append("  chain postrouting {\n");
        s.append("    type nat hook postrouting priority srcnat; policy accept;\n");
        for (Map.Entry<String, List<Cidr>> e : networks.entrySet()) {
            for (Cidr c : e.getValue()) {
                String family = c.isIpv4() ? "ip" : "ip6";
                s.append("    ").append(family).append(" saddr ").append(c).append(' ').append(family).append(" daddr != ")
                        .append(c).append(" masquerade comment \"network ").append(e.getKey()).append("\"\n");
            }
        }
        s.append("  }\n}\n");
        return s.toString();
    }

    private void apply() throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot run " + command.get(0) + " (nftables is needed for masquerade): " + e.getMessage(), e);
        }
        try (var in = p.getOutputStream()) {
            in.write(script().getBytes(StandardCharsets.UTF_8));
        } catch (IOException stoppedReading) {
            // It ended before reading the script: its exit code and output say why.
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("nft did not finish within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running nft");
        }
        if (p.exitValue() != 0) {
            throw new IOException("nft refused the table inet " + TABLE + ": " + out);
        }
    }
}
