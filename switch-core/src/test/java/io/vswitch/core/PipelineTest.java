package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every forwarding decision and drop reason, through the whole pipeline, with in-memory ports. */
class PipelineTest {
    private static final int LANES = 2;
    private static final long NOW = 5_000_000_000_000L;
    private static final long A = Frames.mac(0xA);
    private static final long B = Frames.mac(0xB);
    private static final long C = Frames.mac(0xC);

    private BridgeDomain blue;
    private BridgeDomain red;
    private ChannelPort p1;
    private ChannelPort p2;
    private ChannelPort p3;
    private ChannelPort r1;
    private ChannelPort r2;
    private Pipeline pipeline;

    @BeforeEach
    void setUp() {
        blue = new BridgeDomain(1, new NetworkSettings("blue", 1500, Duration.ofSeconds(300), 8192), LANES);
        red = new BridgeDomain(2, NetworkSettings.defaults("red"), LANES);
        p1 = new ChannelPort("blue0", LANES);
        p2 = new ChannelPort("blue1", LANES);
        p3 = new ChannelPort("blue2", LANES);
        r1 = new ChannelPort("red0", LANES);
        r2 = new ChannelPort("red1", LANES);
        blue.addPort(p1);
        blue.addPort(p2);
        blue.addPort(p3);
        red.addPort(r1);
        red.addPort(r2);
        pipeline = new Pipeline(1, 64);
    }

    @AfterEach
    void tearDown() {
        for (ChannelPort p : new ChannelPort[] {p1, p2, p3, r1, r2}) {
            p.clear();
        }
    }

