package io.vswitch.daemon;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

/** The validated configuration: immutable, built once at start-up by {@link ConfigReader}. */
public record DaemonConfig(String source, Dataplane dataplane, Vxlan vxlan, Metrics metrics, List<Network> networks) {

    /** {@code metrics:} where the Prometheus endpoint listens; {@code listen} is null when off. */
    public record Metrics(java.net.InetSocketAddress listen) {
        public static final Metrics DEFAULT = new Metrics(new java.net.InetSocketAddress(
                java.net.InetAddress.ofLiteral("127.0.0.1"), 9477));
    }

    /** {@code dataplane:} settings. */
    public record Dataplane(int threads, List<Integer> cpus, int batch, Duration busyPoll, boolean pin) {
    }

    /** {@code vxlan:} settings; {@code line} is where the section starts. */
    public record Vxlan(InetAddress local, int port, int line) {
    }

    /**
     * One {@code networks:} entry; {@code line} is where it starts in the file, {@code mtuLine}
     * where its MTU was set (or the entry's line). {@code vni} is 0 for a local-only network.
     */
    public record Network(String name, int mtu, Duration macAging, int macLimit, List<String> ports,
            int vni, List<InetAddress> peers, boolean persist, Boolean offload, int line, int mtuLine) {
        public boolean isOverlay() {
            return vni != 0;
        }
    }

    public Network network(String name) {
        return networks.stream().filter(n -> n.name().equals(name)).findFirst().orElse(null);
    }
}
