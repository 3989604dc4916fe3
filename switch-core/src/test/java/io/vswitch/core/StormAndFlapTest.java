package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Storm limits, per-port MAC limits and MAC-move dampening, through the pipeline with in-memory ports. */
class StormAndFlapTest {
    private static final int LANES = 2;
    private static final long SECOND = 1_000_000_000L;
    private static final long T0 = 7_000 * SECOND;
    private static final long A = Frames.mac(0xA);
    private static final long B = Frames.mac(0xB);

    private BridgeDomain net;
    private ChannelPort p1;
    private ChannelPort p2;
    private ChannelPort p3;
    private Pipeline pipeline;

    @BeforeEach
    void setUp() {
        net = new BridgeDomain(1, new NetworkSettings("n", 1500, Duration.ofSeconds(300), 8192, false, 5,
                Duration.ofSeconds(10)), LANES);
        p1 = new ChannelPort("p1", LANES);
        p2 = new ChannelPort("p2", LANES);
        p3 = new ChannelPort("p3", LANES);
        net.addPort(p1);
        net.addPort(p2);
        net.addPort(p3);
        pipeline = new Pipeline(1, 64);
    }

    @AfterEach
    void tearDown() {
        for (ChannelPort p : new ChannelPort[] {p1, p2, p3}) {
            p.clear();
        }
    }

    private void send(Port ingress, long now, ByteBuf... frames) {
        pipeline.process(ingress, frames, frames.length, now);
        for (ByteBuf f : frames) {
            f.release();
        }
    }

    private static int drain(ChannelPort port) {
        int n = 0;
        ByteBuf b;
        while ((b = port.poll()) != null) {
            b.release();
            n++;
        }
        return n;
    }

    @Test
    void aTokenBucketPerKindAllowsItsRateAndNoMore() {
        StormControl s = new StormControl(new StormControl.Limits(100, 0, 10), LANES, 1);
        int allowed = 0;
        for (int i = 0; i < 1000; i++) {
            if (s.allow(StormControl.BROADCAST, 1, T0)) {
                allowed++;
            }
        }
        assertEquals(10, allowed, "a burst of a tenth of a second");
        allowed = 0;
        for (int ms = 1; ms <= 1000; ms++) { // offered 1000/s for a second, ten times the rate
            if (s.allow(StormControl.BROADCAST, 1, T0 + ms * 1_000_000L)) {
                allowed++;
            }
        }
        assertTrue(allowed >= 99 && allowed <= 101, "100/s over a second: " + allowed);
        for (int i = 0; i < 10_000; i++) {
            assertTrue(s.allow(StormControl.MULTICAST, 1, T0), "0: no limit");
        }
        assertEquals(1, count(s, StormControl.UNKNOWN_UNICAST, 0, 50), "10/s: one frame of credit in the bucket");
    }

    private static int count(StormControl s, int kind, int lane, int frames) {
        int n = 0;
        for (int i = 0; i < frames; i++) {
            if (s.allow(kind, lane, T0)) {
                n++;
            }
        }
        return n;
    }

    @Test
    void aRateIsSharedBetweenTheLoopsThatReadThePort() {
        StormControl s = new StormControl(new StormControl.Limits(1000, 0, 0), 3, 2);
        assertEquals(50, count(s, StormControl.BROADCAST, 0, 500), "500/s a loop: 50 in a tenth of a second");
        assertEquals(50, count(s, StormControl.BROADCAST, 1, 500), "the other loop's share is its own");
    }

    @Test
    void broadcastOverThePortsLimitIsDroppedAtIngressAndCounted() {
        p1.setStorm(new StormControl(new StormControl.Limits(20, 0, 0), LANES, 1));
        for (int i = 0; i < 100; i++) {
            send(p1, T0, Frames.frame(MacAddress.BROADCAST, A));
        }
        assertEquals(2, drain(p2), "a tenth of a second of 20/s");
        assertEquals(98, p1.drops(DropReason.STORM_BROADCAST));
        drain(p3);
        // Known unicast is never limited.
        send(p2, T0, Frames.frame(A, B));
        for (int i = 0; i < 100; i++) {
            send(p1, T0, Frames.frame(B, A));
        }
        assertEquals(100, drain(p2));
        // Unknown unicast and multicast have limits of their own (none here).
        for (int i = 0; i < 100; i++) {
            send(p1, T0, Frames.frame(Frames.mac(0x77), A), Frames.frame(0x0100_5E00_0001L, A));
        }
        assertEquals(200, drain(p3));
    }

