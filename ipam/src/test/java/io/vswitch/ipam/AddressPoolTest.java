package io.vswitch.ipam;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AddressPoolTest {
    private static InetAddress ip(String s) {
        return InetAddress.ofLiteral(s);
    }

    @Test
    void handsOutEveryHostAddressButTheNetworkGatewayAndBroadcastOnceEach() {
        AddressPool pool = AddressPool.of("198.18.61.0/29", null);
        assertEquals(ip("198.18.61.1"), pool.gateway());
        Set<InetAddress> got = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            assertTrue(got.add(pool.allocate()));
        }
        assertEquals(Set.of(ip("198.18.61.2"), ip("198.18.61.3"), ip("198.18.61.4"), ip("198.18.61.5"), ip("198.18.61.6")), got);
        IllegalStateException full = assertThrows(IllegalStateException.class, pool::allocate);
        assertTrue(full.getMessage().contains("no free address"), full.getMessage());
    }

    @Test
    void aReleasedAddressIsNotTheVeryNextOneGiven() {
        AddressPool pool = AddressPool.of("198.18.61.0/24", "198.18.61.1");
        InetAddress first = pool.allocate();
        pool.release(first);
        assertFalse(pool.allocate().equals(first));
        assertFalse(pool.isTaken(first));
    }

    @Test
    void reservingSaysWhyAnAddressCannotBeHad() {
        AddressPool pool = AddressPool.of("198.18.61.0/24", "198.18.61.254");
        pool.reserve(ip("198.18.61.7"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> pool.reserve(ip("198.18.61.7"))).getMessage().contains("already in use"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> pool.reserve(ip("198.18.62.7"))).getMessage().contains("not in subnet"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> pool.reserve(ip("198.18.61.254"))).getMessage().contains("gateway"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> pool.reserve(ip("198.18.61.255"))).getMessage().contains("broadcast"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> pool.reserve(ip("198.18.61.0"))).getMessage().contains("network"));
    }

    @Test
    void ipv6PoolsSkipTheSubnetRouterAnycastAddressAndTheGateway() {
        AddressPool pool = AddressPool.of("fd00:61::/64", "fd00:61::1");
        assertEquals(ip("fd00:61::2"), pool.allocate());
        assertEquals(ip("fd00:61::3"), pool.allocate());
        assertTrue(pool.refusal(ip("fd00:61::")) != null);
    }

    @Test
    void badSubnetsAndGatewaysAreRefusedWithAReason() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AddressPool.of("198.18.61.5/24", null))
                .getMessage().contains("did you mean 198.18.61.0/24"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AddressPool.of("198.18.61.0/24", "198.18.62.1"))
                .getMessage().contains("not in subnet"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AddressPool.of("198.18.61.0/31", null))
                .getMessage().contains("too small"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AddressPool.of("example.com/24", null))
                .getMessage().contains("expected an IP address"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AddressPool.of("198.18.61.0/33", null))
                .getMessage().contains("prefix"));
    }
}
