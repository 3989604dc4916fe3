package io.vswitch.vxlan;

/**
 * Counters of the VXLAN endpoint as a whole: datagrams, and every reason one is dropped or a
 * socket call fails before a network is known. Drops of inner frames after that are the
 * pipeline's, counted on the tunnel port.
 */
public enum TunnelCounter {
    RX_DATAGRAMS("rx_datagrams", "VXLAN datagrams received"),
    RX_BYTES("rx_bytes", "bytes of VXLAN datagrams received"),
    RX_COPIED("rx_copied", "inner frames copied out of the receive buffer (no room in front of them for a virtio-net header)"),
    TX_DATAGRAMS("tx_datagrams", "VXLAN datagrams sent"),
    TX_BYTES("tx_bytes", "bytes of VXLAN datagrams sent"),
    DROP_SHORT("drop_short", "datagram shorter than VXLAN header + Ethernet header"),
    DROP_TRUNCATED("drop_truncated", "read larger than the receive buffer (its end was lost)"),
    DROP_NO_VNI_FLAG("drop_no_vni_flag", "I flag clear: no valid VNI"),
    DROP_UNKNOWN_VNI("drop_unknown_vni", "VNI of no configured network"),
    DROP_UNKNOWN_PEER("drop_unknown_peer", "source address is not a peer of that network"),
    DROP_OVERSIZE("drop_oversize", "inner frame longer than an overlay network's MTU allows"),
    DROP_RX_ERROR("drop_rx_error", "the receive socket reported an error (an ICMP error, no buffer space)"),
    DROP_TX("drop_tx", "datagrams the socket did not take (send buffer full or an error)");

    private final String label;
    private final String description;

    TunnelCounter(String label, String description) {
        this.label = label;
        this.description = description;
    }

    public String label() {
        return label;
    }

    public String description() {
        return description;
    }
}
