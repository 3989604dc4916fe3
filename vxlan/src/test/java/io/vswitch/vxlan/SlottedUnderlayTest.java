package io.vswitch.vxlan;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.ChannelPort;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.MacAddress;
import io.vswitch.core.NetworkSettings;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.dataplane.Lane;
import io.vswitch.nativetap.DatagramBatch;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.SegmentedDatagram;
import io.vswitch.nativetap.UdpSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A transport slotted in under the encapsulation, as an encrypting one would be: every datagram
 * is scrambled on its way to the UDP sockets and unscrambled on arrival ({@link Scrambled}, a
 * stand-in for a cipher), and it takes no GSO runs. Two VTEPs on loopback, no root. Nothing above
 * the {@link Underlay} changes: the same VXLAN, tunnel ports, batching and segmentation.
 */
class SlottedUnderlayTest {
    private static final int VNI = 42;
    private static final long A = 0x02_00_00_00_00_0AL;
    private static final long B = 0x02_00_00_00_00_0BL;
    private static final Inet4Address HOST_A = (Inet4Address) InetAddress.ofLiteral("127.0.0.1");
    private static final Inet4Address HOST_B = (Inet4Address) InetAddress.ofLiteral("127.0.0.2");
    private static final byte KEY = 0x5A;

    /**
     * An underlay that copies each datagram into memory of its own, every byte XORed with a key,
     * and hands that to plain UDP; on arrival it XORs what it read back in place. Per lane a
     * staging buffer holds what is queued until the lane flushes.
     */
    static final class Scrambled implements Underlay {
        private final UdpUnderlay udp;
        private final ByteBuf[] staging;

        Scrambled(UdpUnderlay udp, int lanes) {
            this.udp = udp;
            this.staging = new ByteBuf[lanes];
            for (int i = 0; i < lanes; i++) {
                staging[i] = PooledByteBufAllocator.DEFAULT.directBuffer(1 << 21);
            }
        }

        @Override
        public int send(int lane, int entropy, long header, long address, int length, long destination) {
            ByteBuf s = staging[lane];
            int dropped = 0;
            if (s.writableBytes() < length) {
                dropped = flush(lane);
            }
            int at = s.writerIndex();
            MemorySegment from = MemorySegment.ofAddress(address).reinterpret(length);
            for (int i = 0; i < length; i++) {
                s.writeByte(from.get(ValueLayout.JAVA_BYTE, i) ^ KEY);
            }
            long key = 0x0101_0101_0101_0101L * (KEY & 0xFF);
            return dropped + udp.send(lane, entropy, header ^ key, s.memoryAddress() + at, length, destination);
        }

        @Override
        public int flush(int lane) {
            int dropped = udp.flush(lane);
            staging[lane].clear();
            return dropped;
        }

        @Override
        public boolean takesSegments() {
            return false;
        }

        @Override
        public boolean sendSegments(int lane, int entropy, SegmentedDatagram run, long destination, int segmentSize) {
            throw new AssertionError("takes no runs");
        }

        @Override
        public DatagramSource openReceiver(int loop) throws NativeCallException {
            DatagramSource plain = udp.openReceiver(loop);
            return new DatagramSource() {
                @Override
                public int fd() {
                    return plain.fd();
                }

                @Override
                public int receive(long address, int capacity) {
                    int n = plain.receive(address, capacity);
                    if (n > 0) {
                        MemorySegment m = MemorySegment.ofAddress(address).reinterpret(n);
                        for (int i = 0; i < n; i++) {
                            m.set(ValueLayout.JAVA_BYTE, i, (byte) (m.get(ValueLayout.JAVA_BYTE, i) ^ KEY));
                        }
                    }
                    return n;
                }

                @Override
                public int segmentSize() {
                    return plain.segmentSize();
                }

                @Override
                public boolean truncated() {
                    return plain.truncated();
                }

                @Override
                public int sourceAddress() {
                    return plain.sourceAddress();
                }

                @Override
                public void close() {
                    plain.close();
                }
            };
        }

        @Override
        public void close() {
            udp.close();
            for (ByteBuf s : staging) {
                s.release();
            }
        }
    }

    /**
     * Plain UDP that takes no GSO runs, as a path where the kernel refused UDP GSO: segments are
     * cut whole into the sender's scratch and queued where they lie, without a copy.
     */
    static final class NoRuns implements Underlay {
        private final UdpUnderlay udp;

