package io.vswitch.control;

import java.util.List;
import java.util.Map;

/**
 * Response bodies of the control API. Counters are keyed by their label (rx_frames, the drop
 * reasons), the names the metrics use too.
 */
public final class Views {
    private Views() {
    }

    /** {@code GET /v1/info}. */
    public record Info(long pid, String version, long uptimeSeconds, String config, int threads) {
    }

    /**
     * One network: its settings; with {@code GET /v1/show} also its counters and ports.
     * {@code vni} and {@code peers} are null for a local network.
     */
    public record Network(String name, int id, int mtu, Integer vni, List<String> peers, long macAgingSeconds,
            int macLimit, int macCount, boolean offload, Map<String, Long> counters, List<Port> ports,
            String subnet, String gateway, String subnet6, String gateway6, boolean gatewayPort, boolean masquerade,
            boolean icc, Integer endpoints, boolean dns, Integer vlan, int macMoveLimit, List<MirrorSpec> mirrors) {
    }

    /**
     * An attached container: the endpoint as kept, with the network's MTU and the gateways its
     * default routes go through (null when it has none); {@code state} up, down (its link is down
     * in its namespace) or gone (its namespace was deleted, or its interface not found after a
     * restart: {@code reason} says which), until it is detached.
     */
    public record Endpoint(String network, String id, String name, String port, String netns, String ifname, String mac,
            String ipv4, String ipv6, String gateway, String gateway6, int mtu, String owner, List<String> aliases,
            List<String> nameservers, String state, String reason) {
    }

    /**
     * One port: {@code kind} is tap, vxlan or channel; {@code state} up or down, with the
     * failure ({@code reason}, naming the call and errno) when it went down by itself.
     */
    public record Port(String name, int id, String kind, String state, int mtu, String reason, int queues,
            boolean offload, String peer, Integer vni, Map<String, Long> counters, Map<String, Long> drops) {
    }

    /** The VXLAN endpoint: where it listens and its counters. */
    public record Vxlan(String local, int port, Map<String, Long> counters) {
    }

    /** A capture: where, what, and how far it got ({@code lost}: frames a slow reader missed). */
    public record Capture(long id, String network, String port, String filter, long count, long captured, long written,
            long lost, boolean running) {
    }

    /** {@code GET /v1/show}; {@code cluster} null without one. */
    public record Show(DataplaneStatus dataplane, List<Network> networks, Vxlan vxlan, ClusterStatus cluster) {
    }

    /**
     * The loops: how many, how they read and write TAP frames ({@code io}: io_uring or epoll,
     * with {@code ioNote} saying why epoll when io_uring was not chosen), how they wait
     * ({@code polling}: adaptive, off, or a fixed spin such as 50us), and with io_uring the kernel
     * entries made for the TAP frames read and written so far (their ratio is the system calls
     * per frame of the TAP I/O).
     */
    public record DataplaneStatus(int threads, String io, String ioNote, String polling, long ringEnters,
            long ringFramesRead, long ringFramesWritten) {
    }

    /** The session with the cluster's store, as {@code show} prints it. */
    public record ClusterStatus(String host, boolean connected, List<String> etcd, String prefix, long revision,
            int hosts, int endpoints) {
    }

    /**
     * {@code GET /v1/cluster}: the session, then every host with its VTEP, lease and networks;
     * then what the session refused: values by reason (never applied), keys whose latest value
     * was refused, deleted keys kept lingering (keys of the same lease still need them), and this
     * host's keys written back after another writer changed or deleted them.
     */
    public record Cluster(ClusterStatus status, int ttlSeconds, List<ClusterHost> hosts, List<ClusterNetwork> networks,
            Map<String, Long> refused, int refusedKeys, int lingering, long rewrites) {
    }

    /**
     * A host of the cluster: {@code ageSeconds} since it joined, {@code leaseTtlSeconds} left on
     * its lease (-1 when unknown: expired, or etcd away), the networks it has ports in.
     */
    public record ClusterHost(String name, String vtep, int port, boolean self, long ageSeconds, long leaseTtlSeconds,
            List<String> networks, int endpoints) {
    }

    /** A network of the cluster: its VNI and the hosts with ports in it. */
    public record ClusterNetwork(String name, Integer vni, List<String> hosts, int endpoints) {
    }

    /** {@code GET /v1/stats}: totals over every port, drops by reason, network and VXLAN counters. */
    public record Stats(Map<String, Long> totals, Map<String, Long> drops, Map<String, Long> networks,
            Map<String, Long> vxlan) {
    }

    /** One MAC table entry: {@code vtep} for a MAC behind a tunnel; {@code ageSeconds} null for a static one. */
    public record FdbEntry(String mac, String port, String vtep, String type, Long ageSeconds) {
    }

    /** What {@code trace} found: the steps, and unicast, flood or drop with the egress ports or the reason. */
    public record Trace(String network, String in, String src, String dst, int vlan, List<String> steps,
            String decision, List<String> egress, String reason) {
    }

    /**
     * A change that removed something; {@code devices}: the devices deleted with it (a network's
     * ports), each marked "(persistent)" when it was meant to outlive the daemon.
     */
    public record Removed(String removed, List<String> devices) {
        public Removed(String removed) {
            this(removed, null);
        }
    }

    /** {@code fdb add}: the MAC added. */
    public record Added(String added) {
    }

    /** {@code fdb flush}: how many entries went. */
    public record Flushed(int flushed) {
    }

    /** Every refusal: the one line to print. */
    public record Error(String error) {
    }
}
