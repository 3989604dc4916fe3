package io.vswitch.core;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RemoteNeighborsTest {
    private static byte[] ip(String s) {
        return InetAddress.ofLiteral(s).getAddress();
    }

    @Test
    void answersRemoteAddressesBehindTheLocalOnesAndChangesOneAtATime() {
        RemoteNeighbors remote = new RemoteNeighbors();
        Directory dir = Directory.builder().neighbor(ip("198.18.60.2"), 0x02L).remote(remote).build();
        Directory quiet = Directory.builder().remote(remote).build();
        assertFalse(quiet.isActive(), "nothing to answer yet");
        remote.put(ip("198.18.60.3"), 0x03L);
        remote.put(ip("198.18.60.2"), 0x99L); // a local endpoint's address: the local answer wins
        remote.put(ip("fd00::3"), 0x33L);
        assertTrue(quiet.isActive(), "a directory built before sees what came after");
        assertEquals(0x03L, dir.macOf4(Directory.int4(ip("198.18.60.3"))));
        assertEquals(0x02L, dir.macOf4(Directory.int4(ip("198.18.60.2"))));
        byte[] v6 = ip("fd00::3");
        assertEquals(0x33L, dir.macOf6(Directory.long8(v6, 0), Directory.long8(v6, 8)));
        assertEquals(3, remote.size());
        remote.put(ip("198.18.60.3"), 0x04L);
        assertEquals(0x04L, dir.macOf4(Directory.int4(ip("198.18.60.3"))));
        remote.remove(ip("198.18.60.3"));
        remote.put(ip("fd00::3"), 0); // 0 removes
        remote.remove(ip("198.18.60.77")); // not there: nothing
        assertEquals(0, dir.macOf4(Directory.int4(ip("198.18.60.3"))));
        assertEquals(0, dir.macOf6(Directory.long8(v6, 0), Directory.long8(v6, 8)));
        assertEquals(1, remote.size());
    }

    @Test
    void manyAddressesSpreadOverShards() {
        RemoteNeighbors remote = new RemoteNeighbors();
        for (int i = 0; i < 20_000; i++) {
            remote.put(new byte[] {(byte) 198, 18, (byte) (i >> 8), (byte) i}, 0x020000000000L | i);
        }
        assertEquals(20_000, remote.size());
        for (int i = 0; i < 20_000; i += 97) {
            assertEquals(0x020000000000L | i, remote.macOf4((198 << 24) | (18 << 16) | (i & 0xFFFF)));
        }
    }
}