        NoRuns(UdpUnderlay udp) {
            this.udp = udp;
        }

        @Override
        public int send(int lane, int entropy, long header, long address, int length, long destination) {
            return udp.send(lane, entropy, header, address, length, destination);
        }

        @Override
        public int flush(int lane) {
            return udp.flush(lane);
        }

        @Override
        public boolean takesSegments() {
            return false;
        }

        @Override
        public boolean sendSegments(int lane, int entropy, SegmentedDatagram run, long destination, int segmentSize) {
            throw new AssertionError("takes no runs");
        }

        @Override
        public DatagramSource openReceiver(int loop) throws NativeCallException {
            return udp.openReceiver(loop);
        }

        @Override
        public void close() {
            udp.close();
        }
    }

    private static final class Host {
        final Dataplane dataplane;
        final VxlanEndpoint vtep;
        final BridgeDomain domain;
        final ChannelPort container;

        Host(Inet4Address local, int udpPort, boolean scrambled) throws Exception {
            dataplane = Dataplane.start(new Dataplane.Options(1, List.of(), 16, VirtioNetHeader.MAX_GSO_FRAME, 0, false),
                    (port, d, reason) -> { });
            try {
                UdpUnderlay udp = UdpUnderlay.open(VxlanEndpoint.ipv4(local), udpPort, 2, dataplane.threads(), true);
                vtep = VxlanEndpoint.start(dataplane, new VxlanEndpoint.Options(local, udpPort, 2, 1500 + 18),
                        scrambled ? new Scrambled(udp, dataplane.lanes()) : new NoRuns(udp));
            } catch (NativeCallException e) {
                dataplane.close();
                throw e;
            }
            domain = new BridgeDomain(1, new NetworkSettings("ov", 1450, Duration.ofSeconds(300), 64, true),
                    dataplane.lanes());
            dataplane.addDomain(domain);
            container = new ChannelPort("c", dataplane.lanes());
            dataplane.attach(domain, container, List.of());
            vtep.overlays().add(domain, VNI);
        }

        void inject(ByteBuf frame) throws Exception {
            Lane lane = dataplane.lane(0);
            lane.loop().submit(() -> lane.process(container, new ByteBuf[] {frame}, 1)).sync();
        }

        void close() {
            dataplane.close();
            vtep.close();
            container.clear();
        }
    }

    private final List<ByteBuf> buffers = new ArrayList<>();
    private Host a;
    private Host b;
    private int udpPort;

    private void start(boolean scrambled) throws Exception {
        for (int tries = 0; ; tries++) {
            udpPort = ThreadLocalRandom.current().nextInt(20_000, 60_000);
            try {
                a = new Host(HOST_A, udpPort, scrambled);
                b = new Host(HOST_B, udpPort, scrambled);
                break;
            } catch (NativeCallException e) {
                stop();
                if (e.errno() != Errno.EADDRINUSE || tries > 20) {
                    throw e;
                }
            }
        }
        a.vtep.overlays().setPeers(VNI, List.of(HOST_B));
        b.vtep.overlays().setPeers(VNI, List.of(HOST_A));
    }

    @AfterEach
    void stop() {
        if (a != null) {
            a.close();
            a = null;
        }
        if (b != null) {
            b.close();
            b = null;
        }
        buffers.forEach(ByteBuf::release);
        buffers.clear();
    }

