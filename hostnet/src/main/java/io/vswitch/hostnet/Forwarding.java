package io.vswitch.hostnet;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * IP forwarding in the daemon's namespace, which routes for the containers of a network with a
 * way out. Turned on when the first network asks for masquerade, as Docker does, and set back to
 * what was found when the last one goes (Docker leaves it on); both said in the log.
 *
 * <p>What was found is a {@link Record}, kept by {@link SwitchTable} as its table's comment, so
 * that a daemon killed meanwhile (which left the table, and forwarding on) reads it back
 * instead of taking its own "1" for what the host had.
 */
public final class Forwarding {
    private static final Logger LOG = LoggerFactory.getLogger(Forwarding.class);
    static final Path IPV4 = Path.of("/proc/sys/net/ipv4/ip_forward");
    static final Path IPV6 = Path.of("/proc/sys/net/ipv6/conf/all/forwarding");
    private static final Pattern TEXT = Pattern.compile("forwarding found: ipv4=([01-]) ipv6=([01-])");

    /** What each sysctl was before the switch turned it on: "0" or "1", or null when it was not touched. */
    public record Record(String ipv4, String ipv6) {
        static final Record NONE = new Record(null, null);

        /** The record as the table's comment carries it; null when nothing was touched. */
        public String text() {
            return ipv4 == null && ipv6 == null ? null
                    : "forwarding found: ipv4=" + (ipv4 == null ? "-" : ipv4) + " ipv6=" + (ipv6 == null ? "-" : ipv6);
        }

        static Record parse(String text) {
            Matcher m = text == null ? null : TEXT.matcher(text);
            if (m == null || !m.find()) {
                return NONE;
            }
            return new Record(m.group(1).equals("-") ? null : m.group(1), m.group(2).equals("-") ? null : m.group(2));
        }
    }

    private final Path ipv4;
    private final Path ipv6;
    private Record record = Record.NONE;

    /** The sysctls of the daemon's namespace. */
    public Forwarding() {
        this(IPV4, IPV6);
    }

    /** {@code ipv4}, {@code ipv6}: the files standing for the two sysctls (tests use plain files). */
    public Forwarding(Path ipv4, Path ipv6) {
        this.ipv4 = ipv4;
        this.ipv6 = ipv6;
    }

    /** What was found, so far. */
    public Record record() {
        return record;
    }

    /** Takes a record left by an earlier run ({@link Record#text()}, or null for none) as what was found. */
    void found(String text) {
        Record r = Record.parse(text);
        if (r.text() != null) {
            record = r;
            LOG.info("IP forwarding was turned on by an earlier run; it goes back to what that run found ({})", r.text());
        }
    }

    /** Turns IPv4 (and with {@code ipv6}, IPv6) forwarding on for {@code why}, recording what was there. */
    void hold(boolean withIpv6, String why) throws IOException {
        if (record.ipv4() == null) {
            record = new Record(turnOn(ipv4, "net.ipv4.ip_forward", why), record.ipv6());
        }
        if (withIpv6 && record.ipv6() == null) {
            record = new Record(record.ipv4(), turnOn(ipv6, "net.ipv6.conf.all.forwarding", why));
        }
    }

    /** Undoes the {@link #hold}s since {@code before} was the record (a change that failed). */
    void restore(Record before) {
        if (before.ipv4() == null && record.ipv4() != null) {
            setBack(ipv4, "net.ipv4.ip_forward", record.ipv4());
        }
        if (before.ipv6() == null && record.ipv6() != null) {
            setBack(ipv6, "net.ipv6.conf.all.forwarding", record.ipv6());
        }
        record = before;
    }

    /** No network needs forwarding any more: each sysctl goes back to what was found. */
    void release() {
        restore(Record.NONE);
    }

    /** Returns what {@code sysctl} was ("0", "1"), setting it to 1. */
    private static String turnOn(Path sysctl, String name, String why) throws IOException {
        if (!Files.exists(sysctl)) {
            return null;
        }
        String was = Files.readString(sysctl).trim();
        if (!was.equals("1")) {
            Files.writeString(sysctl, "1\n");
            LOG.info("{} was {} in the daemon's namespace: set to 1 for {}, as Docker does; it goes back when no network needs it",
                    name, was, why);
        }
        return was.equals("1") ? "1" : "0";
    }

    private static void setBack(Path sysctl, String name, String was) {
        try {
            if (!Files.readString(sysctl).trim().equals(was)) {
                Files.writeString(sysctl, was + "\n");
                LOG.info("{} set back to {}, as it was found: no network masquerades any more", name, was);
            }
        } catch (IOException e) {
            LOG.warn("cannot set {} back to {}: {}", name, was, e.getMessage());
        }
    }
}
