package io.vswitch.control;

import java.util.List;

/** Request bodies of the control API other than the specs. */
public final class Requests {
    private Requests() {
    }

    /** {@code PUT /v1/networks/NET/peers}: the overlay network's remote VTEPs from now on. */
    public record Peers(List<String> peers) {
        public Peers {
            peers = peers == null ? List.of() : List.copyOf(peers);
        }
    }

    /**
     * {@code POST /v1/networks/NET/endpoints}: attach a container. The namespace is a path or a
     * pid's; {@code id} defaults to {@code name}, else to the namespace; {@code ifname} to eth0;
     * {@code ip}/{@code ip6} (ADDRESS/PREFIX, or ADDRESS for the subnet's prefix) to the next free
     * address of the network's subnet; {@code mac} to a random local one; the gateways to the
     * network's ({@code noRoute}: no default route); {@code mtu} to the network's (it may be lower).
     */
    public record Attach(String netns, Integer pid, String id, String name, String ifname, String ip, String ip6,
            String mac, String gateway, String gateway6, Boolean noRoute, Integer mtu, String owner, List<String> aliases) {
    }

    /** {@code POST /v1/networks/NET/endpoints/detach}: by id, by name, by namespace path or by pid. */
    public record Detach(String id, String name, String netns, Integer pid) {
    }

    /** {@code POST /v1/networks/NET/fdb/flush}: the dynamic entries of one port, or all when null. */
    public record Flush(String port) {
    }

    /** {@code POST /v1/networks/NET/trace}: a frame's ingress port, MACs and optional VLAN tag. */
    /**
     * {@code POST /v1/networks/NET/capture}: frames of one port (both ways) or of the whole
     * network (each frame it receives), that pass {@code filter} (tcpdump's syntax), {@code count}
     * of them (0 or null: until stopped), written as pcap to {@code output}: a FIFO, or a file
     * that does not exist yet.
     */
    public record Capture(String port, String filter, Long count, String output) {
    }

    /** {@code PUT /v1/networks/NET/mirrors}: the network's mirrors, all of them (empty: none). */
    public record Mirrors(List<MirrorSpec> mirrors) {
    }

    public record Trace(String in, String src, String dst, Integer vlan) {
    }
}
