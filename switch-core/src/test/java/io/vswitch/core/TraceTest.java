package io.vswitch.core;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceTest {
    private static final long NOW = 1_000_000_000_000L;
    private final BridgeDomain blue = new BridgeDomain(1, new NetworkSettings("blue", 1500, Duration.ofSeconds(300), 2), 1);
    private final ChannelPort p1 = new ChannelPort("b1", 1);
    private final ChannelPort p2 = new ChannelPort("b2", 1);
    private final ChannelPort p3 = new ChannelPort("b3", 1);

    TraceTest() {
        blue.addPort(p1);
        blue.addPort(p2);
        blue.addPort(p3);
    }

    @Test
    void unknownDestinationFloodsAndSaysSo() {
        Trace.Result r = Trace.run(blue, p1, Frames.mac(1), Frames.mac(2), -1, NOW);
        assertEquals("flood", r.decision());
        assertEquals(List.of("b2", "b3"), r.egress());
        assertTrue(r.steps().contains("lookup: 02:00:00:00:00:02 is unknown"), r.steps().toString());
        assertTrue(r.steps().contains("learn: 02:00:00:00:00:01 would be learned on b1"), r.steps().toString());
        assertEquals(0, blue.table().size(), "trace learns nothing");
    }

    @Test
    void learnedDestinationGoesToItsPortAndSaysWhereItWasLearned() {
        blue.table().learn(Frames.mac(2), p2.id(), p2.generation(), BridgeDomain.tick(NOW) - 3);
        Trace.Result r = Trace.run(blue, p1, Frames.mac(1), Frames.mac(2), 10, NOW);
        assertEquals("unicast", r.decision());
        assertEquals(List.of("b2"), r.egress());
        assertTrue(r.steps().stream().anyMatch(s -> s.equals("lookup: 02:00:00:00:00:02 was learned on b2 (dynamic, seen 3s ago)")),
                r.steps().toString());
        assertTrue(r.steps().get(0).contains("vlan 10"));
    }

    @Test
    void droppedFramesNameTheRule() {
        assertEquals("invalid-source", Trace.run(blue, p1, MacAddress.BROADCAST, Frames.mac(2), -1, NOW).reason());
        blue.table().learn(Frames.mac(2), p1.id(), p1.generation(), BridgeDomain.tick(NOW));
        Trace.Result hairpin = Trace.run(blue, p1, Frames.mac(1), Frames.mac(2), -1, NOW);
        assertEquals("drop", hairpin.decision());
        assertEquals("hairpin", hairpin.reason());
        p1.setUp(false);
        assertEquals("ingress-down", Trace.run(blue, p1, Frames.mac(1), Frames.mac(2), -1, NOW).reason());
    }

    @Test
    void fullTableAndMovesAreExplained() {
        blue.table().learn(Frames.mac(7), p2.id(), p2.generation(), BridgeDomain.tick(NOW));
        blue.table().learn(Frames.mac(8), p2.id(), p2.generation(), BridgeDomain.tick(NOW));
        Trace.Result full = Trace.run(blue, p1, Frames.mac(9), MacAddress.BROADCAST, -1, NOW);
        assertTrue(full.steps().get(2).contains("mac-limit 2"), full.steps().toString());
        Trace.Result move = Trace.run(blue, p1, Frames.mac(7), MacAddress.BROADCAST, -1, NOW);
        assertTrue(move.steps().get(2).contains("would move from b2 to b1"), move.steps().toString());
    }

    @Test
    void aPortWhoseLinkIsDownInItsNamespaceGetsNothingAndTraceSaysWhy() {
        p3.setLink(false, 0); // the container set its interface down: the kernel refuses writes (EIO)
        Trace.Result flood = Trace.run(blue, p1, Frames.mac(1), MacAddress.BROADCAST, -1, NOW);
        assertEquals("flood", flood.decision());
        assertEquals(List.of("b2"), flood.egress(), "not among the ports the flood reaches");
        assertTrue(flood.steps().getLast().contains("skipped b3 (link is down in its namespace: the write is refused,"
                + " counted as link-down)"), flood.steps().toString());

        blue.table().learn(Frames.mac(3), p3.id(), p3.generation(), BridgeDomain.tick(NOW));
        Trace.Result unicast = Trace.run(blue, p1, Frames.mac(1), Frames.mac(3), -1, NOW);
        assertEquals("drop", unicast.decision());
        assertEquals("link-down", unicast.reason());
        assertEquals(List.of(), unicast.egress());

        p2.setLink(false, 0);
        Trace.Result none = Trace.run(blue, p1, Frames.mac(1), MacAddress.BROADCAST, -1, NOW);
        assertEquals("link-down", none.reason(), none.steps().toString());

        Trace.Result from = Trace.run(blue, p3, Frames.mac(3), MacAddress.BROADCAST, -1, NOW);
        assertEquals("ingress-down", from.reason(), "nothing comes in from a port whose link is down");
        p3.setLink(true, 0);
        assertEquals(List.of("b1"), Trace.run(blue, p3, Frames.mac(3), MacAddress.BROADCAST, -1, NOW).egress());
    }
}
