package io.vswitch.ipam;

import java.math.BigInteger;
import java.net.InetAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The addresses of one network's subnet for one family: which are handed out, which are not to be
 * (the network address, the gateway and, for IPv4, the broadcast address; for IPv6 the
 * subnet-router anycast address, which is the network address), and the next one to give.
 *
 * <p>Allocation goes round the subnet from where it last stopped rather than taking the lowest
 * free address, so an address just released is not given to the next container at once (a peer
 * may still hold it in its neighbour cache). Nothing here is persisted: the registry records
 * every address it hands out with its endpoint, saves that before answering, and gives them all
 * back here with {@link #reserve} after a restart, so even a kill -9 never hands one out twice.
 * Not thread-safe: the registry serialises changes.
 */
public final class AddressPool {
    /** At most this many addresses are looked at for a free one (the rest of a huge IPv6 subnet is not walked). */
    private static final int SEARCH_LIMIT = 1 << 20;

    private final Cidr subnet;
    private final InetAddress gateway;
    private final Set<BigInteger> taken = new HashSet<>();
    private BigInteger cursor = BigInteger.ZERO;

    private AddressPool(Cidr subnet, InetAddress gateway) {
        this.subnet = subnet;
        this.gateway = gateway;
    }

    /**
     * A pool for {@code subnet} whose gateway is {@code gateway} (null: the subnet's first host
     * address). Refuses a subnet with no room for a gateway and one container, and a gateway
     * outside the subnet or on its network or broadcast address.
     */
    public static AddressPool of(String subnet, String gateway) {
        Cidr s = Cidr.parseSubnet(subnet);
        if (s.size().compareTo(BigInteger.valueOf(s.isIpv4() ? 4 : 2)) < 0) {
            throw new IllegalArgumentException("subnet " + s + " is too small for a gateway and a container (at most /"
                    + (s.isIpv4() ? 30 : 127) + ")");
        }
        InetAddress g = gateway == null ? s.at(BigInteger.ONE) : Cidr.literal(gateway);
        AddressPool pool = new AddressPool(s, g);
        if (!s.contains(g)) {
            throw new IllegalArgumentException("gateway " + g.getHostAddress() + " is not in subnet " + s);
        }
        if (pool.isSpecial(s.offsetOf(g)) ) {
            throw new IllegalArgumentException("gateway " + g.getHostAddress() + " is the network or broadcast address of " + s);
        }
        return pool;
    }

    public Cidr subnet() {
        return subnet;
    }

    public InetAddress gateway() {
        return gateway;
    }

    public int prefix() {
        return subnet.prefix();
    }

    private boolean isSpecial(BigInteger offset) {
        if (offset.signum() == 0) {
            return true;
        }
        return subnet.isIpv4() && subnet.prefix() < 31 && offset.equals(subnet.size().subtract(BigInteger.ONE));
    }

    /** Why {@code a} cannot be given out, or null when it can. */
    public String refusal(InetAddress a) {
        BigInteger off = subnet.offsetOf(a);
        if (off.signum() < 0) {
            return a.getHostAddress() + " is not in subnet " + subnet;
        }
        if (a.equals(gateway)) {
            return a.getHostAddress() + " is the gateway of subnet " + subnet;
        }
        if (isSpecial(off)) {
            return a.getHostAddress() + " is the " + (off.signum() == 0 ? "network" : "broadcast") + " address of " + subnet;
        }
        if (taken.contains(off)) {
            return a.getHostAddress() + " is already in use";
        }
        return null;
    }

    /** Takes {@code a} (asked for, or given back after a restart); throws saying why it cannot. */
    public void reserve(InetAddress a) {
        String why = refusal(a);
        if (why != null) {
            throw new IllegalArgumentException(why);
        }
        taken.add(subnet.offsetOf(a));
    }

    /** The next free address, taken; throws when the subnet is full. */
    public InetAddress allocate() {
        BigInteger size = subnet.size();
        BigInteger gw = subnet.offsetOf(gateway);
        BigInteger at = cursor;
        for (int looked = 0; looked < SEARCH_LIMIT && BigInteger.valueOf(looked).compareTo(size) < 0; looked++) {
            at = at.add(BigInteger.ONE);
            if (at.compareTo(size) >= 0) {
                at = BigInteger.ZERO;
            }
            if (!isSpecial(at) && !at.equals(gw) && !taken.contains(at)) {
                taken.add(at);
                cursor = at;
                return subnet.at(at);
            }
        }
        throw new IllegalStateException("subnet " + subnet + " has no free address left");
    }

    /** Gives {@code a} back; nothing happens when it was not taken. */
    public void release(InetAddress a) {
        BigInteger off = subnet.offsetOf(a);
        if (off.signum() >= 0) {
            taken.remove(off);
        }
    }

    public boolean isTaken(InetAddress a) {
        BigInteger off = subnet.offsetOf(a);
        return off.signum() >= 0 && taken.contains(off);
    }

    /** How many addresses are handed out. */
    public int used() {
        return taken.size();
    }

    /** The addresses handed out, in no order. */
    public List<InetAddress> allocated() {
        return taken.stream().map(subnet::at).toList();
    }
}
