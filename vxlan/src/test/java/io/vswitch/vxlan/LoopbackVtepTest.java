package io.vswitch.vxlan;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.ChannelPort;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.MacAddress;
import io.vswitch.core.MacTable;
import io.vswitch.core.NetworkSettings;
import io.vswitch.core.Port;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.dataplane.Lane;
import io.vswitch.nativetap.DatagramBatch;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.UdpSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Two VTEPs in one process, on loopback addresses 127.0.0.1 and 127.0.0.2 (no root, no device):
 * the real sender (sendmmsg, UDP GSO) and receivers (recvmsg with UDP GRO, decapsulation,
 * coalescing) on the real loops, with in-memory ports as the containers.
 */
class LoopbackVtepTest {
    private static final int VNI = 42;
    private static final long A = 0x02_00_00_00_00_0AL;
    private static final long B = 0x02_00_00_00_00_0BL;
    private static final Inet4Address HOST_A = (Inet4Address) InetAddress.ofLiteral("127.0.0.1");
    private static final Inet4Address HOST_B = (Inet4Address) InetAddress.ofLiteral("127.0.0.2");

    /** One host: its data plane, VTEP, overlay network and container port. */
    private static final class Host {
        final Dataplane dataplane;
        final VxlanEndpoint vtep;
        final BridgeDomain domain;
        final ChannelPort container;

        Host(Inet4Address local, int udpPort, boolean offload) throws Exception {
            dataplane = Dataplane.start(new Dataplane.Options(1, List.of(), 16, VirtioNetHeader.MAX_GSO_FRAME, 0, false),
                    (port, d, reason) -> { });
            vtep = VxlanEndpoint.start(dataplane, new VxlanEndpoint.Options(local, udpPort, 2, 1500 + 18));
            domain = new BridgeDomain(1, new NetworkSettings("ov", 1450, Duration.ofSeconds(300), 64, offload),
                    dataplane.lanes());
            dataplane.addDomain(domain);
            container = new ChannelPort("c", dataplane.lanes());
            dataplane.attach(domain, container, List.of());
            vtep.overlays().add(domain, VNI);
        }

        /** Forwards {@code frame} as if read from the container, on the loop's lane. */
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
    private int udpPort;
    private Host a;
    private Host b;

    @BeforeEach
    void start() throws Exception {
        start(false);
    }

