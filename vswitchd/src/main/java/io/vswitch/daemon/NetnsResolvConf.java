package io.vswitch.daemon;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The resolv.conf of a named network namespace: {@code ip netns exec NAME} bind-mounts
 * {@code /etc/netns/NAME/resolv.conf} over {@code /etc/resolv.conf} for what it runs. A
 * container attached by the operator ({@code vswitchctl attach --netns /var/run/netns/NAME})
 * gets one, as a runtime would write its container's: the network's gateway on a network with
 * {@code dns: true} (the switch answers the endpoints' names there and forwards the rest), else
 * the host's resolvers (without loopback ones, which the container cannot reach). A file the
 * switch did not write is never touched; the one it wrote names its endpoint on its first line
 * and goes when that endpoint is detached. Runtimes (Docker, podman through CNI) write their
 * containers' resolv.conf themselves, and a namespace named by a pid has no such file, so only
 * named namespaces attached through the API get one.
 *
 * <p>The namespace's name comes from a path the caller gave, already checked to be a network
 * namespace under {@code /var/run/netns} or {@code /run/netns}; the file is written through a
 * temporary file and a rename, never through a symbolic link.
 */
final class NetnsResolvConf {
    private static final Logger LOG = LoggerFactory.getLogger(NetnsResolvConf.class);
    private static final String MARK = "# vswitchd: endpoint ";

    private final Path etcNetns;
    private final Path hostResolvConf;

    NetnsResolvConf() {
        this(Path.of("/etc/netns"), Path.of("/etc/resolv.conf"));
    }

    /** Tests: another place for the namespaces' files and the host's. */
    NetnsResolvConf(Path etcNetns, Path hostResolvConf) {
        this.etcNetns = etcNetns;
        this.hostResolvConf = hostResolvConf;
    }

    /** {@code /etc/netns/NAME/resolv.conf} for {@code /var/run/netns/NAME} or {@code /run/netns/NAME}; null for other paths. */
    Path fileFor(String netns) {
        if (netns == null) {
            return null;
        }
        Path p = Path.of(netns).normalize();
        Path parent = p.getParent();
        if (parent == null || !(parent.equals(Path.of("/var/run/netns")) || parent.equals(Path.of("/run/netns")))) {
            return null;
        }
        String name = p.getFileName().toString();
        if (name.isEmpty() || name.equals(".") || name.equals("..")) {
            return null;
        }
        return etcNetns.resolve(name).resolve("resolv.conf");
    }

    private static String mark(String network, String id) {
        return MARK + id + " of network " + network + "; removed when it is detached";
    }

    /**
     * Writes the namespace's resolv.conf for endpoint {@code id} of {@code network}, naming
     * {@code gateways} (the network's, with {@code dns: true}), else the host's resolvers; leaves
     * a file the switch did not write, and one it wrote for another endpoint. Never throws: a
     * failure is logged, and the attach stands.
     */
    void write(String netns, String network, String id, List<InetAddress> gateways) {
        Path file = fileFor(netns);
        if (file == null) {
            return;
        }
        try {
            String first = firstLine(file);
            if (first != null && !first.startsWith(MARK)) {
                LOG.info("endpoint {}: {} is there already and not the switch's: left as it is", id, file);
                return;
            }
            if (first != null) {
                return; // the switch's, for another endpoint in the same namespace: it stays that one's
            }
            List<String> lines = new ArrayList<>();
            lines.add(mark(network, id));
            String from;
            if (!gateways.isEmpty()) {
                gateways.forEach(g -> lines.add("nameserver " + g.getHostAddress()));
                from = "the gateway of network " + network;
            } else {
                List<String> host = hostResolvers();
                if (host.stream().noneMatch(l -> l.startsWith("nameserver"))) {
                    LOG.info("endpoint {}: no resolv.conf written for {}: {} names no resolver a container can reach", id,
                            netns, hostResolvConf);
                    return;
                }
                lines.addAll(host);
                from = "the host's resolvers";
            }
            Path dir = file.getParent();
            if (Files.isSymbolicLink(dir)) {
                LOG.warn("endpoint {}: {} is a symbolic link: no resolv.conf written", id, dir);
                return;
            }
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".resolv.conf.", ".tmp");
            try {
                Files.write(tmp, lines);
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
            LOG.info("endpoint {}: {} names {} (what ip netns exec gives the namespace)", id, file, from);
        } catch (IOException | RuntimeException e) {
            LOG.warn("endpoint {}: cannot write {}: {}", id, file, e.toString());
        }
    }

    /** Removes the file if the switch wrote it for endpoint {@code id} of {@code network}; returns whether it did. */
    boolean remove(String netns, String network, String id) {
        Path file = fileFor(netns);
        if (file == null) {
            return false;
        }
        try {
            if (!mark(network, id).equals(firstLine(file))) {
                return false;
            }
            Files.delete(file);
            try {
                Files.delete(file.getParent()); // only when empty: what else is there stays
            } catch (DirectoryNotEmptyException | NoSuchFileException ignored) {
                // another file of that namespace's, or gone
            }
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.warn("endpoint {}: cannot remove {}: {}", id, file, e.toString());
            return false;
        }
    }

    /** The first line of {@code file}; null when there is none (a symbolic link counts as someone else's). */
    private static String firstLine(Path file) throws IOException {
        if (Files.isSymbolicLink(file)) {
            return "";
        }
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        try (var lines = Files.lines(file)) {
            return lines.findFirst().orElse("");
        }
    }

    /** The host's resolv.conf without comments and loopback nameservers (127.0.0.0/8, ::1: not the container's). */
    private List<String> hostResolvers() throws IOException {
        List<String> out = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(hostResolvConf);
        } catch (NoSuchFileException e) {
            return out;
        }
        for (String line : lines) {
            String[] words = line.strip().split("\\s+");
            if (words.length < 2) {
                continue;
            }
            switch (words[0]) {
                case "nameserver" -> {
                    if (!words[1].startsWith("127.") && !words[1].equals("::1")) {
                        out.add("nameserver " + words[1]);
                    }
                }
                case "search", "domain", "options" -> out.add(line.strip());
                default -> {
                }
            }
        }
        return out;
    }
}
