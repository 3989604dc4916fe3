package io.vswitch.hostnet;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * IP forwarding in the daemon's namespace, which routes for the containers of a network with a
 * way out. Turned on when a network asks for masquerade, as Docker does at start-up, and said so
 * in the log; never turned off again (other things on the host may rely on it by then).
 */
public final class Forwarding {
    private static final Logger LOG = LoggerFactory.getLogger(Forwarding.class);
    static final Path IPV4 = Path.of("/proc/sys/net/ipv4/ip_forward");
    static final Path IPV6 = Path.of("/proc/sys/net/ipv6/conf/all/forwarding");

    private Forwarding() {
    }

    /** Turns IPv4 (and with {@code ipv6}, IPv6) forwarding on, logging it, for {@code why}. */
    public static void ensure(boolean ipv6, String why) throws IOException {
        turnOn(IPV4, "net.ipv4.ip_forward", why);
        if (ipv6) {
            turnOn(IPV6, "net.ipv6.conf.all.forwarding", why);
        }
    }

    private static void turnOn(Path sysctl, String name, String why) throws IOException {
        if (!Files.exists(sysctl) || Files.readString(sysctl).trim().equals("1")) {
            return;
        }
        Files.writeString(sysctl, "1\n");
        LOG.info("{} was 0 in the daemon's namespace: set to 1 for {}, as Docker does", name, why);
    }
}
