package io.vswitch.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MacTableTest {
    private static final int GEN = 1;

    @Test
    void staticEntriesBeyondTheLimitGrowTheTableInsteadOfFillingIt() {
        // A cluster's remote endpoints are static and ignore the limit: 40,000 of them in a
        // network whose limit (8) sized the table for 64 slots.
        MacTable t = new MacTable(1, 8);
        for (long mac = 1; mac <= 40_000; mac++) {
            t.putStatic(0x0200_0000_0000L | mac, 2, 1);
        }
        assertEquals(40_000, t.size());
        for (long mac = 1; mac <= 40_000; mac++) {
            long v = t.lookup(0x0200_0000_0000L | mac);
            assertTrue(MacTable.isStatic(v) && MacTable.portId(v) == 2, "entry " + mac);
        }
        assertTrue(t.usedSlots() * 2 <= 131_072, "the load factor stays at most 1/2");
        // Statics do not take learned places: the limit of 8 learned MACs is still all there.
        for (long mac = 1; mac <= 8; mac++) {
            assertEquals(MacTable.LEARNED, t.learn(0x0400_0000_0000L | mac, 3, 1, 1), "learned " + mac);
        }
        assertEquals(MacTable.LIMIT_HIT, t.learn(0x0400_0000_0009L, 3, 1, 1), "learning still obeys the limit");
        assertEquals(0, t.lookup(0x0600_0000_0001L), "an unknown MAC is still found missing");
    }

    @Test
    void learnsAndLooksUpSourceMacs() {
        MacTable table = new MacTable(1, 16);
        assertEquals(0, table.lookup(Frames.mac(1)));
        assertEquals(MacTable.LEARNED, table.learn(Frames.mac(1), 3, GEN, 100));
        long v = table.lookup(Frames.mac(1));
        assertEquals(3, MacTable.portId(v));
        assertEquals(GEN, MacTable.generation(v));
        assertEquals(100, MacTable.tick(v));
        assertEquals(1, table.size());
    }

    @Test
    void writesNothingWhenKnownMacIsSeenAgainInTheSameTick() {
        MacTable table = new MacTable(1, 16);
        table.learn(Frames.mac(1), 3, GEN, 100);
        assertEquals(MacTable.UNCHANGED, table.learn(Frames.mac(1), 3, GEN, 100));
        assertEquals(MacTable.REFRESHED, table.learn(Frames.mac(1), 3, GEN, 101));
        assertEquals(101, MacTable.tick(table.lookup(Frames.mac(1))));
    }

    @Test
    void macSeenOnAnotherPortMovesThere() {
        MacTable table = new MacTable(1, 16);
        table.learn(Frames.mac(1), 3, GEN, 100);
        assertEquals(MacTable.MOVED, table.learn(Frames.mac(1), 4, GEN, 100));
        assertEquals(4, MacTable.portId(table.lookup(Frames.mac(1))));
        assertEquals(1, table.size());
    }

    @Test
    void entriesAgeOutAfterTheAgingTimeWithAFakeClock() {
        MacTable table = new MacTable(1, 16);
        table.learn(Frames.mac(1), 1, GEN, 1000);
        table.learn(Frames.mac(2), 2, GEN, 1200);
        assertEquals(0, table.sweep(1299, 300, (m, v) -> true, null));
        assertEquals(1, table.sweep(1300, 300, (m, v) -> true, null));
        assertEquals(0, table.lookup(Frames.mac(1)));
        assertEquals(2, MacTable.portId(table.lookup(Frames.mac(2))));
        assertEquals(1, table.size());
        // The aged MAC comes back in place.
        assertEquals(MacTable.LEARNED, table.learn(Frames.mac(1), 1, GEN, 1301));
        assertEquals(2, table.size());
    }

    @Test
    void refreshedEntryDoesNotAge() {
        MacTable table = new MacTable(1, 16);
        table.learn(Frames.mac(1), 1, GEN, 1000);
        table.learn(Frames.mac(1), 1, GEN, 1250);
        assertEquals(0, table.sweep(1300, 300, (m, v) -> true, null));
        assertEquals(1, table.sweep(1550, 300, (m, v) -> true, null));
    }

    @Test
    void fullTableRefusesNewMacsAndNeverEvictsEstablishedOnes() {
        MacTable table = new MacTable(1, 4);
        for (int i = 1; i <= 4; i++) {
            assertEquals(MacTable.LEARNED, table.learn(Frames.mac(i), i, GEN, 10));
        }
        // A flood of new source MACs.
        for (int i = 100; i < 10_000; i++) {
            assertEquals(MacTable.LIMIT_HIT, table.learn(Frames.mac(i), 1, GEN, 10 + i));
        }
        assertEquals(4, table.size());
        for (int i = 1; i <= 4; i++) {
            assertEquals(i, MacTable.portId(table.lookup(Frames.mac(i))), "established MAC " + i + " kept");
        }
        // Established MACs still move and refresh when full.
        assertEquals(MacTable.MOVED, table.learn(Frames.mac(1), 2, GEN, 20));
        assertEquals(MacTable.REFRESHED, table.learn(Frames.mac(2), 2, GEN, 20));
    }

    @Test
    void staticEntriesNeverMoveNorAge() {
        MacTable table = new MacTable(1, 4);
        table.putStatic(Frames.mac(9), 2, GEN);
        assertEquals(MacTable.STATIC, table.learn(Frames.mac(9), 3, GEN, 10));
        assertEquals(0, table.sweep(1_000_000, 300, (m, v) -> true, null));
        long v = table.lookup(Frames.mac(9));
        assertTrue(MacTable.isStatic(v));
        assertEquals(2, MacTable.portId(v));
        assertEquals(0, table.flush(), "flush keeps static entries");
        assertTrue(table.remove(Frames.mac(9)));
        assertEquals(0, table.lookup(Frames.mac(9)));
        assertFalse(table.remove(Frames.mac(9)));
    }

    @Test
    void networksWithTheSameMacDoNotShareEntries() {
        MacTable blue = new MacTable(1, 4);
        MacTable red = new MacTable(2, 4);
        blue.learn(Frames.mac(1), 1, GEN, 1);
        assertEquals(0, red.lookup(Frames.mac(1)));
    }

    @Test
    void compactionReclaimsDeadSlotsAndKeepsLiveEntries() {
        MacTable table = new MacTable(1, 64);
        int tick = 0;
        // Churn: learn and age out many MACs so dead keys pile up.
        for (int round = 0; round < 20; round++) {
            for (int i = 0; i < 50; i++) {
                table.learn(Frames.mac(round * 1000 + i), 1, GEN, tick);
            }
            tick += 400;
            table.sweep(tick, 300, (m, v) -> true, null);
            table.compactIfNeeded(null);
        }
        table.learn(Frames.mac(7), 5, GEN, tick);
        table.compact(null);
        assertEquals(1, table.size());
        assertEquals(1, table.usedSlots());
        assertEquals(5, MacTable.portId(table.lookup(Frames.mac(7))));
    }

    @Test
    void removeIfRemovesOnlyMatchingEntries() {
        MacTable table = new MacTable(1, 16);
        for (int i = 1; i <= 6; i++) {
            table.learn(Frames.mac(i), i % 2 + 1, GEN, 1);
        }
        assertEquals(3, table.removeIf((mac, v) -> MacTable.portId(v) == 1));
        List<Integer> ports = new ArrayList<>();
        table.forEach((mac, v) -> ports.add(MacTable.portId(v)));
        assertEquals(List.of(2, 2, 2), ports);
    }
}
