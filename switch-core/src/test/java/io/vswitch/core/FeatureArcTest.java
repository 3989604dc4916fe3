package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A network's arc is composed from what it uses, and follows it as it changes. */
class FeatureArcTest {
    private static final int LANES = 1;
    private final BridgeDomain net = new BridgeDomain(1, NetworkSettings.defaults("n"), LANES);
    private final ChannelPort p1 = new ChannelPort("p1", LANES);
    private final ChannelPort p2 = new ChannelPort("p2", LANES);

    FeatureArcTest() {
        net.addPort(p1);
        net.addPort(p2);
    }

    private static final PacketTap TAP = new PacketTap() {
        @Override
        public void received(Port port, ByteBuf frame, int lane) {
        }

        @Override
        public void sent(Port port, ByteBuf frame, int lane) {
        }
    };

    @Test
    void aPlainNetworkHasOnlyTheStagesEveryFrameNeeds() {
        assertEquals(List.of("validate", "learn", "lookup", "respond", "output"), net.arc().names());
    }

    @Test
    void mirrorsCapturesAndStormLimitsAddTheirStagesAndTakeThemAwayAgain() {
        net.setMirrors(List.of(new Mirroring.Mirror("m", Set.of(), true, true, "p2")));
        assertEquals(List.of("mirror-loop", "validate", "learn", "mirror", "lookup", "respond", "output"),
                net.arc().names());
        net.addTap(TAP);
        assertEquals(List.of("mirror-loop", "validate", "learn", "capture", "mirror", "lookup", "respond", "output"),
                net.arc().names());
        net.setMirrors(List.of());
        net.removeTap(TAP);
        p1.setStorm(new StormControl(new StormControl.Limits(10, 0, 0), LANES, 1));
        assertEquals(List.of("validate", "learn", "lookup", "respond", "storm", "output"), net.arc().names());
        net.removePort(p1);
        assertEquals(List.of("validate", "learn", "lookup", "respond", "output"), net.arc().names(),
                "the port with limits left");
    }

    @Test
    void aPortWithStormLimitsAddedLaterBringsTheStage() {
        ChannelPort p3 = new ChannelPort("p3", LANES);
        p3.setStorm(new StormControl(new StormControl.Limits(0, 5, 0), LANES, 1));
        net.addPort(p3);
        assertEquals("validate > learn > lookup > respond > storm > output", net.arc().toString());
    }

    @Test
    void eachNetworkHasItsOwnArc() {
        BridgeDomain other = new BridgeDomain(2, new NetworkSettings("o", 9000, Duration.ofSeconds(60), 16, true), LANES);
        net.addTap(TAP);
        assertEquals(List.of("validate", "learn", "lookup", "respond", "output"), other.arc().names());
    }
}