    private void send(Port ingress, ByteBuf... frames) {
        pipeline.process(ingress, frames, frames.length, NOW);
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
    void floodsUnknownUnicastToAllPortsButIngress() {
        send(p1, Frames.frame(B, A));
        assertEquals(0, drain(p1));
        assertEquals(1, drain(p2));
        assertEquals(1, drain(p3));
        assertEquals(1, blue.count(NetworkCounter.FLOODED));
    }

    @Test
    void floodsBroadcastAndMulticast() {
        send(p1, Frames.frame(MacAddress.BROADCAST, A), Frames.frame(0x01005e000001L, A));
        assertEquals(0, drain(p1));
        assertEquals(2, drain(p2));
        assertEquals(2, drain(p3));
    }

    @Test
    void sendsKnownUnicastToItsOnePort() {
        send(p2, Frames.frame(MacAddress.BROADCAST, B));
        drain(p1);
        drain(p3);
        send(p1, Frames.frame(B, A));
        assertEquals(1, drain(p2));
        assertEquals(0, drain(p3));
        assertEquals(0, drain(p1));
        assertEquals(1, blue.count(NetworkCounter.FORWARDED));
    }

    @Test
    void replyLaterInTheSameBatchFindsTheLearnedDestination() {
        // A's frame and then a frame to A from another port, processed as one batch of p2?
        // Learning happens for the whole batch before decisions: B->A after A learned in batch.
        send(p1, Frames.frame(MacAddress.BROADCAST, A));
        drain(p2);
        drain(p3);
        send(p2, Frames.frame(MacAddress.BROADCAST, B), Frames.frame(A, B));
        assertEquals(2, drain(p1), "the broadcast and the unicast to A");
        assertEquals(1, drain(p3), "only the broadcast");
    }

    @Test
    void transmittedFrameIsTheSameBytes() {
        ByteBuf original = Frames.frame(MacAddress.BROADCAST, A, 0x0800, 200);
        ByteBuf expected = original.copy();
        send(p1, original);
        ByteBuf out = p2.poll();
        assertNotNull(out);
        assertEquals(expected, out);
        out.release();
        expected.release();
    }

    @Test
    void dropsHairpinWhenDestinationIsOnTheIngressPort() {
        send(p1, Frames.frame(MacAddress.BROADCAST, A), Frames.frame(MacAddress.BROADCAST, C));
        drain(p2);
        drain(p3);
        send(p1, Frames.frame(C, A));
        assertEquals(0, drain(p2) + drain(p3) + drain(p1));
        assertEquals(1, p1.drops(DropReason.HAIRPIN));
    }

    @Test
    void dropsRuntOversizeAndInvalidSourcesWithNamedReasons() {
        send(p1, Frames.frame(B, A, 0x0800, 13));
        send(p1, Frames.frame(B, A, 0x0800, 1500 + 18 + 1));
        send(p1, Frames.frame(B, 0, 0x0800, 64));
        send(p1, Frames.frame(B, MacAddress.BROADCAST, 0x0800, 64));
        send(p1, Frames.frame(B, 0x01005e000001L, 0x0800, 64));
        assertEquals(1, p1.drops(DropReason.RUNT));
        assertEquals(1, p1.drops(DropReason.OVERSIZE));
        assertEquals(3, p1.drops(DropReason.INVALID_SOURCE));
        assertEquals(0, drain(p2) + drain(p3));
        assertEquals(0, blue.table().size(), "nothing learned from dropped frames");
        assertEquals(5, p1.count(PortCounter.RX_FRAMES));
    }

    @Test
    void acceptsMaximumSizeTaggedFrame() {
        send(p1, Frames.frame(MacAddress.BROADCAST, A, 0x8100, 1500 + 18));
        assertEquals(1, drain(p2));
    }

    @Test
    void framesNeverLeaveTheirNetwork() {
        send(p1, Frames.frame(MacAddress.BROADCAST, A));
        send(r1, Frames.frame(MacAddress.BROADCAST, B));
        // Same MAC A learned in red must not make blue's frames go to red.
        send(r1, Frames.frame(MacAddress.BROADCAST, A));
        send(p2, Frames.frame(A, C));
        assertEquals(1, drain(p1), "blue's A is on p1");
        assertEquals(2, drain(r2), "red only sees red's two broadcasts");
        drain(p3);
        assertEquals(0, drain(r1));
    }

    @Test
    void macMovesWhenSeenOnAnotherPort() {
        send(p1, Frames.frame(MacAddress.BROADCAST, A));
        send(p2, Frames.frame(MacAddress.BROADCAST, A));
        drain(p1);
        drain(p2);
        drain(p3);
        send(p3, Frames.frame(A, C));
        assertEquals(1, drain(p2));
        assertEquals(0, drain(p1));
        assertEquals(1, blue.count(NetworkCounter.MOVED));
    }

    @Test
    void downPortIsSkippedAndItsMacsFlood() {
        send(p2, Frames.frame(MacAddress.BROADCAST, B));
        drain(p1);
        drain(p3);
        p2.setUp(false);
        send(p1, Frames.frame(B, A));
        assertEquals(0, drain(p2));
        assertEquals(1, drain(p3), "unknown (down) destination floods to the up ports");
    }

    @Test
    void dropsWithNoEgressWhenAloneInTheNetwork() {
        p2.setUp(false);
        p3.setUp(false);
        send(p1, Frames.frame(MacAddress.BROADCAST, A));
        assertEquals(1, p1.drops(DropReason.NO_EGRESS));
    }

    @Test
    void dropsEverythingFromADownIngress() {
        p1.setUp(false);
        send(p1, Frames.frame(MacAddress.BROADCAST, A));
        assertEquals(1, p1.drops(DropReason.INGRESS_DOWN));
        assertEquals(0, drain(p2));
    }

    @Test
    void removedPortsMacsAreForgottenAndItsIdReusedWithANewGeneration() {
        send(p2, Frames.frame(MacAddress.BROADCAST, B));
        drain(p1);
        drain(p3);
        int oldId = p2.id();
        assertTrue(blue.removePort(p2));
        assertEquals(0, blue.table().lookup(B));
        ChannelPort p4 = new ChannelPort("blue3", LANES);
        blue.addPort(p4);
        assertEquals(oldId, p4.id());
        assertTrue(p4.generation() != p2.generation());
        send(p1, Frames.frame(B, A));
        assertEquals(1, drain(p4), "floods to the new port");
        assertEquals(1, drain(p3));
        p4.clear();
    }

    @Test
    void staleEntryOfARemovedPortIsIgnoredLazily() {
        // Put an entry that names p2's id with an old generation: it must read as unknown.
        blue.table().putStatic(B, p2.id(), p2.generation() + 1);
        send(p1, Frames.frame(B, A));
        assertEquals(1, drain(p2));
        assertEquals(1, drain(p3));
        assertEquals(1, blue.count(NetworkCounter.FLOODED));
    }

    @Test
    void agingSweepCountsAgedEntries() {
        send(p1, Frames.frame(MacAddress.BROADCAST, A));
        drain(p2);
        drain(p3);
        assertEquals(0, blue.sweep(NOW + 299_000_000_000L, null, 0));
        assertEquals(1, blue.sweep(NOW + 301_000_000_000L, null, 0));
        assertEquals(1, blue.count(NetworkCounter.AGED));
        assertEquals(0, blue.table().lookup(A));
    }

    @Test
    void limitHitsAreCountedAndFramesFromUnlearnedMacsStillFlood() {
        BridgeDomain small = new BridgeDomain(3, new NetworkSettings("small", 1500, Duration.ofSeconds(300), 2), LANES);
        ChannelPort s1 = new ChannelPort("s1", LANES);
        ChannelPort s2 = new ChannelPort("s2", LANES);
        small.addPort(s1);
        small.addPort(s2);
        send(s1, Frames.frame(MacAddress.BROADCAST, Frames.mac(1)), Frames.frame(MacAddress.BROADCAST, Frames.mac(2)),
                Frames.frame(MacAddress.BROADCAST, Frames.mac(3)), Frames.frame(Frames.mac(4), Frames.mac(5)));
        assertEquals(4, drain(s2));
        assertEquals(2, small.table().size());
        assertEquals(2, small.count(NetworkCounter.LIMIT_HIT));
        assertEquals(2, small.count(NetworkCounter.LEARNED));
        assertNull(s1.poll());
    }

    @Test
    void decisionsAreAPureFunctionOfFrameTableAndIngress() {
        ByteBuf f = Frames.frame(B, A);
        try {
            assertEquals(Forwarder.VALID, Forwarder.validate(f, 1500));
            assertEquals(Forwarder.FLOOD, Forwarder.forward(blue, B, p1));
            blue.table().learn(B, p2.id(), p2.generation(), 1);
            assertEquals(p2.id(), Forwarder.forward(blue, B, p1));
            assertEquals(DropReason.HAIRPIN, Forwarder.reason(Forwarder.forward(blue, B, p2)));
        } finally {
            f.release();
        }
    }

    @Test
    void framesFromATunnelNeverGoBackIntoATunnel() {
        ChannelPort t1 = new ChannelPort("vxlan-a", LANES, true, true);
        ChannelPort t2 = new ChannelPort("vxlan-b", LANES, true, true);
        blue.addPort(t1);
        blue.addPort(t2);
        // Broadcast from a tunnel: to the local ports only (head-end replication is the sender's job).
        send(t1, Frames.frame(MacAddress.BROADCAST, A));
        assertEquals(1, drain(p1));
        assertEquals(0, drain(t2));
        // Broadcast from a local port: to every local port and every tunnel.
        send(p1, Frames.frame(MacAddress.BROADCAST, C));
        assertEquals(1, drain(t1));
        assertEquals(1, drain(t2));
        drain(p2);
        drain(p3);
        // Known unicast behind another tunnel: dropped by split horizon.
        send(t2, Frames.frame(A, B));
        assertEquals(0, drain(t1));
        assertEquals(1, t2.drops(DropReason.SPLIT_HORIZON));
        // The MAC that was behind t1 appears on a local port: it moves there.
        send(p2, Frames.frame(MacAddress.BROADCAST, A));
        assertEquals(p2.id(), MacTable.portId(blue.table().lookup(A)));
        t1.clear();
        t2.clear();
        drain(p1);
        drain(p3);
    }

    @Test
    void offloadNetworkPassesAnnouncedGsoFramesAndStillDropsUnannouncedGiants() {
        BridgeDomain fast = new BridgeDomain(9, new NetworkSettings("fast", 1500, Duration.ofSeconds(300), 8, true), LANES);
        ChannelPort f1 = new ChannelPort("f1", LANES);
        ChannelPort f2 = new ChannelPort("f2", LANES);
        fast.addPort(f1);
        fast.addPort(f2);
        ByteBuf gso = SegmenterTestSupport.gsoFrame(false, false, false, 60000, 1448, 0x10);
        ByteBuf plain = gso.copy(0, gso.capacity());
        plain.setByte(VirtioNetHeader.GSO_TYPE_OFFSET, VirtioNetHeader.GSO_NONE);
        plain.readerIndex(VirtioNetHeader.LENGTH);
        send(f1, gso, plain);
        assertEquals(1, drain(f2));
        assertEquals(1, f1.drops(DropReason.OVERSIZE));
        // Without offload, the same GSO frame is oversize.
        ByteBuf again = Frames.frame(MacAddress.BROADCAST, A, 0x0800, 60000);
        send(p1, again);
        assertEquals(1, p1.drops(DropReason.OVERSIZE));
    }

    /** A hostile virtio-net header, as a container's AF_PACKET socket with PACKET_VNET_HDR can make one. */
    private static ByteBuf hostile(String what) {
        boolean udp = what.startsWith("udp");
        ByteBuf f = SegmenterTestSupport.gsoFrame(false, udp, what.equals("qinq") ? 2 : 0,
                20000, 1448, 0x10);
        int h = f.readerIndex() - VirtioNetHeader.LENGTH;
        switch (what) {
            case "gso size 1" -> f.setShortLE(h + VirtioNetHeader.GSO_SIZE_OFFSET, 1);
            case "gso size 87" -> f.setShortLE(h + VirtioNetHeader.GSO_SIZE_OFFSET, 87);
            case "gso size above mtu" -> f.setShortLE(h + VirtioNetHeader.GSO_SIZE_OFFSET, 1500);
            case "tcpv6 on ipv4" -> f.setByte(h + VirtioNetHeader.GSO_TYPE_OFFSET, VirtioNetHeader.GSO_TCPV6);
            case "ufo type" -> f.setByte(h + VirtioNetHeader.GSO_TYPE_OFFSET, VirtioNetHeader.GSO_UDP);
            case "unknown type" -> f.setByte(h + VirtioNetHeader.GSO_TYPE_OFFSET, 0x33);
            case "tcp frame as udp gso" -> f.setByte(h + VirtioNetHeader.GSO_TYPE_OFFSET, VirtioNetHeader.GSO_UDP_L4);
            case "not ip" -> f.setShort(f.readerIndex() + 12, 0x88B5);
            case "csum beyond frame" -> f.setShortLE(h + VirtioNetHeader.CSUM_START_OFFSET, 30000);
            case "udp 200 segments" -> f.setShortLE(h + VirtioNetHeader.GSO_SIZE_OFFSET, 100);
            case "qinq", "udp fine" -> { }
            default -> throw new IllegalArgumentException(what);
        }
        return f;
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource({
            "gso size 1, gso-size", "gso size 87, gso-size", "gso size above mtu, gso-size",
            "tcpv6 on ipv4, gso-invalid", "ufo type, gso-invalid", "unknown type, gso-invalid", "tcp frame as udp gso, gso-invalid",
            "not ip, gso-invalid", "csum beyond frame, csum-invalid", "udp 200 segments, gso-segments",
            "qinq, ", "udp fine, "})
    void offloadMetadataAStackWouldNotMakeIsDroppedAndCountedNeverCut(String what, String reason) {
        BridgeDomain fast = new BridgeDomain(9, new NetworkSettings("fast", 1500, Duration.ofSeconds(300), 8, true), LANES);
        ChannelPort in = new ChannelPort("in", LANES);
        ChannelPort out = new ChannelPort("out", LANES);
        fast.addPort(in);
        fast.addPort(out);
        send(in, hostile(what));
        if (reason == null) {
            assertEquals(1, drain(out), what + " is what a stack makes: forwarded");
            return;
        }
        assertEquals(0, drain(out), what);
        for (DropReason r : DropReason.values()) {
            assertEquals(r.label().equals(reason) ? 1 : 0, in.drops(r), what + ": " + r.label());
        }
    }

    @Test
    void isolatedPortsReachTheGatewayButNotEachOther() {
        p1.setIsolated(true);
        p2.setIsolated(true); // p3 is the gateway: not isolated
        send(p1, Frames.frame(MacAddress.BROADCAST, A));
        assertEquals(0, drain(p2), "a broadcast from one container does not reach the other");
        assertEquals(1, drain(p3), "it reaches the gateway");
        send(p3, Frames.frame(A, C));
        assertEquals(1, drain(p1), "the gateway reaches a container");
        send(p2, Frames.frame(B, Frames.mac(0xD)));
        drain(p3);
        send(p1, Frames.frame(Frames.mac(0xD), A));
        assertEquals(0, drain(p2), "a known unicast between containers is dropped too");
        assertEquals(1, p1.drops(DropReason.ISOLATED));
        p1.setIsolated(false);
        p2.setIsolated(false);
    }
}
