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

    /** {@code POST /v1/networks/NET/fdb/flush}: the dynamic entries of one port, or all when null. */
    public record Flush(String port) {
    }

    /** {@code POST /v1/networks/NET/trace}: a frame's ingress port, MACs and optional VLAN tag. */
    public record Trace(String in, String src, String dst, Integer vlan) {
    }
}
