package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlowHashTest {
    /** An Ethernet + IPv4 + TCP/UDP header with the given ports. */
    private static ByteBuf ipv4(int proto, int srcPort, int dstPort, int fragmentBits) {
        ByteBuf b = Unpooled.buffer(64).writeZero(64);
        b.setShort(12, 0x0800);
        b.setByte(14, 0x45);
        b.setShort(14 + 6, fragmentBits);
        b.setByte(14 + 9, proto);
        b.setInt(14 + 12, 0xC6120001);
        b.setInt(14 + 16, 0xC6120002);
        b.setShort(34, srcPort);
        b.setShort(36, dstPort);
        return b;
    }

    @Test
    void samePacketHashesTheSameAndIsNonNegative() {
        assertEquals(FlowHash.of(ipv4(6, 40000, 5201, 0)), FlowHash.of(ipv4(6, 40000, 5201, 0)));
        assertTrue(FlowHash.of(ipv4(6, 40000, 5201, 0)) >= 0);
    }

    @Test
    void differentTcpFlowsSpreadOverSourceSockets() {
        Set<Integer> buckets = new HashSet<>();
        for (int port = 40000; port < 40064; port++) {
            buckets.add(FlowHash.of(ipv4(6, port, 5201, 0)) % 8);
        }
        assertEquals(8, buckets.size(), "64 flows should use all 8 sockets");
    }

    @Test
    void fragmentsOfAFlowIgnorePortsSoAllFragmentsTakeOnePath() {
        assertEquals(FlowHash.of(ipv4(17, 1, 2, 0x2000)), FlowHash.of(ipv4(17, 3, 4, 0x2000)));
        assertNotEquals(FlowHash.of(ipv4(17, 1, 2, 0)), FlowHash.of(ipv4(17, 3, 4, 0)));
    }
}
