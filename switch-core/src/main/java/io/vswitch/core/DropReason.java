package io.vswitch.core;

/**
 * Every reason the switch drops a frame. Each drop is counted on a port under its reason, and
 * {@code trace} names it. Labels are what metrics and the CLI print.
 */
public enum DropReason {
    RUNT("runt", "shorter than the 14-byte Ethernet header"),
    OVERSIZE("oversize", "longer than the network's MTU + 18"),
    INVALID_SOURCE("invalid-source", "source MAC is multicast, broadcast or zero"),
    HAIRPIN("hairpin", "destination was learned on the ingress port; a frame never goes back out its ingress"),
    SPLIT_HORIZON("split-horizon", "came from a tunnel and would go back into a tunnel"),
    NO_EGRESS("no-egress", "no other port of the network is up"),
    TX_FULL("tx-full", "egress would block (queue full)"),
    LINK_DOWN("link-down", "egress link is administratively down in its namespace"),
    TX_ERROR("tx-error", "write to the egress device failed"),
    INGRESS_DOWN("ingress-down", "ingress port is not up"),
    ISOLATED("isolated", "between two isolated ports: containers of a network with icc off reach only its gateway"),
    GSO_INVALID("gso-invalid", "offload metadata that does not fit the frame (GSO type, protocol, headers)"),
    GSO_SIZE("gso-size", "segment size below what a Linux stack makes (TCP MSS 88) or above the MTU"),
    GSO_SEGMENTS("gso-segments", "more segments than a Linux stack makes (UDP: 128)"),
    CSUM_INVALID("csum-invalid", "checksum to complete at an offset outside the frame"),
    DEVICE_QUEUE("device-queue", "dropped in the TAP's own queue before the switch read it (the kernel's count)"),
    ARP_MALFORMED("arp-malformed", "ARP that is not Ethernet/IPv4 (hardware 1, protocol 0x0800, lengths 6 and 4), too short, or neither request nor reply"),
    DNS_MALFORMED("dns-malformed", "DNS query to the gateway that cannot be read: truncated, a response, not exactly one question, records where a query has none, compressed or overlong names"),
    NO_GATEWAY("no-gateway", "sent to the gateway of a network without a gateway port: the switch answers only ARP and DNS there"),
    STORM_BROADCAST("storm-broadcast", "broadcast over the ingress port's storm limit (frames/s)"),
    STORM_MULTICAST("storm-multicast", "multicast over the ingress port's storm limit (frames/s)"),
    STORM_UNKNOWN_UNICAST("storm-unknown-unicast", "unicast to an unknown MAC over the ingress port's storm limit (frames/s)"),
    MAC_FLAP("mac-flap", "source MAC blocked on this port: it moved between ports faster than mac-move-limit (a loop?)"),
    VLAN_UNKNOWN("vlan-unknown", "a trunk frame whose VLAN (or lack of a tag) no network of the trunk carries"),
    TO_HOST("to-host", "sent to the uplink interface's own MAC: for the host, not for the switch"),
    MIRROR_LOOP("mirror-loop", "received on a port that is a mirror's output: a SPAN port only sends");

    private static final DropReason[] VALUES = values();

    private final String label;
    private final String description;

    DropReason(String label, String description) {
        this.label = label;
        this.description = description;
    }

    public String label() {
        return label;
    }

    public String description() {
        return description;
    }

    static DropReason of(int ordinal) {
        return VALUES[ordinal];
    }
}
