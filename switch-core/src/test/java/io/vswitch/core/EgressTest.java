package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The egress adapter: an offload network's frames fitted to each port's form, through the pipeline. */
class EgressTest {
    private static final int LANES = 2;
    private static final long NOW = 3_000_000_000_000L;
    private final BridgeDomain fast = new BridgeDomain(9, new NetworkSettings("fast", 1500, Duration.ofSeconds(300), 8, true),
            LANES);
    private final ChannelPort in = new ChannelPort("in", LANES);
    private final ChannelPort whole = new ChannelPort("whole", LANES);
    private final ChannelPort plain = ChannelPort.plain("plain", LANES);
    private final Pipeline pipeline = new Pipeline(0, 8);

    EgressTest() {
        fast.addPort(in);
        fast.addPort(whole);
        fast.addPort(plain);
    }

    @AfterEach
    void tearDown() {
        in.clear();
        whole.clear();
        plain.clear();
        pipeline.release();
    }

    private void send(ByteBuf frame) {
        pipeline.process(in, new ByteBuf[] {frame}, 1, NOW);
        frame.release();
    }

    @Test
    void aGsoFrameGoesWholeToAPortWithOffloadsAndCutToOneWithout() {
        send(SegmenterTestSupport.gsoFrame(false, false, false, 60000, 1448, 0x18));
        assertEquals(1, whole.pending());
        assertEquals((60000 + 1447) / 1448, plain.pending(), "one frame per segment");
        ByteBuf first = plain.poll();
        assertEquals(14 + 20 + 32 + 1448, first.readableBytes());
        first.release();
        assertEquals((60000 + 1447) / 1448, plain.count(PortCounter.TX_FRAMES));
    }

    @Test
    void aChecksumLeftToDoIsFinishedForAPortWithoutOffloadsAndSaysSoToTheOthers() {
        ByteBuf f = SegmenterTestSupport.gsoFrame(false, true, false, 200, 1448, 0);
        f.setByte(f.readerIndex() - VirtioNetHeader.LENGTH + VirtioNetHeader.GSO_TYPE_OFFSET, VirtioNetHeader.GSO_NONE);
        int header = f.readerIndex() - VirtioNetHeader.LENGTH;
        f.setShortLE(header + VirtioNetHeader.CSUM_START_OFFSET, 14 + 20);
        f.setShortLE(header + VirtioNetHeader.CSUM_OFFSET_OFFSET, 6);
        send(f);
        ByteBuf out = plain.poll();
        assertNotEquals(0, out.getUnsignedShort(14 + 20 + 6), "the UDP checksum is filled in");
        out.release();
        assertEquals(1, whole.pending());
    }

    @Test
    void aNetworkWithoutOffloadsSendsFramesAsTheyAre() {
        BridgeDomain slow = new BridgeDomain(3, NetworkSettings.defaults("slow"), LANES);
        ChannelPort a = ChannelPort.plain("a", LANES);
        ChannelPort b = ChannelPort.plain("b", LANES);
        slow.addPort(a);
        slow.addPort(b);
        ByteBuf f = Frames.frame(MacAddress.BROADCAST, Frames.mac(1), 0x0800, 1500);
        pipeline.process(a, new ByteBuf[] {f}, 1, NOW);
        f.release();
        assertEquals(1, b.pending());
        b.clear();
    }
}
