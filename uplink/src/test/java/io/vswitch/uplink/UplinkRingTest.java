package io.vswitch.uplink;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.ChannelPort;
import io.vswitch.core.DropReason;
import io.vswitch.core.MacAddress;
import io.vswitch.core.NetworkSettings;
import io.vswitch.core.PortCounter;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.dataplane.Lane;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.FrameIo;
import io.vswitch.nativetap.FramePipe;
import io.vswitch.nativetap.PacketSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The uplink's data path below the system tier, without a packet socket (no CAP_NET_RAW): the
 * receive side reads a TPACKET_V3 ring laid out in memory the way the kernel fills one, on a real
 * loop, into real networks; the send side writes through sendmmsg to one end of a socket pair
 * standing for the interface, and the test reads the wire at the other end.
 */
class UplinkRingTest {
    private static final long HOST = 0x02_00_00_00_00_99L;
    private static final long A = 0x02_00_00_00_00_0AL;
    private static final long B = 0x02_00_00_00_00_0BL;
    private static final int BLOCK = 4096;
    private static final int BLOCKS = 2;
    /** Where each frame starts after its tpacket3_hdr (the kernel leaves room in front). */
    private static final int MAC = 80;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment ring = arena.allocate((long) BLOCK * BLOCKS, 4096);
    private final List<FramePipe> pipes = new ArrayList<>();
    private Dataplane dataplane;

    @BeforeEach
    void start() {
        dataplane = Dataplane.start(new Dataplane.Options(1, List.of(), 16, VirtioNetHeader.MAX_GSO_FRAME, 0, false,
                Dataplane.Io.EPOLL), (port, domain, reason) -> { });
    }

    @AfterEach
    void stop() {
        dataplane.close();
        pipes.forEach(FramePipe::close);
        arena.close();
    }

    private FramePipe pipe() throws Exception {
        FramePipe p = FramePipe.open();
        pipes.add(p);
        return p;
    }

    private BridgeDomain network(int id, boolean offload) {
        BridgeDomain d = new BridgeDomain(id, new NetworkSettings("n" + id, 1500, Duration.ofSeconds(300), 64, offload),
                dataplane.lanes());
        dataplane.addDomain(d);
        return d;
    }

    private ChannelPort container(BridgeDomain d, String name) throws Exception {
        ChannelPort c = new ChannelPort(name, dataplane.lanes());
        dataplane.attach(d, c, List.of());
        return c;
    }

    private static byte[] frame(long dst, long src, int etherType, int length) {
        ByteBuffer b = ByteBuffer.allocate(length);
        for (int i = 5; i >= 0; i--) {
            b.put((byte) (dst >>> (8 * i)));
        }
        for (int i = 5; i >= 0; i--) {
            b.put((byte) (src >>> (8 * i)));
        }
        b.putShort((short) etherType);
        for (int i = 14; i < length; i++) {
            b.put((byte) i);
        }
        return b.array();
    }

    private static byte[] tagged(byte[] plain, int tpid, int vlan) {
        ByteBuffer b = ByteBuffer.allocate(plain.length + 4);
        b.put(plain, 0, 12).putShort((short) tpid).putShort((short) vlan).put(plain, 12, plain.length - 12);
        return b.array();
    }

    /** One frame as the kernel leaves it in a block: its length, what it captured, and a tag it took out. */
    private record Captured(byte[] bytes, int wireLength, int vlanTci) {
        Captured(byte[] bytes) {
            this(bytes, bytes.length, -1);
        }
    }

