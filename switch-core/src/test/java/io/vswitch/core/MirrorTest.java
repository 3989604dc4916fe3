package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Mirrors (SPAN) through the pipeline with in-memory ports: each output gets each frame once. */
class MirrorTest {
    private static final int LANES = 2;
    private static final long NOW = 9_000_000_000_000L;
    private static final long A = Frames.mac(0xA);
    private static final long B = Frames.mac(0xB);

    private final BridgeDomain net = new BridgeDomain(1, NetworkSettings.defaults("m"), LANES);
    private final Pipeline pipeline = new Pipeline(1, 64);
    private final List<ChannelPort> all = new ArrayList<>();

    private ChannelPort port(String name) {
        ChannelPort p = new ChannelPort(name, LANES);
        net.addPort(p);
        all.add(p);
        return p;
    }

    private ChannelPort p1;
    private ChannelPort p2;
    private ChannelPort p3;
    private ChannelPort p4;
    private ChannelPort p5;
    private ChannelPort o1;
    private ChannelPort o2;
    private ChannelPort o3;

    @BeforeEach
    void setUp() {
        p1 = port("p1");
        p2 = port("p2");
        p3 = port("p3");
        p4 = port("p4");
        p5 = port("p5");
        o1 = port("o1");
        o2 = port("o2");
        o3 = port("o3");
    }

    @AfterEach
    void tearDown() {
        all.forEach(ChannelPort::clear);
    }

    private static Mirroring.Mirror out(String name, String port, String output) {
        return new Mirroring.Mirror(name, Set.of(port), false, true, output);
    }

    private void send(Port ingress, ByteBuf frame) {
        pipeline.process(ingress, new ByteBuf[] {frame}, 1, NOW);
        frame.release();
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
    void aFloodIsCopiedOnceToEachOfThreeOutputsWhateverTheOrderOfTheirPorts() {
        // Flood order is by port id: p2 (o1), p3 (o2), p4 (o3), p5 (o2 again). Keeping only the
        // last two outputs copied forgot o2 by the time p5 came and copied the frame to it twice.
        net.setMirrors(List.of(out("m1", "p2", "o1"), out("m2", "p3", "o2"), out("m3", "p4", "o3"),
                out("m4", "p5", "o2")));
        send(p1, Frames.frame(MacAddress.BROADCAST, A));
        assertEquals(1, drain(o1));
        assertEquals(1, drain(o2));
        assertEquals(1, drain(o3));
        for (ChannelPort p : List.of(p2, p3, p4, p5)) {
            assertEquals(1, drain(p), p.name());
        }
    }

    @Test
    void anOutputThatHadWhatTheIngressReceivedGetsNoSecondCopyOfItsSending() {
        net.setMirrors(List.of(new Mirroring.Mirror("both", Set.of(), true, true, "o1"),
                out("m2", "p3", "o2"), out("m3", "p4", "o3")));
        send(p1, Frames.frame(MacAddress.BROADCAST, A));
        assertEquals(1, drain(o1), "watches p1's input and every egress: one copy");
        assertEquals(0, drain(o2), "p3 is watched by 'both' first");
        assertEquals(0, drain(o3));
        send(p2, Frames.frame(A, B)); // known unicast to p1
        assertEquals(1, drain(p1));
        assertEquals(1, drain(o1));
    }

    @Test
    void framesOfManyBatchesAndManyOutputsAreEachCopiedOnce() {
        net.setMirrors(List.of(out("m1", "p2", "o1"), out("m2", "p3", "o2"), out("m3", "p4", "o3"),
                out("m4", "p5", "o1")));
        ByteBuf[] batch = new ByteBuf[10];
        for (int i = 0; i < batch.length; i++) {
            batch[i] = Frames.frame(MacAddress.BROADCAST, A);
        }
        pipeline.process(p1, batch, batch.length, NOW);
        for (ByteBuf f : batch) {
            f.release();
        }
        assertEquals(10, drain(o1));
        assertEquals(10, drain(o2));
        assertEquals(10, drain(o3));
    }

    @Test
    void aMirrorsOutputOnlySends() {
        net.setMirrors(List.of(new Mirroring.Mirror("all", Set.of(), true, false, "o1")));
        send(o1, Frames.frame(MacAddress.BROADCAST, B));
        assertEquals(1, o1.drops(DropReason.MIRROR_LOOP));
        assertEquals(0, net.table().size(), "nothing learned from it");
        send(p1, Frames.frame(MacAddress.BROADCAST, A));
        assertEquals(1, drain(o1), "the copy, not the flood");
        assertEquals(1, drain(p2));
    }
}
