package io.vswitch.cluster;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterStateTest {
    private final ClusterState state = new ClusterState();

    @Test
    void foldsEachKindOfKeyAndItsDeletion() {
        state.apply("hosts/h1", "{\"vtep\":\"198.19.0.1\",\"port\":4789,\"since\":5}", 7);
        state.apply("networks/blue", "{\"spec\":{\"name\":\"blue\",\"vni\":42}}", 0);
        state.apply("members/blue/h1", "{}", 7);
        state.apply("members/blue/h2", "{}", 8);
        state.apply("endpoints/blue/02:00:00:00:00:01", "{\"host\":\"h1\",\"ip\":\"198.18.0.2/24\"}", 7);
        state.apply("endpoints/blue/02:00:00:00:00:02", "{\"host\":\"h2\"}", 8);
        state.apply("addresses/blue/198.18.0.2", "{\"host\":\"h1\"}", 7);
        state.revision(12);
        ClusterView v = state.view();
        assertEquals(new ClusterView.Host("h1", "198.19.0.1", 4789, 5, 7), v.hosts().get("h1"));
        assertEquals("{\"name\":\"blue\",\"vni\":42}", v.networks().get("blue"));
        assertEquals(Set.of("h1", "h2"), v.members("blue"));
        assertEquals("198.18.0.2/24", v.endpoints("blue").get("02:00:00:00:00:01").ip());
        assertNull(v.endpoints("blue").get("02:00:00:00:00:02").ip());
        assertEquals(0x020000000001L, v.endpoints("blue").get("02:00:00:00:00:01").value());
        assertEquals(12, v.revision());
        assertEquals("h1", v.addresses("blue").get("198.18.0.2"));

        state.apply("members/blue/h1", null, 0);
        state.apply("members/blue/h2", null, 0);
        state.apply("endpoints/blue/02:00:00:00:00:01", null, 0);
        state.apply("hosts/h1", null, 0);
        state.apply("networks/blue", null, 0);
        ClusterView after = state.view();
        assertTrue(after.hosts().isEmpty());
        assertTrue(after.networks().isEmpty());
        assertTrue(after.members().isEmpty(), "an empty member set goes with its last member");
        assertEquals(1, after.endpoints("blue").size());
        // the earlier view is a snapshot: untouched
        assertEquals(2, v.members("blue").size());
        assertThrows(UnsupportedOperationException.class, () -> v.hosts().clear());
    }

    @Test
    void unreadableKeysAreLeftOutAndCountedNotFatal() {
        state.apply("hosts/h1", "not json", 1);
        state.apply("hosts/h2", "{\"port\":4789}", 1); // no vtep
        state.apply("networks/x", "{\"vni\":1}", 0); // no spec
        state.apply("members/onlynet", "{}", 0);
        state.apply("endpoints/a/b/c", "{\"host\":\"h\"}", 0);
        state.apply("endpoints/a/02:00:00:00:00:zz", "{\"host\":\"h\"}", 0);
        state.apply("something/else", "{}", 0);
        state.apply("hosts/h3", "{\"vtep\":\"198.19.0.3\"}", 1);
        ClusterView v = state.view();
        assertEquals(Set.of("h3"), v.hosts().keySet());
        assertEquals(7, v.ignored());
        // a bad key fixed by a later put is no longer counted
        state.apply("hosts/h1", "{\"vtep\":\"198.19.0.1\"}", 1);
        assertEquals(6, state.view().ignored());
        assertEquals(4789, state.view().hosts().get("h1").port(), "the default VXLAN port");
    }

    @Test
    void keysNameEachKindUnderThePrefix() {
        Keys k = new Keys("/vswitch/v1");
        assertEquals("/vswitch/v1/networks/blue", k.network("blue"));
        assertEquals("/vswitch/v1/hosts/h1", k.host("h1"));
        assertEquals("/vswitch/v1/members/blue/h1", k.member("blue", "h1"));
        assertEquals("/vswitch/v1/endpoints/blue/02:00:00:00:00:01", k.endpoint("blue", "02:00:00:00:00:01"));
        assertEquals("hosts/h1", k.relative("/vswitch/v1/hosts/h1"));
        assertNull(k.relative("/vswitch/v10/hosts/h1"), "a sibling prefix is not ours");
    }
}
