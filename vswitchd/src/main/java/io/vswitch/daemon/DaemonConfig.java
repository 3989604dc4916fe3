package io.vswitch.daemon;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * The configuration, validated once: built by {@link ConfigReader}, which checks the file's
 * shape and hands every network to {@link NetworkRules} and {@link Conflicts} with what it
 * knows of the host ({@link #host}). Immutable.
 */
public record DaemonConfig(String source, Dataplane dataplane, Vxlan vxlan, Metrics metrics, Docker docker, Dns dns,
        io.vswitch.cluster.ClusterOptions cluster, NetworkRules.Host host, List<NetworkRules.Network> networks) {

    /**
     * {@code dns:} where names a network does not know are sent: {@code upstream} as listed, or
     * null for the host's resolvers ({@code /etc/resolv.conf}); an empty list refuses them. Each
     * port may have {@code pendingPerPort} questions out at once and ask {@code ratePerPort} a
     * second (0: no bound); beyond, the switch answers REFUSED.
     */
    public record Dns(List<InetSocketAddress> upstream, int pendingPerPort, int ratePerPort) {
        public static final NetworkRules.Range PER_PORT = new NetworkRules.Range(0, 1_000_000);
        public static final Dns DEFAULT = new Dns(null, 128, 1000);
    }

    /** {@code docker:} where the Docker network driver is served; null without the section. */
    public record Docker(java.nio.file.Path pluginSocket) {
        public static final java.nio.file.Path DEFAULT_SOCKET = java.nio.file.Path.of("/run/docker/plugins/vswitch.sock");
    }

    /** {@code metrics:} where the Prometheus endpoint listens; {@code listen} is null when off. */
    public record Metrics(InetSocketAddress listen) {
        public static final Metrics DEFAULT = new Metrics(new InetSocketAddress(
                java.net.InetAddress.ofLiteral("127.0.0.1"), 9477));
    }

    /**
     * {@code dataplane:} settings. {@code adaptivePoll}: the loops poll after frames for as long as
     * frames keep coming ({@code busy-poll: adaptive}, the default), else for {@code busyPoll}.
     */
    public record Dataplane(int threads, List<Integer> cpus, int batch, Duration busyPoll, boolean adaptivePoll,
            boolean pin, boolean multiQueue, io.vswitch.dataplane.Dataplane.Io io) {
    }

    /** {@code vxlan:} settings; {@code line} is where the section starts. */
    public record Vxlan(Inet4Address local, int port, int line) {
    }

    public NetworkRules.Network network(String name) {
        return networks.stream().filter(n -> n.name().equals(name)).findFirst().orElse(null);
    }
}
