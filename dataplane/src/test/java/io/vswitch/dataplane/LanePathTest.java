package io.vswitch.dataplane;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.DropReason;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.NetworkSettings;
import io.vswitch.core.Port;
import io.vswitch.core.PortCounter;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.FrameIo;
import io.vswitch.nativetap.FramePipe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fd-level tier: the real event loops, lanes and write path, with ports over socket pairs
 * that frame like a TAP (one frame per read and write), so the whole read -> learn -> decide ->
 * write path runs without root. The test holds the "container" end of every pipe.
 */
class LanePathTest {
    private static final long A = 0x02_00_00_00_00_0AL;
    private static final long B = 0x02_00_00_00_00_0BL;
    private static final long C = 0x02_00_00_00_00_0CL;

    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final List<FramePipe> pipes = new ArrayList<>();
    private final Map<Port, FramePipe> byPort = new IdentityHashMap<>();
    private final FrameIo.ErrnoSlot errno = new FrameIo.ErrnoSlot();
    private final ByteBuf io = Unpooled.directBuffer(70_000);
    private Dataplane dataplane;

    /** The I/O under test: the default (io_uring where the kernel allows it); see {@link LanePathEpollTest}. */
    Dataplane.Io io() {
        return Dataplane.Io.AUTO;
    }

    @BeforeEach
    void start() {
        dataplane = Dataplane.start(new Dataplane.Options(2, List.of(), 16, VirtioNetHeader.MAX_GSO_FRAME, 0, false,
                        io()),
                (port, domain, reason) -> failures.add(port.name() + ": " + reason));
    }

    @AfterEach
    void stop() {
        dataplane.close();
        pipes.forEach(FramePipe::close);
        io.release();
    }

    private PipePort port(BridgeDomain domain, String name, boolean vnetHeader) throws Exception {
        FramePipe pipe = FramePipe.open();
        pipes.add(pipe);
        PipePort port = new PipePort(name, pipe, vnetHeader, dataplane);
        byPort.put(port, pipe);
        dataplane.attach(domain, port, port.handles());
        return port;
    }

    private BridgeDomain network(int id, boolean offload) {
        BridgeDomain domain = new BridgeDomain(id, new NetworkSettings("n" + id, 1500, Duration.ofSeconds(300), 1024, offload),
                dataplane.lanes());
        dataplane.addDomain(domain);
        return domain;
    }

    private static byte[] frame(long dst, long src, int length, int fill) {
        ByteBuf b = Unpooled.buffer(length);
        b.writeZero(length);
        EthernetFrame.writeMac(b, 0, dst);
        EthernetFrame.writeMac(b, 6, src);
        b.setShort(12, 0x88B5); // local experimental EtherType
        for (int i = 14; i < length; i++) {
            b.setByte(i, fill + i);
        }
        byte[] bytes = ByteBufUtil.getBytes(b);
        b.release();
        return bytes;
    }

    private void send(PipePort port, byte[] bytes) {
        io.clear().writeBytes(bytes);
        assertEquals(bytes.length, FrameIo.write(pipeOf(port).peerEnd(), io.memoryAddress(), bytes.length, errno));
    }

