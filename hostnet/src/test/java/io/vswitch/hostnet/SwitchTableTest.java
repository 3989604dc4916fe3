package io.vswitch.hostnet;

import io.vswitch.ipam.Cidr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The table is written whole, only the switch's own; gateway ports are reverse-path filtered and
 * isolated from each other; forwarding goes back to what was found; a refusal changes nothing.
 */
class SwitchTableTest {
    private static final List<String> ACCEPT = List.of("sh", "-c", "cat > /dev/null");
    private static final List<String> NO_TABLE = List.of("sh", "-c", "echo 'No such file or directory' >&2; exit 1");

    @TempDir
    Path dir;

    private Forwarding forwarding(String v4, String v6) throws IOException {
        Files.writeString(dir.resolve("ip_forward"), v4 + "\n");
        Files.writeString(dir.resolve("forwarding6"), v6 + "\n");
        return new Forwarding(dir.resolve("ip_forward"), dir.resolve("forwarding6"));
    }

    private String sysctl(String name) throws IOException {
        return Files.readString(dir.resolve(name)).trim();
    }

    private static SwitchTable.Gateway gateway(String ifname, boolean icc, String... masquerade) {
        return new SwitchTable.Gateway(ifname, icc, java.util.Arrays.stream(masquerade).map(Cidr::parseSubnet).toList());
    }

    @Test
    void masqueradeRulesSitInATableOfTheSwitchsOwnWhichGoesWithTheLastGateway() throws IOException {
        SwitchTable t = new SwitchTable(ACCEPT, NO_TABLE, forwarding("0", "0"));
        t.set("blue", gateway("vs-blue", true, "198.18.61.0/24", "fd00:61::/64"));
        String script = t.script();
        assertTrue(script.contains("ip saddr 198.18.61.0/24 ip daddr != 198.18.61.0/24 masquerade comment \"network blue\""), script);
        assertTrue(script.contains("ip6 saddr fd00:61:0:0:0:0:0:0/64 ip6 daddr != fd00:61:0:0:0:0:0:0/64 masquerade"), script);
        assertTrue(script.startsWith("table inet vswitch\ndelete table inet vswitch\n"), "replaced whole, atomically");
        assertFalse(script.contains("iptables") || script.contains("table ip "), "no other table");
        t.remove("blue");
        assertEquals("table inet vswitch\ndelete table inet vswitch\n", t.script());
    }

    @Test
    void gatewayPortsAreReversePathFilteredAndIsolatedFromEachOtherAndAnIccOffNetworkFromItself() throws IOException {
        SwitchTable t = new SwitchTable(ACCEPT, NO_TABLE, forwarding("0", "0"));
        t.set("blue", gateway("vs-blue", true, "198.18.61.0/24"));
        t.set("lone", gateway("vs-lone", false));
        String script = t.script();
        String both = "{ \"vs-blue\", \"vs-lone\" }";
        assertTrue(script.contains("iifname " + both + " ip saddr != 0.0.0.0 fib saddr . iif oif missing counter drop"), script);
        assertTrue(script.contains("iifname " + both + " ip6 saddr != :: fib saddr . iif oif missing counter drop"), script);
        assertTrue(script.contains("iifname " + both + " fib saddr type local counter drop"), "the namespace's own addresses: " + script);
        assertTrue(script.contains("ct status dnat accept"), "published ports pass: " + script);
        assertTrue(script.contains("iifname \"vs-blue\" oifname \"vs-blue\" accept"), "icc on hair-pins: " + script);
        assertFalse(script.contains("iifname \"vs-lone\" oifname \"vs-lone\" accept"), "icc off does not: " + script);
        assertTrue(script.contains("iifname " + both + " oifname " + both + " counter drop comment \"isolated\""), script);
        assertTrue(script.indexOf("ct status dnat accept") < script.indexOf("comment \"isolated\""), "accepts come first");
        assertTrue(script.contains("hook prerouting priority raw") && script.contains("hook forward priority filter"), script);
    }

    @Test
    void forwardingIsTurnedOnForTheFirstMasqueradeAndBackToWhatWasFoundAfterTheLast() throws IOException {
        SwitchTable t = new SwitchTable(ACCEPT, NO_TABLE, forwarding("0", "0"));
        t.set("plain", gateway("vs-plain", true));
        assertEquals("0", sysctl("ip_forward"), "a gateway port alone does not route");
        t.set("blue", gateway("vs-blue", true, "198.18.61.0/24"));
        t.set("red", gateway("vs-red", true, "198.18.62.0/24", "fd00:62::/64"));
        assertEquals("1", sysctl("ip_forward"));
        assertEquals("1", sysctl("forwarding6"));
        assertTrue(t.script().contains("comment \"forwarding found: ipv4=0 ipv6=0\""), "recorded in the table: " + t.script());
        t.remove("blue");
        assertEquals("1", sysctl("ip_forward"), "red still masquerades");
        t.remove("red");
        assertEquals("0", sysctl("ip_forward"));
        assertEquals("0", sysctl("forwarding6"));
        assertFalse(t.script().contains("comment \"forwarding"), t.script());
    }

    @Test
    void forwardingThatWasOnStaysOn() throws IOException {
        SwitchTable t = new SwitchTable(ACCEPT, NO_TABLE, forwarding("1", "0"));
        t.set("blue", gateway("vs-blue", true, "198.18.61.0/24"));
        t.remove("blue");
        assertEquals("1", sysctl("ip_forward"));
        assertEquals("0", sysctl("forwarding6"), "never touched: no IPv6 subnet");
    }

    @Test
    void aRestartAfterKillDashNineReadsWhatWasFoundFromTheTableItLeft() throws IOException {
        Forwarding f = forwarding("1", "0"); // on, because the killed daemon turned it on
        List<String> left = List.of("sh", "-c", "cat <<'E'\ntable inet vswitch {\n\tcomment \"forwarding found: ipv4=0 ipv6=-\"\n"
                + "\tchain forward {\n\t}\n}\nE");
        SwitchTable t = new SwitchTable(ACCEPT, left, f);
        t.set("blue", gateway("vs-blue", true, "198.18.61.0/24"));
        assertTrue(t.script().contains("forwarding found: ipv4=0 ipv6=-"), t.script());
        t.remove("blue");
        assertEquals("0", sysctl("ip_forward"), "what the first run found, not what the killed one left");
    }

    @Test
    void aRefusedChangeLeavesTheRulesAndForwardingAsTheyWere() throws IOException {
        Forwarding f = forwarding("0", "0");
        SwitchTable ok = new SwitchTable(ACCEPT, NO_TABLE, f);
        ok.set("blue", gateway("vs-blue", true));
        SwitchTable failing = new SwitchTable(List.of("sh", "-c", "cat > /dev/null; echo no; exit 1"), NO_TABLE, forwarding("0", "0"));
        IOException e = assertThrows(IOException.class, () -> failing.set("red", gateway("vs-red", true, "198.18.62.0/24")));
        assertTrue(e.getMessage().contains("nft refused"), e.getMessage());
        assertFalse(failing.has("red"));
        assertEquals("0", sysctl("ip_forward"), "forwarding turned on for it is set back");
    }
}