    /** Fills block {@code block} with {@code frames} and hands it to user space, as the kernel does. */
    private void fill(int block, Captured... frames) {
        long b = (long) block * BLOCK;
        long at = b + 48;
        ring.set(JAVA_INT, b + PacketSocket.BLOCK_NUM_PKTS, frames.length);
        ring.set(JAVA_INT, b + PacketSocket.BLOCK_FIRST, 48);
        for (int i = 0; i < frames.length; i++) {
            Captured f = frames[i];
            int size = (MAC + f.bytes().length + 15) & ~15;
            ring.set(JAVA_INT, at + PacketSocket.PKT_NEXT, i == frames.length - 1 ? 0 : size);
            ring.set(JAVA_INT, at + PacketSocket.PKT_SNAPLEN, f.bytes().length);
            ring.set(JAVA_INT, at + PacketSocket.PKT_LEN, f.wireLength());
            ring.set(JAVA_INT, at + PacketSocket.PKT_STATUS, f.vlanTci() >= 0 ? PacketSocket.TP_STATUS_VLAN_VALID : 0);
            ring.set(JAVA_SHORT, at + PacketSocket.PKT_MAC, (short) MAC);
            ring.set(JAVA_INT, at + PacketSocket.PKT_VLAN_TCI, Math.max(0, f.vlanTci()));
            MemorySegment.copy(f.bytes(), 0, ring, JAVA_BYTE, at + MAC, f.bytes().length);
            at += size;
        }
        ring.set(JAVA_INT, b + PacketSocket.BLOCK_STATUS, PacketSocket.TP_STATUS_USER);
    }

    private int blockStatus(int block) {
        return ring.get(JAVA_INT, (long) block * BLOCK + PacketSocket.BLOCK_STATUS);
    }

    /** The loop reads the ring as it would when epoll said the socket is readable. */
    private void read(UplinkQueue queue) throws Exception {
        Lane lane = dataplane.lane(0);
        lane.loop().submit(() -> queue.ready(lane, false)).sync();
    }