    private ByteBuf frame(long dst, long src, int length) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(Lane.HEADROOM + length);
        buffers.add(buf);
        buf.writerIndex(Lane.HEADROOM).readerIndex(Lane.HEADROOM);
        buf.writeZero(length);
        EthernetFrame.writeMac(buf, Lane.HEADROOM, dst);
        EthernetFrame.writeMac(buf, Lane.HEADROOM + 6, src);
        buf.setShort(Lane.HEADROOM + 12, 0x88B5);
        for (int i = 14; i < length; i++) {
            buf.setByte(Lane.HEADROOM + i, i);
        }
        VirtioNetHeader.clear(buf);
        return buf;
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 5 s: " + what);
            }
            Thread.sleep(2);
        }
    }

    private static ByteBuf next(ChannelPort port) throws InterruptedException {
        await("a frame at " + port.name(), () -> port.pending() > 0);
        return port.poll();
    }

    @Test
    void framesCrossThroughTheSlottedTransportAndDatagramsInClearAreNotHeard() throws Exception {
        start(true);
        ByteBuf sent = frame(MacAddress.BROADCAST, A, 300);
        a.inject(sent);
        ByteBuf got = next(b.container);
        try {
            assertArrayEquals(ByteBufUtil.getBytes(sent), ByteBufUtil.getBytes(got));
        } finally {
            got.release();
        }
        try (UdpSocket fromA = UdpSocket.bind(VxlanEndpoint.ipv4(HOST_A), 0, 1 << 16, false)) {
            DatagramBatch clear = new DatagramBatch(1);
            ByteBuf inner = frame(B, A, 60);
            clear.add(((long) VxlanHeader.FLAG_I << 56) | ((long) VNI << 8), inner.memoryAddress() + inner.readerIndex(),
                    60, DatagramBatch.destination(HOST_B, udpPort));
            assertEquals(1, clear.flush(fromA.fd()));
            await("a VXLAN datagram in clear is not the transport's", () ->
                    b.vtep.count(TunnelCounter.DROP_NO_VNI_FLAG) + b.vtep.count(TunnelCounter.DROP_UNKNOWN_VNI) == 1);
        }
        assertEquals(0, b.container.pending());
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "scrambled {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void gsoFramesAreCutWholeForATransportThatTakesNoRunsAndArriveWhole(boolean scrambled) throws Exception {
        start(scrambled);
        int payload = 8 * 1400;
        ByteBuf gso = frame(B, A, 14 + 20 + 20 + payload);
        int at = gso.readerIndex();
        gso.setShort(at + 12, 0x0800);
        gso.setByte(at + 14, 0x45);
        gso.setShort(at + 16, 40 + payload);
        gso.setShort(at + 20, 0x4000);
        gso.setByte(at + 22, 64);
        gso.setByte(at + 23, 6);
        gso.setInt(at + 26, 0xC6120001);
        gso.setInt(at + 30, 0xC6120002);
        gso.setShort(at + 34, 40000);
        gso.setShort(at + 36, 5201);
        gso.setInt(at + 38, 1);
        gso.setByte(at + 46, 0x50);
        gso.setByte(at + 47, 0x10);
        gso.setShort(at + 48, 1000);
        int h = at - VirtioNetHeader.LENGTH;
        gso.setByte(h, VirtioNetHeader.FLAG_NEEDS_CSUM);
        gso.setByte(h + VirtioNetHeader.GSO_TYPE_OFFSET, VirtioNetHeader.GSO_TCPV4);
        gso.setShortLE(h + VirtioNetHeader.HDR_LEN_OFFSET, 54);
        gso.setShortLE(h + VirtioNetHeader.GSO_SIZE_OFFSET, 1400);
        gso.setShortLE(h + VirtioNetHeader.CSUM_START_OFFSET, 34);
        gso.setShortLE(h + VirtioNetHeader.CSUM_OFFSET_OFFSET, 16);
        // Two in one batch, of other payloads: the second is cut in the same scratch, once the
        // first's segments were sent.
        ByteBuf second = gso.copy(0, gso.capacity()).setIndex(gso.readerIndex(), gso.writerIndex());
        buffers.add(second);
        for (int i = 0; i < payload; i++) {
            second.setByte(at + 54 + i, ~gso.getByte(at + 54 + i));
        }
        Lane lane = a.dataplane.lane(0);
        lane.loop().submit(() -> lane.process(a.container, new ByteBuf[] {gso, second}, 2)).sync();
        for (ByteBuf frame : List.of(gso, second)) {
            byte[] expected = new byte[payload];
            frame.getBytes(at + 54, expected);
            byte[] got = new byte[payload];
            int received = 0;
            while (received < payload) {
                ByteBuf f = next(b.container);
                try {
                    int n = f.readableBytes() - 54;
                    f.getBytes(f.readerIndex() + 54, got, received, n);
                    received += n;
                } finally {
                    f.release();
                }
            }
            assertArrayEquals(expected, got, "each arrives whole and in order");
        }
        assertEquals(16, a.vtep.count(TunnelCounter.TX_DATAGRAMS));
    }
}
