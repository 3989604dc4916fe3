package io.vswitch.tapio;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.NetworkSettings;
import io.vswitch.core.PortCounter;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.FrameIo;
import io.vswitch.nativetap.FramePipe;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.TapDevice;
import io.vswitch.nativetap.TapOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TAP ports at the fd level, without root or a device: each queue of a {@link TapPort} is one end
 * of a socket pair that frames as a TAP does ({@link TapDevice#overFrameFd}); the test holds the
 * container's ends. Two loops, so a port has a queue per loop as a multi-queue TAP does.
 */
class TapPortTest {
    private static final long A = 0x02_00_00_00_00_0AL;
    private static final long B = 0x02_00_00_00_00_0BL;
    private static final long BROADCAST = 0xFFFF_FFFF_FFFFL;

    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final List<FramePipe> pipes = new ArrayList<>();
    private final FrameIo.ErrnoSlot errno = new FrameIo.ErrnoSlot();
    private final ByteBuf io = Unpooled.directBuffer(70_000);
    private Dataplane dataplane;

    @BeforeEach
    void start() {
        dataplane = Dataplane.start(new Dataplane.Options(2, List.of(), 16, VirtioNetHeader.MAX_GSO_FRAME, 0, false),
                (port, domain, reason) -> failures.add(port.name() + ": " + reason));
    }

    @AfterEach
    void stop() {
        dataplane.close(); // closes the ports, and so their ends of the pipes
        for (FramePipe p : pipes) {
            p.closePeerEnd();
        }
        io.release();
    }

    /** A TAP port of {@code queues} queues, attached to {@code domain}; its pipes' peer ends are the container's. */
    private TapPort port(BridgeDomain domain, String name, int queues, boolean vnet) throws Exception {
        List<TapDevice> devices = new ArrayList<>();
        for (int i = 0; i < queues; i++) {
            FramePipe p = FramePipe.open();
            pipes.add(p);
            devices.add(TapDevice.overFrameFd(name, p.portEnd(), new TapOptions(vnet, queues > 1)));
        }
        TapPort port = new TapPort(devices, false, dataplane);
        dataplane.attach(domain, port, port.handles());
        return port;
    }

    private int peer(TapPort port, int queue) {
        int first = pipes.size();
        for (int i = 0; i < pipes.size(); i++) {
            if (pipes.get(i).portEnd() == port.device().fd()) {
                first = i;
            }
        }
        return pipes.get(first + queue).peerEnd();
    }

    private BridgeDomain network(int id, boolean offload) {
        BridgeDomain d = new BridgeDomain(id, new NetworkSettings("n" + id, 1500, Duration.ofSeconds(300), 64, offload),
                dataplane.lanes());
        dataplane.addDomain(d);
        return d;
    }

    private static byte[] frame(long dst, long src, int length, int fill) {
        ByteBuf b = Unpooled.buffer(length).writeZero(length);
        EthernetFrame.writeMac(b, 0, dst);
        EthernetFrame.writeMac(b, 6, src);
        b.setShort(12, 0x88B5);
        for (int i = 14; i < length; i++) {
            b.setByte(i, fill + i);
        }
        byte[] bytes = ByteBufUtil.getBytes(b);
        b.release();
        return bytes;
    }

    private void write(int fd, byte[] bytes) {
        io.clear().writeBytes(bytes);
        assertEquals(bytes.length, FrameIo.write(fd, io.memoryAddress(), bytes.length, errno));
    }

    /** The next frame on {@code fd}, or null within {@code millis}. */
    private byte[] read(int fd, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        do {
            int n = FrameIo.read(fd, io.memoryAddress(), io.capacity(), errno);
            if (n >= 0) {
                byte[] out = new byte[n];
                io.getBytes(0, out);
                return out;
            }
            assertEquals(-Errno.EAGAIN, n);
            Thread.sleep(2);
        } while (System.nanoTime() < deadline);
        return null;
    }

    @Test
    void eachLoopReadsItsOwnQueueAndWritesToItsOwnQueueOfTheEgress() throws Exception {
        BridgeDomain blue = network(1, false);
        TapPort a = port(blue, "a", 2, false);
        TapPort b = port(blue, "b", 2, false);
        assertEquals(2, a.queueCount());
        for (int queue = 0; queue < 2; queue++) {
            byte[] f = frame(BROADCAST, A, 100, queue);
            write(peer(a, queue), f);
            assertArrayEquals(f, read(peer(b, queue), 5000), "read by loop " + queue + ", written to b's queue " + queue);
            assertNull(read(peer(b, 1 - queue), 50), "and to no other queue of b");
        }
        byte[] reply = frame(A, B, 60, 9);
        write(peer(b, 1), reply);
        assertArrayEquals(reply, read(peer(a, 1), 5000), "A was learned on a: the reply goes there");
        assertEquals(3, a.count(PortCounter.RX_FRAMES) + a.count(PortCounter.TX_FRAMES));
    }

    @Test
    void aPortWithOffloadsSendsItsVirtioNetHeaderAndAGsoFrameIsCutForOneWithout() throws Exception {
        BridgeDomain fast = network(2, true);
        TapPort in = port(fast, "in", 1, true);
        TapPort plain = port(fast, "plain", 1, false);
        TapPort whole = port(fast, "whole", 1, true);
        assertTrue(in.offloads());
        assertFalse(plain.offloads());
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
        write(peer(in, 0), bytes);
        assertArrayEquals(bytes, read(peer(whole, 0), 5000), "whole, virtio-net header and all");
        for (int i = 0; i < 3; i++) {
            byte[] segment = read(peer(plain, 0), 5000);
            assertNotNull(segment, "segment " + i);
            assertEquals(14 + 20 + 20 + mss, segment.length, "a plain frame of one MSS");
        }
        assertEquals(3, plain.count(PortCounter.TX_FRAMES));
    }

    @Test
    void closingAPortClosesEveryQueue() throws Exception {
        BridgeDomain blue = network(3, false);
        TapPort a = port(blue, "a", 2, false);
        dataplane.detach(a);
        for (int queue = 0; queue < 2; queue++) {
            assertEquals(0, FrameIo.read(peer(a, queue), io.memoryAddress(), io.capacity(), errno),
                    "queue " + queue + ": end of file, its descriptor is closed");
        }
    }

    @Test
    void aQueueWhoseDeviceGoesAwayFailsThePortOnceAndTheOthersKeepForwarding() throws Exception {
        BridgeDomain blue = network(4, false);
        TapPort a = port(blue, "a", 1, false);
        TapPort b = port(blue, "b", 1, false);
        TapPort c = port(blue, "c", 2, false);
        for (FramePipe p : pipes) {
            if (p.peerEnd() == peer(c, 1)) {
                p.closePeerEnd(); // the read returns EOF: as a TAP whose namespace was deleted
            }
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (failures.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(List.of("c: read failed: EBADFD (device gone (its namespace was deleted or it was removed))"), failures);
        assertFalse(c.isUp());
        byte[] f = frame(BROADCAST, A, 80, 3);
        write(peer(a, 0), f);
        assertArrayEquals(f, read(peer(b, 0), 5000));
        assertEquals(1, dataplane.portFailures());
    }

    @Test
    void tapsOpenOneQueuePerLoopOnlyWhenMultiQueueIsOnAndRefuseABadNameBeforeAnyDevice() {
        Taps multi = new Taps(dataplane, true);
        Taps single = new Taps(dataplane, false);
        assertEquals(new TapOptions(true, true), multi.options(true));
        assertEquals(2, multi.queuesPerPort(multi.options(false)));
        assertEquals(new TapOptions(false, false), single.options(false));
        assertEquals(1, single.queuesPerPort(single.options(true)));
        NativeCallException tooLong = assertThrows(NativeCallException.class,
                () -> single.open("a-name-too-long-for-a-tap", 1500, false, false));
        assertTrue(tooLong.getMessage().contains("\"a-name-too-long-for-a-tap\" must be 1 to 15 characters"),
                tooLong.getMessage());
        multi.close();
        single.close();
    }

    @Test
    void aPortSaysWhereItsDeviceWasFound() throws Exception {
        TapPort a = port(network(5, false), "a", 1, false);
        assertEquals("tap", a.kind());
        assertEquals("existing device", Taps.origin(a));
        assertFalse(a.persistent());
    }
}