    private static byte[] next(ChannelPort port) {
        ByteBuf b = port.poll();
        assertNotNull(b, "a frame at " + port.name());
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    @Test
    void anAccessUplinkHandsFramesOnAsTheyAreAndPutsBackATagTheInterfaceTookOut() throws Exception {
        FramePipe wire = pipe();
        UplinkDevice device = UplinkDevice.over("eth9", false, false, dataplane, new int[] {wire.portEnd()}, HOST);
        UplinkPort up = device.add(UplinkPort.ACCESS);
        BridgeDomain net = network(1, false);
        dataplane.attach(net, up, List.of());
        ChannelPort c = container(net, "c");
        UplinkQueue queue = new UplinkQueue(device, null, new RxRing(wire.portEnd(), ring, BLOCK, BLOCKS, HOST), 16);

        byte[] plain = frame(MacAddress.BROADCAST, A, 0x0800, 100);
        byte[] toHost = frame(HOST, A, 0x0800, 100);
        byte[] stripped = frame(B, A, 0x0800, 100);
        fill(0, new Captured(plain), new Captured(toHost), new Captured(stripped, 100, 0x2014),
                new Captured(frame(B, A, 0x0800, 200), 9000, -1));
        read(queue);

        assertArrayEquals(plain, next(c));
        assertArrayEquals(tagged(stripped, 0x8100, 0x2014), next(c), "the tag (priority 1, vlan 20) is back in place");
        assertEquals(0, c.pending());
        assertEquals(1, up.drops(DropReason.TO_HOST), "for the host's own stack");
        assertEquals(1, up.drops(DropReason.OVERSIZE), "cut short by the ring");
        assertEquals(PacketSocket.TP_STATUS_KERNEL, blockStatus(0), "the block went back to the kernel");

        fill(1, new Captured(plain));
        read(queue);
        assertArrayEquals(plain, next(c), "the next block follows");
        assertEquals(3, up.count(PortCounter.RX_FRAMES), "the frames that reached the network");
    }

    @Test
    void aTrunkSendsEachVlansFramesToItsNetworkUntaggedAndCountsTheRest() throws Exception {
        FramePipe wire = pipe();
        UplinkDevice device = UplinkDevice.over("eth9", true, false, dataplane, new int[] {wire.portEnd()}, HOST);
        UplinkPort nativePort = device.add(UplinkPort.NATIVE);
        UplinkPort ten = device.add(10);
        BridgeDomain n0 = network(1, false);
        BridgeDomain n10 = network(2, false);
        dataplane.attach(n0, nativePort, List.of());
        dataplane.attach(n10, ten, List.of());
        ChannelPort c0 = container(n0, "c0");
        ChannelPort c10 = container(n10, "c10");
        UplinkQueue queue = new UplinkQueue(device, null, new RxRing(wire.portEnd(), ring, BLOCK, BLOCKS, HOST), 16);

        byte[] untagged = frame(MacAddress.BROADCAST, A, 0x0800, 80);
        byte[] inTen = frame(MacAddress.BROADCAST, B, 0x88B5, 80);
        fill(0, new Captured(untagged), new Captured(tagged(inTen, 0x8100, 10)), new Captured(inTen, 80, 10),
                new Captured(tagged(inTen, 0x8100, 30)), new Captured(tagged(inTen, 0x88A8, 10)));
        read(queue);

        assertArrayEquals(untagged, next(c0));
        assertEquals(0, c0.pending());
        assertArrayEquals(inTen, next(c10), "tag popped");
        assertArrayEquals(inTen, next(c10), "tag taken out by the interface");
        assertArrayEquals(inTen, next(c10), "an 802.1ad tag too");
        assertEquals(1, nativePort.drops(DropReason.VLAN_UNKNOWN), "vlan 30 is no network's");
    }

    @Test
    void aTrunkPushesEachNetworksTagOnTheWireAndLeavesTheNativeOneUntagged() throws Exception {
        FramePipe wire = pipe();
        UplinkDevice device = UplinkDevice.over("eth9", true, false, dataplane, new int[] {wire.portEnd()}, HOST);
        UplinkPort nativePort = device.add(UplinkPort.NATIVE);
        UplinkPort ten = device.add(10);
        BridgeDomain n0 = network(1, false);
        BridgeDomain n10 = network(2, false);
        dataplane.attach(n0, nativePort, List.of());
        dataplane.attach(n10, ten, List.of());
        ChannelPort c0 = container(n0, "c0");
        ChannelPort c10 = container(n10, "c10");

        byte[] f10 = frame(MacAddress.BROADCAST, A, 0x0800, 90);
        byte[] f0 = frame(MacAddress.BROADCAST, B, 0x0800, 90);
        inject(c10, f10, false);
        assertArrayEquals(tagged(f10, 0x8100, 10), wire(wire, 200));
        inject(c0, f0, false);
        assertArrayEquals(f0, wire(wire, 200));
        assertEquals(1, ten.count(PortCounter.TX_FRAMES));
        assertEquals(1, nativePort.count(PortCounter.TX_FRAMES));
    }

    @Test
    void withVirtioNetHeadersTheHeaderGoesFirstItsOffsetsMovedByThePushedTag() throws Exception {
        FramePipe wire = pipe();
        UplinkDevice device = UplinkDevice.over("eth9", true, true, dataplane, new int[] {wire.portEnd()}, HOST);
        UplinkPort ten = device.add(10);
        BridgeDomain n10 = network(2, true);
        dataplane.attach(n10, ten, List.of());
        ChannelPort c10 = container(n10, "c10");

        byte[] f = frame(MacAddress.BROADCAST, A, 0x0800, 120);
        inject(c10, f, true);
        byte[] out = wire(wire, 300);
        assertEquals(VirtioNetHeader.LENGTH + 4 + f.length, out.length);
        ByteBuffer h = ByteBuffer.wrap(out, 0, VirtioNetHeader.LENGTH).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(VirtioNetHeader.FLAG_NEEDS_CSUM, h.get(0));
        assertEquals(34 + 4, h.getShort(VirtioNetHeader.CSUM_START_OFFSET), "csum_start counts from the tagged frame's start");
        assertEquals(16, h.getShort(VirtioNetHeader.CSUM_OFFSET_OFFSET));
        byte[] frameOut = java.util.Arrays.copyOfRange(out, VirtioNetHeader.LENGTH, out.length);
        assertArrayEquals(tagged(f, 0x8100, 10), frameOut);
    }

    @Test
    void aVirtioNetHeadersOffsetsFollowATagPushedOrPoppedInFrontOfThem() {
        MemorySegment h = arena.allocate(VirtioNetHeader.LENGTH);
        java.lang.foreign.ValueLayout.OfShort le = JAVA_SHORT.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
        h.set(JAVA_BYTE, 0, (byte) VirtioNetHeader.FLAG_NEEDS_CSUM);
        h.set(JAVA_BYTE, 1, (byte) VirtioNetHeader.GSO_TCPV4);
        h.set(le, VirtioNetHeader.HDR_LEN_OFFSET, (short) 66);
        h.set(le, VirtioNetHeader.GSO_SIZE_OFFSET, (short) 1448);
        h.set(le, VirtioNetHeader.CSUM_START_OFFSET, (short) 34);
        h.set(le, VirtioNetHeader.CSUM_OFFSET_OFFSET, (short) 16);
        UplinkDevice.fixHeader(h, 0, +4);
        assertEquals(70, h.get(le, VirtioNetHeader.HDR_LEN_OFFSET));
        assertEquals(38, h.get(le, VirtioNetHeader.CSUM_START_OFFSET));
        assertEquals(1448, h.get(le, VirtioNetHeader.GSO_SIZE_OFFSET), "the segment size is the payload's: unchanged");
        assertEquals(16, h.get(le, VirtioNetHeader.CSUM_OFFSET_OFFSET), "counted from csum_start: unchanged");
        UplinkDevice.fixHeader(h, 0, -4);
        assertEquals(66, h.get(le, VirtioNetHeader.HDR_LEN_OFFSET));
        assertEquals(34, h.get(le, VirtioNetHeader.CSUM_START_OFFSET));
        h.set(JAVA_BYTE, 0, (byte) 0);
        h.set(JAVA_BYTE, 1, (byte) VirtioNetHeader.GSO_NONE);
        UplinkDevice.fixHeader(h, 0, +4);
        assertEquals(34, h.get(le, VirtioNetHeader.CSUM_START_OFFSET), "offsets nobody uses are left alone");
    }

    /** Forwards {@code bytes} as if read from {@code from}, on the loop, with a NEEDS_CSUM header when {@code vnet}. */
    private void inject(ChannelPort from, byte[] bytes, boolean vnet) throws Exception {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(Lane.HEADROOM + bytes.length);
        try {
            buf.writerIndex(Lane.HEADROOM).readerIndex(Lane.HEADROOM).writeBytes(bytes);
            VirtioNetHeader.clear(buf);
            if (vnet) {
                int h = buf.readerIndex() - VirtioNetHeader.LENGTH;
                buf.setByte(h, VirtioNetHeader.FLAG_NEEDS_CSUM);
                buf.setShortLE(h + VirtioNetHeader.CSUM_START_OFFSET, 34);
                buf.setShortLE(h + VirtioNetHeader.CSUM_OFFSET_OFFSET, 16);
            }
            Lane lane = dataplane.lane(0);
            lane.loop().submit(() -> lane.process(from, new ByteBuf[] {buf}, 1)).sync();
        } finally {
            buf.release();
        }
    }

    /** The next frame on the wire, read from the pipe's other end. */
    private static byte[] wire(FramePipe wire, int capacity) throws Exception {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(capacity);
            FrameIo.ErrnoSlot errno = new FrameIo.ErrnoSlot();
            long deadline = System.nanoTime() + 5_000_000_000L;
            for (;;) {
                int n = FrameIo.read(wire.peerEnd(), m.address(), capacity, errno);
                if (n >= 0) {
                    return m.asSlice(0, n).toArray(JAVA_BYTE);
                }
                assertEquals(-Errno.EAGAIN, n);
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("nothing on the wire within 5 s");
                }
                Thread.sleep(2);
            }
        }
    }
}
