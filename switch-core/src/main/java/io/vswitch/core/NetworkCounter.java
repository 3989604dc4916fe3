package io.vswitch.core;

/** Per-network counters: what the MAC table did and how frames were sent. */
public enum NetworkCounter {
    LEARNED("learned", "new MACs learned"),
    MOVED("moved", "MACs that moved to another port"),
    AGED("aged", "entries aged out"),
    LIMIT_HIT("limit_hit", "MACs not learned because the table was at mac-limit"),
    PORT_LIMIT_HIT("port_limit_hit", "MACs not learned because their port was at its own mac-limit"),
    FLAP_BLOCKS("flap_blocks", "MACs blocked on a port for moving faster than mac-move-limit"),
    FORWARDED("forwarded", "frames sent to one known port"),
    FLOODED("flooded", "broadcast, multicast and unknown-unicast frames flooded"),
    ARP_ANSWERED("arp_answered", "ARP requests the switch answered instead of flooding them"),
    ND_ANSWERED("nd_answered", "IPv6 neighbour solicitations the switch answered instead of flooding them"),
    DNS_ANSWERED("dns_answered", "DNS queries answered: names of the network, and answers from upstream"),
    DNS_FORWARDED("dns_forwarded", "DNS queries for other names sent to the host's resolvers"),
    DNS_REFUSED("dns_refused", "DNS queries refused (no upstream, none reachable, not implemented) or failed (SERVFAIL)");

    private final String label;
    private final String description;

    NetworkCounter(String label, String description) {
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
