package io.vswitch.cluster;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OwnKeysTest {
    private long now = 1_000_000;
    private final Keys keys = new Keys("/p");
    private final OwnKeys own = new OwnKeys(keys, "/p/hosts/h1", () -> now);
    private static final String EP = "endpoints/blue/02:00:00:00:00:01";

    @Test
    void aChangedKeyIsWrittenOnceAndItsOwnEventApplied() {
        own.lease(7);
        assertTrue(own.put("/p/" + EP, "{\"host\":\"h1\"}"));
        assertFalse(own.put("/p/" + EP, "{\"host\":\"h1\"}"), "no change, no write");
        OwnKeys.Work w = own.take();
        assertEquals(Map.of("/p/" + EP, "{\"host\":\"h1\"}"), w.puts());
        assertTrue(own.take().isEmpty());
        assertEquals(ClusterState.Owner.Verdict.APPLY, own.ownPut(EP, "{\"host\":\"h1\"}", 7, 10, false));
        assertTrue(own.take().isEmpty());
    }

    @Test
    void anotherWritersValueIsWrittenBackComparedToTheRevisionSeenAndAFightIsPaused() {
        own.lease(7);
        own.put("/p/" + EP, "{\"host\":\"h1\"}");
        own.take();
        assertEquals(ClusterState.Owner.Verdict.KEEP, own.ownPut(EP, "{\"host\":\"h2\"}", 8, 11, false));
        assertEquals(List.of(new OwnKeys.Rewrite("/p/" + EP, "{\"host\":\"h1\"}", 11)), own.take().rewrites());
        assertFalse(own.ownDeleted(EP));
        assertEquals(List.of(new OwnKeys.Rewrite("/p/" + EP, "{\"host\":\"h1\"}", 0)), own.take().rewrites());
        own.ownPut(EP, "{\"host\":\"h2\"}", 8, 13, false);
        assertEquals(1, own.take().rewrites().size(), "the third write back in the window still goes at once");
        own.ownPut(EP, "{\"host\":\"h2\"}", 8, 14, false);
        assertTrue(own.take().rewrites().isEmpty(), "then it waits");
        assertTrue(own.nextDue() > now);
        now = own.nextDue();
        assertEquals(1, own.take().rewrites().size());
        assertEquals(4, own.rewritten());
    }

    @Test
    void underANewLeaseTheHostKeyIsWrittenAloneFirst() {
        own.put("/p/hosts/h1", "{\"vtep\":\"198.19.1.1\"}");
        own.put("/p/" + EP, "{\"host\":\"h1\"}");
        own.lease(9);
        assertEquals(Map.of("/p/hosts/h1", "{\"vtep\":\"198.19.1.1\"}"), own.take().puts());
        assertEquals(Map.of("/p/" + EP, "{\"host\":\"h1\"}"), own.take().puts());
    }

    @Test
    void keysNamingThisHostAreDeletedOnlyOnceItHasPutAllOfItsOwn() {
        own.lease(7);
        assertFalse(own.stray(EP, 5), "not counted as forged before the daemon put its keys");
        assertTrue(own.take().rewrites().isEmpty());
        own.ready();
        assertEquals(List.of(new OwnKeys.Rewrite("/p/" + EP, null, 5)), own.take().rewrites());
        own.stray(EP, 6);
        own.put("/p/" + EP, "{\"host\":\"h1\"}"); // it is ours after all
        OwnKeys.Work w = own.take();
        assertTrue(w.rewrites().isEmpty());
        assertEquals(1, w.puts().size());
    }

    @Test
    void aClaimAnotherLiveHostMadeAfterOursVanishedIsGivenUpAndClaimedAgainWhenItGoes() {
        String claim = "addresses/blue/198.18.60.5";
        own.lease(7);
        own.put("/p/" + claim, "{\"host\":\"h1\"}");
        own.take();
        assertEquals(ClusterState.Owner.Verdict.RELEASED, own.ownPut(claim, "{\"host\":\"h2\"}", 8, 20, true));
        assertFalse(own.put("/p/" + claim, "{\"host\":\"h1\"}"), "not fought over");
        assertTrue(own.owns(claim));
        assertTrue(own.ownDeleted(claim), "the other host's claim went: folded in");
        assertTrue(own.put("/p/" + claim, "{\"host\":\"h1\"}"), "and ours may be made again");
        assertEquals(1, own.take().claims().size());
    }
}
