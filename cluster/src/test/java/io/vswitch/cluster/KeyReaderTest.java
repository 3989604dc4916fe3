package io.vswitch.cluster;

import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

class KeyReaderTest {
    static final Underlay UNDERLAY = new Underlay((Inet4Address) InetAddress.ofLiteral("198.19.1.1"), 4789,
            List.of("198.19.1.0/24"));
    private final KeyReader reader = new KeyReader(UNDERLAY, "h1");

    private Refusal refusal(String rel, String value, long lease) {
        KeyReader.Read r = reader.read(rel, value, lease, 1);
        assertEquals(r.entry() == null, r.refusal() != null, "exactly one of entry and refusal: " + r);
        return r.refusal();
    }

    private static String host(String vtep) {
        return "{\"vtep\":\"" + vtep + "\",\"port\":4789,\"since\":5}";
    }

    @Test
    void readsEachKindAsTheDaemonsWriteIt() {
        Entry.Host h = assertInstanceOf(Entry.Host.class, reader.read("hosts/h2", host("198.19.1.2"), 7, 1).entry());
        assertEquals("198.19.1.2", h.vtep());
        assertEquals(7, h.lease());
        Entry.Network n = assertInstanceOf(Entry.Network.class, reader.read("networks/blue",
                "{\"spec\":{\"name\":\"blue\",\"vni\":42,\"subnet\":\"198.18.60.0/24\"}}", 0, 1).entry());
        assertEquals(42, n.vni());
        assertEquals(true, n.admits(InetAddress.ofLiteral("198.18.60.9")));
        assertEquals(false, n.admits(InetAddress.ofLiteral("198.18.61.9")));
        assertInstanceOf(Entry.Member.class, reader.read("members/blue/h2", "{}", 7, 1).entry());
        Entry.Endpoint ep = assertInstanceOf(Entry.Endpoint.class, reader.read("endpoints/blue/02:00:00:00:00:02",
                "{\"host\":\"h2\",\"ip\":\"198.18.60.12/24\"}", 7, 1).entry());
        assertEquals(0x020000000002L, ep.value());
        assertEquals(InetAddress.ofLiteral("198.18.60.12"), ep.ip());
        Entry.Claim c = assertInstanceOf(Entry.Claim.class, reader.read("addresses/blue/198.18.60.12",
                "{\"host\":\"h2\"}", 7, 1).entry());
        assertEquals("h2", c.host());
        assertInstanceOf(Entry.Claim.class, reader.read("addresses/blue/fd00:0:0:0:0:0:0:5", "{\"host\":\"h2\"}", 7, 1).entry());
    }

    @Test
    void refusesVtepsThatAreNotUnicastAddressesOfTheUnderlayOrAreOurs() {
        assertEquals(Refusal.VTEP, refusal("hosts/h2", host("127.0.0.1"), 7));
        assertEquals(Refusal.VTEP, refusal("hosts/h2", host("0.0.0.0"), 7));
        assertEquals(Refusal.VTEP, refusal("hosts/h2", host("255.255.255.255"), 7));
        assertEquals(Refusal.VTEP, refusal("hosts/h2", host("239.1.2.3"), 7));
        assertEquals(Refusal.VTEP, refusal("hosts/h2", host("240.0.0.1"), 7));
        assertEquals(Refusal.VTEP, refusal("hosts/h2", host("198.19.1.255"), 7), "the underlay's broadcast");
        assertEquals(Refusal.VTEP, refusal("hosts/h2", host("198.19.1.0"), 7), "the underlay's network address");
        assertEquals(Refusal.VTEP, refusal("hosts/h2", host("localhost"), 7), "never a name to resolve");
        assertEquals(Refusal.VTEP, refusal("hosts/h2", host("198.019.1.2"), 7), "no leading zeros");
        assertEquals(Refusal.VTEP, refusal("hosts/h2", host("fd00::1"), 7));
        assertEquals(Refusal.VTEP_UNDERLAY, refusal("hosts/h2", host("10.1.2.3"), 7));
        assertEquals(Refusal.VTEP_OURS, refusal("hosts/h2", host("198.19.1.1"), 7));
        assertNull(refusal("hosts/h1", host("198.19.1.1"), 7), "our own host key names our VTEP");
        assertEquals(Refusal.PORT, refusal("hosts/h2", "{\"vtep\":\"198.19.1.2\",\"port\":8472}", 7));
        assertEquals(Refusal.LEASE, refusal("hosts/h2", host("198.19.1.2"), 0));
    }

