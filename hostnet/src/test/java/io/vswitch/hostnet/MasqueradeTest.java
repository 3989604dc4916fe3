package io.vswitch.hostnet;

import io.vswitch.ipam.Cidr;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The table is written whole, only the switch's own, and a refusal changes nothing. */
class MasqueradeTest {
    @Test
    void writesOneRulePerSubnetInATableOfItsOwnAndDeletesTheTableWhenEmpty() throws IOException {
        Masquerade m = new Masquerade(List.of("sh", "-c", "cat > /dev/null")); // accepts anything
        m.set("blue", List.of(Cidr.parseSubnet("198.18.61.0/24"), Cidr.parseSubnet("fd00:61::/64")));
        String script = m.script();
        assertTrue(script.contains("ip saddr 198.18.61.0/24 ip daddr != 198.18.61.0/24 masquerade comment \"network blue\""), script);
        assertTrue(script.contains("ip6 saddr fd00:61:0:0:0:0:0:0/64 ip6 daddr != fd00:61:0:0:0:0:0:0/64 masquerade"), script);
        assertTrue(script.startsWith("table inet vswitch\ndelete table inet vswitch\n"), "replaced whole, atomically");
        assertFalse(script.contains("iptables") || script.contains("table ip "), "no other table");
        m.remove("blue");
        assertEquals("table inet vswitch\ndelete table inet vswitch\n", m.script());
    }

    @Test
    void aRefusedChangeLeavesTheRulesAsTheyWere() throws IOException {
        Masquerade ok = new Masquerade(List.of("sh", "-c", "cat > /dev/null"));
        ok.set("blue", List.of(Cidr.parseSubnet("198.18.61.0/24")));
        Masquerade failing = new Masquerade(List.of("sh", "-c", "cat > /dev/null; echo no; exit 1"));
        IOException e = assertThrows(IOException.class, () -> failing.set("red", List.of(Cidr.parseSubnet("198.18.62.0/24"))));
        assertTrue(e.getMessage().contains("nft refused"), e.getMessage());
        assertFalse(failing.has("red"));
    }
}
