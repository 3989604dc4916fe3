package io.vswitch.core;

/**
 * Where a network's DNS questions go when it does not know the name: the host's resolvers.
 * {@link #forward} is called on a lane's thread and must not block; the answer comes back later
 * through {@link DnsQuery#frame} and is sent from the same lane ({@link DnsQuery#lane()}).
 */
public interface Upstream {
    /**
     * Takes a query the network cannot answer, to answer it (or REFUSED, SERVFAIL) later, from
     * elsewhere; false when it cannot take more now: the switch answers REFUSED at once.
     */
    boolean forward(DnsQuery query);
}
