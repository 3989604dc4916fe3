package io.vswitch.nativetap;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.concurrent.ThreadLocalRandom;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * UDP GSO out and UDP GRO in, over loopback only (no root needed): a run of datagrams sent with
 * one {@link SegmentedDatagram} arrives in one {@link UdpSocket} read with its segment size and
 * its sender, byte for byte.
 */
class UdpSocketTest {
    private static final int LOOPBACK = 0x7F000001;

    /** Binds on a free loopback port (tries a few random ones). */
    private static UdpSocket bindSomewhere(boolean gro, int[] port) throws NativeCallException {
        NativeCallException last = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            int p = ThreadLocalRandom.current().nextInt(20000, 60000);
            try {
                UdpSocket s = UdpSocket.bind(LOOPBACK, p, 1 << 20, gro);
                port[0] = p;
                return s;
            } catch (NativeCallException e) {
                last = e;
            }
        }
        throw last;
    }

    private static int receiveWithin(UdpSocket socket, long address, int capacity) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            int n = socket.receive(address, capacity);
            if (n != -Errno.EAGAIN) {
                return n;
            }
            Thread.sleep(5);
        }
        return -Errno.EAGAIN;
    }

    @Test
    void aSegmentedSendArrivesAsOneReadWithItsSegmentSizeAndSender() throws Exception {
        int[] rxPort = new int[1];
        int[] txPort = new int[1];
        try (Arena arena = Arena.ofConfined();
             UdpSocket rx = bindSomewhere(true, rxPort);
             UdpSocket tx = bindSomewhere(false, txPort)) {
            int segment = 1000;
            int total = 4 * segment + 500;
            MemorySegment out = arena.allocate(total, 8);
            for (int i = 0; i < total; i++) {
                out.set(JAVA_BYTE, i, (byte) (i * 7 + i / segment));
            }
            SegmentedDatagram gso = new SegmentedDatagram();
            for (int at = 0; at < total; at += segment) {
                gso.add(out.address() + at, Math.min(segment, total - at));
            }
            long destination = DatagramBatch.destination((Inet4Address) InetAddress.getByName("127.0.0.1"), rxPort[0]);
            assertTrue(gso.send(tx.fd(), destination, segment), () -> "send: " + Errno.name(gso.lastErrno()));

            MemorySegment in = arena.allocate(65536, 8);
            int n = receiveWithin(rx, in.address(), 65536);
            assertEquals(total, n, "one read for all five datagrams");
            assertEquals(segment, rx.segmentSize());
            assertEquals(LOOPBACK, rx.sourceAddress());
            assertEquals(txPort[0], rx.sourcePort());
            assertFalse(rx.truncated());
            assertEquals(-1L, out.mismatch(in.asSlice(0, total)), "bytes as sent");
            assertEquals(-Errno.EAGAIN, rx.receive(in.address(), 65536), "nothing left");
        }
    }

    @Test
    void datagramsGatheredFromHeadersAndPayloadsArriveWhole() throws Exception {
        int[] rxPort = new int[1];
        int[] txPort = new int[1];
        try (Arena arena = Arena.ofConfined();
             UdpSocket rx = bindSomewhere(true, rxPort);
             UdpSocket tx = bindSomewhere(false, txPort)) {
            int header = 74;
            int payload = 926;
            MemorySegment headers = arena.allocate(3 * 128, 8);
            MemorySegment payloads = arena.allocate(3 * payload, 8);
            MemorySegment expected = arena.allocate(3 * (header + payload), 8);
            for (int d = 0; d < 3; d++) {
                for (int i = 0; i < header; i++) {
                    headers.set(JAVA_BYTE, d * 128 + i, (byte) (d + i));
                    expected.set(JAVA_BYTE, d * (header + payload) + i, (byte) (d + i));
                }
                for (int i = 0; i < payload; i++) {
                    payloads.set(JAVA_BYTE, d * payload + i, (byte) (d * 3 + i * 5));
                    expected.set(JAVA_BYTE, d * (header + payload) + header + i, (byte) (d * 3 + i * 5));
                }
            }
            SegmentedDatagram gso = new SegmentedDatagram();
            for (int d = 0; d < 3; d++) {
                gso.add(headers.address() + d * 128, header, payloads.address() + (long) d * payload, payload);
            }
            assertEquals(3, gso.size());
            assertTrue(gso.send(tx.fd(), DatagramBatch.destination(
                    (Inet4Address) InetAddress.getByName("127.0.0.1"), rxPort[0]), header + payload));
            MemorySegment in = arena.allocate(65536, 8);
            assertEquals(3 * (header + payload), receiveWithin(rx, in.address(), 65536));
            assertEquals(header + payload, rx.segmentSize());
            assertEquals(-1L, expected.mismatch(in.asSlice(0, 3 * (header + payload))));
        }
    }

    @Test
    void aReadLargerThanTheBufferSaysTruncated() throws Exception {
        int[] rxPort = new int[1];
        int[] txPort = new int[1];
        try (Arena arena = Arena.ofConfined();
             UdpSocket rx = bindSomewhere(false, rxPort);
             UdpSocket tx = bindSomewhere(false, txPort)) {
            MemorySegment out = arena.allocate(300, 8);
            SegmentedDatagram one = new SegmentedDatagram();
            one.add(out.address(), 300);
            assertTrue(one.send(tx.fd(), DatagramBatch.destination(
                    (Inet4Address) InetAddress.getByName("127.0.0.1"), rxPort[0]), 300));
            MemorySegment in = arena.allocate(100, 8);
            assertEquals(100, receiveWithin(rx, in.address(), 100));
            assertTrue(rx.truncated());
        }
    }

    @Test
    void anAddressNotOfThisHostIsRefusedWithTheCallAndAddressNamed() throws Exception {
        int[] port = new int[1];
        try (UdpSocket first = bindSomewhere(false, port)) {
            NativeCallException e = org.junit.jupiter.api.Assertions.assertThrows(NativeCallException.class,
                    () -> UdpSocket.bind(0xC6120063, port[0], 1 << 16, true)); // 198.18.0.99: not ours
            assertTrue(e.getMessage().startsWith("bind on \"198.18.0.99:" + port[0] + "\" failed: EADDRNOTAVAIL"),
                    e.getMessage());
        }
    }
}