    /** The next frame the port wrote to its container, or null within 5 s. */
    private byte[] receive(PipePort port) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            int n = FrameIo.read(pipeOf(port).peerEnd(), io.memoryAddress(), io.capacity(), errno);
            if (n >= 0) {
                byte[] out = new byte[n];
                io.getBytes(0, out);
                return out;
            }
            assertEquals(-Errno.EAGAIN, n);
            Thread.sleep(2);
        }
        return null;
    }

    private FramePipe pipeOf(PipePort port) {
        return byPort.get(port);
    }

    @Test
    void floodsABroadcastToEveryOtherPortThenForwardsTheReplyToItsLearnedPortOnly() throws Exception {
        BridgeDomain blue = network(1, false);
        PipePort a = port(blue, "a", false);
        PipePort b = port(blue, "b", false);
        PipePort c = port(blue, "c", false);

        byte[] broadcast = frame(-1L & 0xFFFF_FFFF_FFFFL, A, 60, 1);
        send(a, broadcast);
        assertArrayEquals(broadcast, receive(b));
        assertArrayEquals(broadcast, receive(c));

        byte[] reply = frame(A, B, 1000, 2);
        send(b, reply);
        assertArrayEquals(reply, receive(a), "A was learned on a: the reply goes there");
        byte[] marker = frame(-1L & 0xFFFF_FFFF_FFFFL, B, 60, 3);
        send(b, marker);
        assertArrayEquals(marker, receive(c), "c saw the marker and nothing before it: the unicast was not flooded");
        assertArrayEquals(marker, receive(a));
        assertEquals(2, b.count(PortCounter.RX_FRAMES));
        assertEquals(2, c.count(PortCounter.TX_FRAMES), "c got the two broadcasts, not the unicast");
    }

    @Test
    void aPortWhoseDeviceGoesAwayFailsOnceIsReportedAndTheOthersKeepForwarding() throws Exception {
        BridgeDomain blue = network(1, false);
        PipePort a = port(blue, "a", false);
        PipePort b = port(blue, "b", false);
        PipePort c = port(blue, "c", false);
        pipeOf(c).closePeerEnd(); // the read returns EOF: the device is gone
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (failures.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(List.of("c: read failed: EBADFD (device gone (its namespace was deleted or it was removed))"), failures);
        assertFalse(c.isUp());
        assertEquals(1, dataplane.portFailures());
        byte[] broadcast = frame(-1L & 0xFFFF_FFFF_FFFFL, A, 60, 4);
        send(a, broadcast);
        assertArrayEquals(broadcast, receive(b));
        assertEquals(0, c.drops(DropReason.TX_ERROR), "a down port is not in the flood set");
    }

    @Test
    void aGsoFrameToAPortWithoutOffloadsIsCutIntoSegmentsOnTheWay() throws Exception {
        BridgeDomain fast = network(2, true);
        PipePort in = port(fast, "in", true);
        PipePort out = port(fast, "out", false);
        int payload = 3000;
        int mss = 1000;
        ByteBuf gso = Unpooled.buffer();
        gso.writeByte(VirtioNetHeader.FLAG_NEEDS_CSUM).writeByte(VirtioNetHeader.GSO_TCPV4).writeShortLE(54)
                .writeShortLE(mss).writeShortLE(34).writeShortLE(16);
        byte[] eth = frame(B, A, 14, 0);
        gso.writeBytes(eth, 0, 12).writeShort(0x0800);
        gso.writeByte(0x45).writeByte(0).writeShort(20 + 20 + payload).writeShort(7).writeShort(0x4000)
                .writeByte(64).writeByte(6).writeShort(0).writeInt(0xC6120001).writeInt(0xC6120002);
        gso.writeShort(40000).writeShort(5201).writeInt(1000).writeInt(1).writeByte(0x50).writeByte(0x18)
                .writeShort(65535).writeShort(0).writeShort(0);
        for (int i = 0; i < payload; i++) {
            gso.writeByte(i);
        }
        byte[] bytes = ByteBufUtil.getBytes(gso);
        gso.release();
        send(in, bytes);
        int got = 0;
        for (int i = 0; i < 3; i++) {
            byte[] segment = receive(out);
            assertNotNull(segment, "segment " + i);
            assertEquals(14 + 20 + 20 + mss, segment.length, "a plain frame of one MSS");
            got += segment.length - 54;
        }
        assertEquals(payload, got);
        assertEquals(3, out.count(PortCounter.TX_FRAMES));
    }

    @Test
    void aBurstIsReadAndWrittenWithFewKernelEntriesInOrderAndCounted() throws Exception {
        BridgeDomain blue = network(3, false);
        PipePort a = port(blue, "a", false);
        PipePort b = port(blue, "b", false);
        send(b, frame(-1L & 0xFFFF_FFFF_FFFFL, B, 60, 0)); // b's address is learned
        assertNotNull(receive(a));
        long[] before = dataplane.ringCounts();
        int burst = 200;
        // The loops wait while the burst is queued, so that they find it all at once.
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        for (int lane = 0; lane < dataplane.threads(); lane++) {
            dataplane.lane(lane).loop().execute(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        for (int i = 0; i < burst; i++) {
            send(a, frame(B, A, 60 + i, i));
        }
        go.countDown();
        for (int i = 0; i < burst; i++) {
            byte[] got = receive(b);
            assertNotNull(got, "frame " + i);
            assertEquals(60 + i, got.length, "in order");
        }
        assertEquals(burst + 0L, b.count(PortCounter.TX_FRAMES), "every write counted once");
        long[] after = dataplane.ringCounts();
        if (dataplane.io() == Dataplane.Io.IO_URING) {
            assertEquals(burst, after[1] - before[1], "read through the ring");
            assertEquals(burst, after[2] - before[2], "written through the ring");
            assertTrue(after[0] - before[0] < burst, (after[0] - before[0]) + " kernel entries for " + burst
                    + " frames read and " + burst + " written");
        } else {
            assertEquals(0, after[0], "epoll I/O makes no ring");
        }
    }

    @Test
    void everyEgressQueueIsFlushedAfterEachBatchAfterTheLanesOwnWritesAndAfterWorkOutsideABatch() throws Exception {
        BridgeDomain blue = network(4, false);
        PipePort a = port(blue, "a", false);
        PipePort b = port(blue, "b", false);
        List<Long> seen = new CopyOnWriteArrayList<>();
        EgressQueue queue = lane -> seen.add(b.count(PortCounter.TX_FRAMES));
        dataplane.addEgressQueue(queue);
        send(a, frame(-1L & 0xFFFF_FFFF_FFFFL, A, 60, 5));
        assertNotNull(receive(b));
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (seen.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        assertEquals(List.of(1L), seen, "flushed once, after the lane's own write to b was sent and counted");
        Lane lane = dataplane.lane(0);
        lane.loop().submit(lane::afterWork).sync();
        assertEquals(2, seen.size(), "and after work run on the loop outside a batch");
        dataplane.removeEgressQueue(queue);
        send(a, frame(-1L & 0xFFFF_FFFF_FFFFL, A, 60, 6));
        assertNotNull(receive(b));
        lane.loop().submit(lane::afterWork).sync();
        assertEquals(2, seen.size(), "not flushed once removed");
    }
}