    @Test
    void anyUnicastAddressWhenTheUnderlayIsNotDescribed() {
        KeyReader open = new KeyReader(new Underlay(UNDERLAY.self(), 4789, List.of()), "h1");
        assertNull(open.read("hosts/h2", host("10.1.2.3"), 7, 1).refusal());
        assertEquals(Refusal.VTEP, open.read("hosts/h2", host("127.0.0.2"), 7, 1).refusal());
    }

    @Test
    void refusesBadKeysSizesSchemasMacsAndAddresses() {
        assertEquals(Refusal.KEY, refusal("something/else", "{}", 7));
        assertEquals(Refusal.KEY, refusal("hosts/H2", host("198.19.1.2"), 7));
        assertEquals(Refusal.KEY, refusal("members/blue", "{}", 7));
        assertEquals(Refusal.KEY, refusal("endpoints/blue/02:00:00:00:00:ZZ", "{\"host\":\"h2\"}", 7));
        assertEquals(Refusal.KEY, refusal("endpoints/blue/02:00:00:00:00:0A", "{\"host\":\"h2\"}", 7), "lower case only");
        assertEquals(Refusal.KEY, refusal("addresses/blue/fd00::5", "{\"host\":\"h2\"}", 7), "one key per address");
        assertEquals(Refusal.KEY, refusal("addresses/blue/198.18.60.012", "{\"host\":\"h2\"}", 7));
        assertEquals(Refusal.SIZE, refusal("hosts/h2", "{\"vtep\":\"198.19.1.2\",\"x\":\"" + "a".repeat(2000) + "\"}", 7));
        assertEquals(Refusal.SIZE, refusal("hosts/" + "a".repeat(200), "{}", 7));
        assertEquals(Refusal.SIZE, refusal("hosts/h2", null, 7), "too large to decode");
        assertEquals(Refusal.JSON, refusal("hosts/h2", "not json", 7));
        assertEquals(Refusal.JSON, refusal("members/blue/h2", "[1,2]", 7));
        assertEquals(Refusal.SCHEMA, refusal("hosts/h2", "{\"port\":4789}", 7));
        assertEquals(Refusal.SCHEMA, refusal("endpoints/blue/02:00:00:00:00:02", "{\"host\":\"H 2\"}", 7));
        assertEquals(Refusal.SCHEMA, refusal("endpoints/blue/02:00:00:00:00:02", "{\"host\":\"h2\",\"ip\":5}", 7));
        assertEquals(Refusal.MAC, refusal("endpoints/blue/ff:ff:ff:ff:ff:ff", "{\"host\":\"h2\"}", 7));
        assertEquals(Refusal.MAC, refusal("endpoints/blue/01:00:5e:00:00:01", "{\"host\":\"h2\"}", 7));
        assertEquals(Refusal.MAC, refusal("endpoints/blue/00:00:00:00:00:00", "{\"host\":\"h2\"}", 7));
        assertEquals(Refusal.IP, refusal("endpoints/blue/02:00:00:00:00:02", "{\"host\":\"h2\",\"ip\":\"example.com\"}", 7));
        assertEquals(Refusal.IP, refusal("endpoints/blue/02:00:00:00:00:02", "{\"host\":\"h2\",\"ip\":\"198.18.60.2/33\"}", 7));
        assertEquals(Refusal.LEASE, refusal("endpoints/blue/02:00:00:00:00:02", "{\"host\":\"h2\"}", 0));
        assertEquals(Refusal.NETWORK, refusal("networks/blue", "{\"spec\":{\"name\":\"red\",\"vni\":42}}", 0));
        assertEquals(Refusal.NETWORK, refusal("networks/blue", "{\"spec\":{\"name\":\"blue\",\"vni\":0}}", 0));
        assertEquals(Refusal.NETWORK, refusal("networks/blue", "{\"spec\":{\"name\":\"blue\",\"vni\":42,\"subnet\":\"fd00::/64\"}}", 0));
        assertEquals(Refusal.SCHEMA, refusal("networks/blue", "{\"vni\":42}", 0));
    }

    @Test
    void dottedQuadsAreStrict() {
        assertEquals(0xC6130102, Underlay.parseIpv4("198.19.1.2"));
        for (String bad : new String[] {"198.19.1", "198.19.1.2.3", "198.19.1.256", "198.19.1.-2", " 198.19.1.2", "1.2.3.04",
                "198.19.1.2 ", "0x1.2.3.4", ""}) {
            assertEquals(-1, Underlay.parseIpv4(bad), bad);
        }
    }
}