    @Test
    void aPortAtItsOwnMacLimitLearnsNoMoreButStillForwards() {
        p1.setMacLimit(3);
        for (int i = 1; i <= 10; i++) {
            send(p1, T0, Frames.frame(MacAddress.BROADCAST, Frames.mac(0x100 + i)));
        }
        assertEquals(3, net.table().size());
        assertEquals(7, net.count(NetworkCounter.PORT_LIMIT_HIT));
        assertEquals(10, drain(p2), "frames of unlearned MACs still pass");
        // A MAC already on the port is refreshed, not refused.
        send(p1, T0 + SECOND, Frames.frame(MacAddress.BROADCAST, Frames.mac(0x101)));
        assertEquals(7, net.count(NetworkCounter.PORT_LIMIT_HIT));
        // Another port is not limited by p1's limit.
        send(p2, T0, Frames.frame(MacAddress.BROADCAST, Frames.mac(0x201)));
        assertEquals(4, net.table().size());
        // The recount after entries go makes room again.
        net.table().flush();
        net.recountMacs();
        send(p1, T0, Frames.frame(MacAddress.BROADCAST, Frames.mac(0x105)));
        assertEquals(1, net.table().size());
    }

    @Test
    void aMacFlappingBetweenPortsIsPinnedToItsHomePortForTheHoldTime() {
        long now = T0;
        send(p1, now, Frames.frame(MacAddress.BROADCAST, A)); // A lives on p1 ...
        for (int i = 0; i < 10; i++) { // ... and copies of its frames come back round a loop on p2 and p3
            send(i % 2 == 0 ? p2 : p3, now += 1_000_000, Frames.frame(MacAddress.BROADCAST, A));
        }
        assertEquals(1, net.count(NetworkCounter.FLAP_BLOCKS), "pinned once");
        long[] pins = net.flaps().drainBlocked();
        assertEquals(1, pins.length);
        assertEquals(A, pins[0] >>> 16);
        assertEquals(p1.id(), (int) (pins[0] & 0xFFFF), "its home: where it lived when the moves began");
        assertEquals(0, net.flaps().drainBlocked().length, "reported once");
        assertEquals(p1.id(), MacTable.portId(net.table().lookup(A)), "and it is back there");
        drain(p1);
        drain(p2);
        drain(p3);
        long moves = net.count(NetworkCounter.MOVED);
        long d2 = p2.drops(DropReason.MAC_FLAP);
        long d3 = p3.drops(DropReason.MAC_FLAP);
        for (int i = 0; i < 100; i++) {
            send(p2, now += 1_000_000, Frames.frame(MacAddress.BROADCAST, A));
            send(p3, now += 1_000_000, Frames.frame(MacAddress.BROADCAST, A));
            send(p1, now += 1_000_000, Frames.frame(MacAddress.BROADCAST, A));
        }
        assertEquals(100, p2.drops(DropReason.MAC_FLAP) - d2, "copies re-entering elsewhere are dropped");
        assertEquals(100, p3.drops(DropReason.MAC_FLAP) - d3);
        assertEquals(0, p1.drops(DropReason.MAC_FLAP), "its own frames pass");
        assertEquals(200, drain(p2) + drain(p3), "p1's 100 broadcasts reach p2 and p3");
        assertEquals(moves, net.count(NetworkCounter.MOVED), "and it moves no more");
        assertEquals(p1.id(), MacTable.portId(net.table().lookup(A)));
        // Other MACs on the same ports are untouched.
        send(p2, now, Frames.frame(MacAddress.BROADCAST, B));
        assertEquals(1, drain(p3));
        assertEquals(p2.id(), MacTable.portId(net.table().lookup(B)));
        // After the hold time A may move again.
        now += 11 * SECOND;
        assertFalse(net.flaps().isBlocked(A, p2, now));
    }

    @Test
    void aMacThatMovesOnceIsNeverBlocked() {
        send(p1, T0, Frames.frame(MacAddress.BROADCAST, A));
        send(p2, T0 + SECOND, Frames.frame(MacAddress.BROADCAST, A));
        send(p3, T0 + 5 * SECOND, Frames.frame(MacAddress.BROADCAST, A));
        assertEquals(0, net.count(NetworkCounter.FLAP_BLOCKS));
        assertEquals(p3.id(), MacTable.portId(net.table().lookup(A)));
    }
}
