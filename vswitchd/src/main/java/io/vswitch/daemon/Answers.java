package io.vswitch.daemon;

import io.netty.buffer.ByteBuf;
import io.vswitch.control.EndpointSpec;
import io.vswitch.core.Announcer;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.Directory;
import io.vswitch.core.MacAddress;
import io.vswitch.core.NameTable;
import io.vswitch.core.Port;
import io.vswitch.core.Upstream;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.ipam.Cidr;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;

/**
 * What a network's data path answers for ({@link Directory}), built from its gateway and its
 * endpoints whenever they change: every endpoint's addresses behind its MAC, the gateway's
 * (when a gateway port holds it, or the switch answers DNS there), and, with DNS on, the
 * endpoints' names and aliases. An address that now has another MAC than before is announced
 * to the network ({@link Announcer}): the switch answers ARP itself, so neighbours that cached
 * the old MAC would never hear otherwise.
 *
 * <p>Called by {@link Attachments} under the registry's lock.
 */
final class Answers {
    private static final Logger LOG = LoggerFactory.getLogger(Answers.class);
    /** The loop whose lane writes the announcements. */
    private static final int LANE = 0;

    private final Dataplane dataplane;
    private final Upstream upstream;
    /** Announcements written and not yet released; only touched on lane {@link #LANE}'s loop. */
    private final List<ByteBuf> announced = new ArrayList<>();

    /** {@code upstream}: where names a network does not know go (null: REFUSED at once). */
    Answers(Dataplane dataplane, Upstream upstream) {
        this.dataplane = dataplane;
        this.upstream = upstream;
    }

    /**
     * Publishes the directory of network {@code checked} on {@code domain}. Endpoints whose TAP
     * is gone, or whose spec cannot be read, are left out (logged), never the whole directory.
     */
    void publish(BridgeDomain domain, NetworkRules.Network checked, boolean gatewayPort, InetAddress gateway4,
            InetAddress gateway6, Collection<Attachments.Endpoint> endpoints, io.vswitch.core.RemoteNeighbors remote,
            boolean announce) {
        Directory before = domain.directory();
        List<Runnable> announcements = new ArrayList<>();
        Directory.Builder b = Directory.builder();
        String network = checked.name();
        boolean dns = checked.dns();
        if (gatewayPort || dns) {
            b.gateway(gatewayMac(network), gatewayPort, gateway4 == null ? null : gateway4.getAddress(),
                    gateway6 == null ? null : gateway6.getAddress());
        }
        if (dns) {
            b.dns(network, upstream);
        }
        b.remote(remote);
        for (Attachments.Endpoint e : endpoints) {
            if (e.port() == null) {
                continue;
            }
            try {
                EndpointSpec s = e.spec();
                long mac = MacAddress.parse(s.mac());
                List<byte[]> addresses = new ArrayList<>();
                for (String cidr : new String[] {s.ipv4(), s.ipv6()}) {
                    if (cidr == null) {
                        continue;
                    }
                    byte[] ip = Cidr.parseAddress(cidr).address().getAddress();
                    b.neighbor(ip, mac);
                    addresses.add(ip);
                    long had = ip.length == 4 ? before.macOf4(Directory.int4(ip))
                            : before.macOf6(Directory.long8(ip, 0), Directory.long8(ip, 8));
                    if (announce && had != mac) {
                        Port port = e.port();
                        announcements.add(() -> announced.add(Announcer.announce(domain, port, mac, ip, LANE)));
                    }
                }
                if (dns) {
                    List<String> names = new ArrayList<>();
                    if (s.name() != null) {
                        names.add(s.name());
                    }
                    if (s.aliases() != null) {
                        names.addAll(s.aliases());
                    }
                    for (String name : names) {
                        addresses.forEach(ip -> b.name(name, ip));
                    }
                }
            } catch (RuntimeException bad) {
                LOG.warn("network {}: endpoint {} left out of what the switch answers: {}", network, e.spec().id(),
                        bad.getMessage());
            }
        }
        domain.setDirectory(b.build());
        if (!announcements.isEmpty()) {
            try {
                dataplane.lane(LANE).loop().execute(() -> {
                    announcements.forEach(Runnable::run);
                    dataplane.lane(LANE).afterWork(); // a tunnel only queued them: out they go
                    announced.forEach(ByteBuf::release);
                    announced.clear();
                });
            } catch (RejectedExecutionException stopping) {
                // The loops are stopping: nobody to tell.
            }
        }
    }

    /**
     * The gateway's MAC on a network: the same on every restart of this host (containers keep it
     * in their neighbour tables), different on another host (one overlay, a gateway per host):
     * locally administered, from this machine's id and the network's name.
     */
    static long gatewayMac(String network) {
        String machine;
        try {
            machine = Files.readString(Path.of("/etc/machine-id")).strip();
        } catch (IOException e) {
            machine = "";
        }
        if (machine.isEmpty()) {
            try {
                machine = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                machine = "vswitch";
            }
        }
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("SHA-256").digest((machine + "/" + network).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long mac = 0x02;
        for (int i = 0; i < 5; i++) {
            mac = (mac << 8) | (digest[i] & 0xFF);
        }
        return mac;
    }

    /** Aliases as asked for: at most 32, each a DNS name; null when none. */
    static List<String> aliases(List<String> asked) {
        if (asked == null || asked.isEmpty()) {
            return null;
        }
        if (asked.size() > 32) {
            throw new SpecException("aliases", "at most 32 aliases, got " + asked.size());
        }
        List<String> out = new ArrayList<>();
        for (String a : asked) {
            if (NameTable.normal(a) == null) {
                throw new SpecException("aliases", "expected DNS names (letters, digits, '-', '_', labels of 1-63, "
                        + "at most 253 in all), got \"" + a + "\"");
            }
            if (!out.contains(a)) {
                out.add(a);
            }
        }
        return out;
    }
}
