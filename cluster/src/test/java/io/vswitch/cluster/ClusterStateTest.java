package io.vswitch.cluster;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterStateTest {
    /** An owner of nothing: every key is another host's. */
    static final ClusterState.Owner NOBODY = new ClusterState.Owner() {
        @Override
        public boolean owns(String rel) {
            return false;
        }

        @Override
        public Verdict ownPut(String rel, String value, long lease, long modRevision, boolean legitOther) {
            return Verdict.APPLY;
        }

        @Override
        public boolean ownDeleted(String rel) {
            return true;
        }

        @Override
        public boolean stray(String rel, long modRevision) {
            return true;
        }
    };

    private static final String SPEC = "{\"spec\":{\"name\":\"blue\",\"vni\":42,\"subnet\":\"198.18.60.0/24\"}}";
    private static final InetAddress IP2 = InetAddress.ofLiteral("198.18.60.12");
    private static final long MAC2 = 0x020000000002L;

    private final Refusals refusals = new Refusals();
    private final List<String> strays = new ArrayList<>();
    private final Map<String, String> own = new HashMap<>();
    private final List<String> keptOwn = new ArrayList<>();
    private final ClusterState state = new ClusterState("h1", new KeyReader(KeyReaderTest.UNDERLAY, "h1"), refusals,
            new ClusterState.Owner() {
                @Override
                public boolean owns(String rel) {
                    return own.containsKey(rel);
                }

                @Override
                public Verdict ownPut(String rel, String value, long lease, long modRevision, boolean legitOther) {
                    if (own.get(rel).equals(value) && lease == 1) {
                        return Verdict.APPLY;
                    }
                    keptOwn.add(rel);
                    return Verdict.KEEP;
                }

                @Override
                public boolean ownDeleted(String rel) {
                    keptOwn.add(rel);
                    return false;
                }

                @Override
                public boolean stray(String rel, long modRevision) {
                    strays.add(rel);
                    return true;
                }
            });
    private long rev;

    private void put(String rel, String value, long lease) {
        state.put(rel, value, lease, 1, ++rev);
    }

    private ClusterChanges commit() {
        state.revision(++rev);
        state.commit();
        return state.takeChanges();
    }

    /** Host h2 (lease 2) with endpoint 02:..:02 at 198.18.60.12 in blue, claimed. */
    private ClusterChanges h2() {
        put("networks/blue", SPEC, 0);
        put("hosts/h2", "{\"vtep\":\"198.19.1.2\",\"port\":4789,\"since\":5}", 2);
        put("members/blue/h2", "{}", 2);
        put("addresses/blue/198.18.60.12", "{\"host\":\"h2\"}", 2);
        put("endpoints/blue/02:00:00:00:00:02", "{\"host\":\"h2\",\"ip\":\"198.18.60.12/24\"}", 2);
        return commit();
    }

    @Test
    void derivesPeersRemoteMacsAndHeldAddresses() {
        ClusterChanges c = h2();
        assertEquals(SPEC.substring(8, SPEC.length() - 1), c.networks.get("blue"));
        assertEquals(Set.of("blue"), c.peers);
        assertEquals(List.of(InetAddress.ofLiteral("198.19.1.2")), state.peers("blue"));
        ClusterChanges.Remote r = c.remote.get("blue").get(MAC2);
        assertEquals(InetAddress.ofLiteral("198.19.1.2"), r.vtep());
        assertEquals(IP2, r.ip());
        assertEquals("h2", c.held.get("blue").get(IP2));
        assertEquals("h2", state.holder("blue", IP2));
        ClusterView v = state.view();
        assertEquals(Set.of("h2"), v.hosts().keySet());
        assertEquals(Set.of("h2"), v.members("blue"));
        assertEquals("198.18.60.12/24", v.endpoints("blue").get("02:00:00:00:00:02").ip());
    }

    @Test
    void aChangeCostsItsOwnChangesAndJunkNone() {
        h2();
        for (int i = 0; i < 1000; i++) {
            put(String.format("endpoints/blue/02:00:00:00:%02x:%02x", 1 + i / 256, i % 256), "{\"host\":\"h2\"}", 2);
        }
        assertEquals(1000, commit().remote.get("blue").size());
        put("endpoints/blue/02:00:00:00:ff:01", "{\"host\":\"h2\"}", 2);
        ClusterChanges one = commit();
        assertEquals(1, one.remote.get("blue").size(), "one endpoint, one change");
        assertTrue(one.peers.isEmpty() && one.held.isEmpty() && one.networks.isEmpty());
        put("junk/x", "{}", 0);
        put("hosts/h9", "{\"vtep\":\"127.0.0.1\"}", 9);
        put("hosts/h2", "{\"vtep\":\"198.19.1.2\",\"port\":4789,\"since\":5}", 2); // the same again
        assertTrue(commit().isEmpty(), "junk and repeats change nothing");
        assertEquals(1, refusals.count(Refusal.KEY));
        assertEquals(1, refusals.count(Refusal.VTEP));
    }

    @Test
    void aForgedKeyUnderAnotherLeaseIsRefusedAndTheEarlierValueStays() {
        h2();
        put("endpoints/blue/02:00:00:00:00:02", "{\"host\":\"h2\",\"ip\":\"198.18.60.12/24\"}", 0); // no lease
        put("endpoints/blue/02:00:00:00:00:02", "{\"host\":\"h2\",\"ip\":\"198.18.60.12/24\"}", 3); // h3's lease
        put("hosts/h2", "{\"vtep\":\"127.0.0.1\"}", 2);
        assertTrue(commit().isEmpty());
        assertEquals(2, refusals.count(Refusal.LEASE), "unleased, and under h3's lease");
        assertEquals(1, refusals.count(Refusal.VTEP));
        assertEquals(List.of(InetAddress.ofLiteral("198.19.1.2")), state.peers("blue"), "h2 keeps its VTEP");
    }

    @Test
    void keysOfARestartedHostThatCameBeforeItsNewHostKeyAreAdmittedWhenItComes() {
        h2();
        // h2 restarted under lease 5; its member and endpoint keys arrive before its host key
        put("members/blue/h2", "{}", 5);
        put("endpoints/blue/02:00:00:00:00:02", "{\"host\":\"h2\",\"ip\":\"198.18.60.12/24\"}", 5);
        put("addresses/blue/198.18.60.12", "{\"host\":\"h2\"}", 5);
        assertTrue(commit().isEmpty(), "kept aside; what was applied stays");
        put("hosts/h2", "{\"vtep\":\"198.19.1.2\",\"port\":4789,\"since\":9}", 5);
        ClusterChanges c = commit();
        assertEquals(List.of(InetAddress.ofLiteral("198.19.1.2")), state.peers("blue"), "still a peer");
        assertTrue(c.remote.isEmpty() || c.remote.get("blue").get(MAC2) != null, "its endpoint never went: " + c.remote);
        assertEquals("h2", state.holder("blue", IP2));
        assertEquals(3, state.view().members("blue").size() + state.view().endpoints("blue").size()
                + state.view().addresses("blue").size());
    }

    @Test
    void anEndpointsAddressMustBeClaimedByItsOwnHostInsideTheSubnet() {
        h2();
        put("hosts/h3", "{\"vtep\":\"198.19.1.3\"}", 3);
        put("members/blue/h3", "{}", 3);
        // h3 names h2's address: refused, h2's answer stands
        put("endpoints/blue/02:00:00:00:00:03", "{\"host\":\"h3\",\"ip\":\"198.18.60.12/24\"}", 3);
        // outside the subnet
        put("endpoints/blue/02:00:00:00:00:04", "{\"host\":\"h3\",\"ip\":\"198.18.99.4/24\"}", 3);
        put("addresses/blue/198.18.99.4", "{\"host\":\"h3\"}", 3);
        ClusterChanges c = commit();
        assertEquals(1, refusals.count(Refusal.CLAIM));
        assertEquals(2, refusals.count(Refusal.SUBNET));
        assertNull(c.remote.get("blue"));
        // not claimed yet: waits, applied when its claim comes
        put("endpoints/blue/02:00:00:00:00:05", "{\"host\":\"h3\",\"ip\":\"198.18.60.15/24\"}", 3);
        assertNull(commit().remote.get("blue"));
        put("addresses/blue/198.18.60.15", "{\"host\":\"h3\"}", 3);
        assertEquals(InetAddress.ofLiteral("198.18.60.15"), commit().remote.get("blue").get(0x020000000005L).ip());
    }

    @Test
    void aDeleteLingersWhileKeysOfItsLeaseNeedItAndNotWhenTheLeaseGoes() {
        h2();
        state.delete("hosts/h2");
        state.delete("members/blue/h2");
        state.delete("addresses/blue/198.18.60.12");
        assertTrue(commit().isEmpty(), "the endpoint still needs them: nothing changes");
        assertEquals(List.of(InetAddress.ofLiteral("198.19.1.2")), state.peers("blue"));
        assertEquals("h2", state.holder("blue", IP2), "the address is not free for another host meanwhile");
        assertEquals(3, state.lingeringCount());
        put("members/blue/h2", "{}", 2); // the owner writes it back
        assertTrue(commit().isEmpty());
        assertEquals(2, state.lingeringCount());
        // the lease ends: etcd deletes its keys in one revision
        state.delete("members/blue/h2");
        state.delete("endpoints/blue/02:00:00:00:00:02");
        ClusterChanges gone = commit();
        assertEquals(0, state.lingeringCount());
        assertEquals(List.of(), state.peers("blue"));
        assertNull(gone.remote.get("blue").get(MAC2));
        assertNull(state.holder("blue", IP2));
        assertEquals(0, state.hostCount());
    }

    @Test
    void keysNamingThisHostThatItDidNotWriteAreRefusedAndReportedAsStrays() {
        h2();
        put("endpoints/blue/02:00:00:00:00:99", "{\"host\":\"h1\"}", 2);
        put("members/blue/h1", "{}", 2);
        assertTrue(commit().isEmpty());
        assertEquals(List.of("endpoints/blue/02:00:00:00:00:99", "members/blue/h1"), strays);
        assertEquals(2, refusals.count(Refusal.FORGED_SELF));
    }

    @Test
    void anOwnKeyWrittenByAnotherIsNotAppliedButKept() {
        own.put("endpoints/blue/02:00:00:00:00:01", "{\"host\":\"h1\"}");
        h2();
        put("endpoints/blue/02:00:00:00:00:01", "{\"host\":\"h1\"}", 1);
        assertTrue(commit().isEmpty(), "our own endpoint is no remote one");
        put("endpoints/blue/02:00:00:00:00:01", "{\"host\":\"h2\"}", 2); // h2 claims our MAC
        state.delete("endpoints/blue/02:00:00:00:00:01");
        assertTrue(commit().isEmpty(), "another host's claim to our MAC is never applied");
        assertEquals(List.of("endpoints/blue/02:00:00:00:00:01", "endpoints/blue/02:00:00:00:00:01"), keptOwn);
        assertEquals(1, refusals.count(Refusal.OURS));
    }

    @Test
    void aListOfTheSameKeysChangesNothing() {
        h2();
        state.clear();
        assertTrue(h2().isEmpty());
        state.clear();
        put("networks/blue", SPEC, 0);
        ClusterChanges c = commit();
        assertNull(c.remote.get("blue").get(MAC2), "what a list no longer has is removed");
        assertTrue(c.peers.contains("blue"));
    }
}