    private void start(boolean offload) throws Exception {
        for (int tries = 0; ; tries++) {
            udpPort = ThreadLocalRandom.current().nextInt(20_000, 60_000);
            try {
                a = new Host(HOST_A, udpPort, offload);
                b = new Host(HOST_B, udpPort, offload);
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

    /** A frame in a direct buffer with headroom, as a lane's ring holds it. */
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
    void aFrameCrossesToThePeerUnchangedAndItsSourceIsLearnedBehindTheTunnel() throws Exception {
        ByteBuf sent = frame(MacAddress.BROADCAST, A, 200);
        a.inject(sent);
        ByteBuf got = next(b.container);
        try {
            assertArrayEquals(ByteBufUtil.getBytes(sent), ByteBufUtil.getBytes(got));
        } finally {
            got.release();
        }
        long entry = b.domain.table().lookup(A);
        assertNotEquals(0, entry, "A was learned on B");
        Port at = b.domain.port(MacTable.portId(entry));
        assertEquals("vxlan:127.0.0.1", at.name());
        assertEquals("127.0.0.1", at.remote());
        assertEquals(1, a.vtep.count(TunnelCounter.TX_DATAGRAMS));
        await("B counted the datagram", () -> b.vtep.count(TunnelCounter.RX_DATAGRAMS) == 1);
    }

    @Test
    void datagramsFromStrangersWithUnknownVnisOrTooShortAreDroppedByReason() throws Exception {
        Inet4Address stranger = (Inet4Address) InetAddress.ofLiteral("127.0.0.3");
        try (UdpSocket s = UdpSocket.bind(VxlanEndpoint.ipv4(stranger), 0, 1 << 16, false);
             UdpSocket fromA = UdpSocket.bind(VxlanEndpoint.ipv4(HOST_A), 0, 1 << 16, false)) {
            DatagramBatch batch = new DatagramBatch(4);
            ByteBuf inner = frame(B, A, 60);
            long to = DatagramBatch.destination(HOST_B, udpPort);
            long address = inner.memoryAddress() + inner.readerIndex();
            long good = ((long) VxlanHeader.FLAG_I << 56) | ((long) VNI << 8);
            batch.add(good, address, 60, to);
            assertEquals(1, batch.flush(s.fd()));
            await("unknown peer", () -> b.vtep.count(TunnelCounter.DROP_UNKNOWN_PEER) == 1);
            batch.add(((long) VxlanHeader.FLAG_I << 56) | (43L << 8), address, 60, to);
            batch.add(VNI << 8, address, 60, to);          // I flag clear
            batch.add(good, address, 10, to);               // 8 + 10 bytes: shorter than a frame
            assertEquals(3, batch.flush(fromA.fd()));
            await("unknown vni", () -> b.vtep.count(TunnelCounter.DROP_UNKNOWN_VNI) == 1);
            await("no I flag", () -> b.vtep.count(TunnelCounter.DROP_NO_VNI_FLAG) == 1);
            await("short", () -> b.vtep.count(TunnelCounter.DROP_SHORT) == 1);
            assertEquals(0, b.container.pending(), "nothing reached the container");
        }
    }

    @Test
    void changingPeersAtRunTimeAddsAndRemovesTunnelsAndForgetsTheMacsBehindARemovedOne() throws Exception {
        a.inject(frame(MacAddress.BROADCAST, A, 60));
        next(b.container).release();
        assertNotEquals(0, b.domain.table().lookup(A));

        Overlays.PeerChange change = b.vtep.overlays().setPeers(VNI, List.of());
        assertEquals(1, change.removed().size());
        assertEquals(0, b.domain.table().lookup(A), "the MAC behind the removed peer is forgotten");
        assertEquals(List.of(b.container), b.domain.ports(), "only the container's port is left");

        a.inject(frame(MacAddress.BROADCAST, A, 60));
        await("a peer no longer listed is not heard", () -> b.vtep.count(TunnelCounter.DROP_UNKNOWN_PEER) == 1);

        b.vtep.overlays().setPeers(VNI, List.of(HOST_A));
        a.inject(frame(MacAddress.BROADCAST, A, 60));
        next(b.container).release();
        assertEquals(2, b.domain.ports().size());
    }

    @Test
    void aGsoFrameLeavesInSegmentsAndArrivesWithAllItsPayload() throws Exception {
        stop();
        start(true);
        int payload = 8 * 1400;
        ByteBuf gso = frame(B, A, 14 + 20 + 20 + payload);
        int at = gso.readerIndex();
        gso.setShort(at + 12, 0x0800);
        gso.setByte(at + 14, 0x45);
        gso.setShort(at + 16, 40 + payload);
        gso.setShort(at + 20, 0x4000); // DF, not a fragment: the segments may be joined again
        gso.setByte(at + 22, 64);
        gso.setByte(at + 23, 6);
        gso.setInt(at + 26, 0xC6120001);
        gso.setInt(at + 30, 0xC6120002);
        gso.setShort(at + 34, 40000);
        gso.setShort(at + 36, 5201);
        gso.setInt(at + 38, 1);
        gso.setInt(at + 42, 1);
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
        a.inject(gso);
        await("8 datagrams sent", () -> a.vtep.count(TunnelCounter.TX_DATAGRAMS) == 8);
        byte[] expected = new byte[payload];
        gso.getBytes(at + 54, expected);
        byte[] got = new byte[payload];
        int received = 0;
        while (received < payload) {
            ByteBuf f = next(b.container);
            try {
                int n = f.readableBytes() - 54;
                assertEquals(B, EthernetFrame.destination(f));
                f.getBytes(f.readerIndex() + 54, got, received, n);
                received += n;
            } finally {
                f.release();
            }
        }
        assertEquals(payload, received);
        assertArrayEquals(expected, got, "the payload arrives whole and in order");
        assertEquals(8, b.vtep.count(TunnelCounter.RX_DATAGRAMS));
        assertEquals(0, b.vtep.count(TunnelCounter.RX_COPIED),
                "every frame was handed on from its read buffer, the segments of a read joined in place");
    }
}
