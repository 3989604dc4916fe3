package io.vswitch.wireguard;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Whatever arrives that is not a genuine fresh message: random bytes, genuine messages cut
 * short, with a bit flipped, or replayed. Each is dropped with a named reason, nothing throws,
 * and the receiving device's state (sessions, handshake, indices, endpoint, counters of bytes)
 * is as it was.
 */
class MalformedMessagesTest {
    /** Genuine messages B receives from A over one session: initiation, transport, keepalive. */
    private record Captured(Wire wire, List<byte[]> toB) {
    }

    private static Captured capture() {
        Wire w = new Wire();
        List<byte[]> toB = new ArrayList<>();
        w.a.initiate(w.bAtA, w.now, w);
        toB.add(Wire.bytes(w.queue.peek().datagram()));
        w.deliver(); // B answers, A's keepalive confirms
        w.aSends(64);
        toB.add(Wire.bytes(w.queue.peek().datagram()));
        w.deliver();
        w.aSends(0);
        toB.add(Wire.bytes(w.queue.peek().datagram()));
        w.deliver();
        w.now += 1_000_000_000L;
        return new Captured(w, toB);
    }

    private static String state(Wire w) {
        Peer p = w.aAtB;
        Keypairs k = p.keypairs;
        return System.identityHashCode(k.current) + "/" + System.identityHashCode(k.previous) + "/"
                + System.identityHashCode(k.next) + " hs=" + p.handshake.initiationSent() + " idx=" + w.b.indexCount()
                + " ep=" + p.endpoint() + " rx=" + p.stats().rxBytes() + " tx=" + p.stats().txBytes()
                + " ts=" + (p.greatestTimestamp == null ? "-" : Hex.of(p.greatestTimestamp));
    }

    private static void assertDroppedQuietly(Wire w, byte[] datagram) {
        String before = state(w);
        ByteBuf buf = Wire.ALLOC.directBuffer(datagram.length);
        buf.writeBytes(datagram);
        Wire.Got got = w.receive(Wire.EB, buf);
        assertEquals(Verdict.DROPPED, got.verdict(), "accepted: " + Hex.of(datagram));
        assertNotNull(got.drop());
        assertEquals(before, state(w));
        w.discard();
    }

    @Property(tries = 200)
    void randomBytesAreDropped(@ForAll @Size(max = 200) byte[] datagram, @ForAll @IntRange(min = 0, max = 4) int type) {
        Captured c = capture();
        try (Wire w = c.wire()) {
            if (datagram.length >= 4) {
                datagram[0] = (byte) type;
                datagram[1] = datagram[2] = datagram[3] = 0;
            }
            assertDroppedQuietly(w, datagram);
        }
    }

    @Property(tries = 200)
    void replayedGenuineMessagesAreDropped(@ForAll @IntRange(min = 0, max = 2) int which) {
        Captured c = capture();
        try (Wire w = c.wire()) {
            assertDroppedQuietly(w, c.toB().get(which));
        }
    }

    @Property(tries = 300)
    void truncatedGenuineMessagesAreDropped(@ForAll @IntRange(min = 0, max = 2) int which, @ForAll("cut") int cut) {
        Captured c = capture();
        try (Wire w = c.wire()) {
            byte[] m = c.toB().get(which);
            assertDroppedQuietly(w, java.util.Arrays.copyOf(m, Math.floorMod(cut, m.length)));
        }
    }

    @Property(tries = 300)
    void tamperedGenuineMessagesAreDropped(@ForAll @IntRange(min = 0, max = 2) int which, @ForAll int position,
                                           @ForAll @IntRange(min = 0, max = 7) int bit) {
        Captured c = capture();
        try (Wire w = c.wire()) {
            byte[] m = c.toB().get(which).clone();
            m[Math.floorMod(position, m.length)] ^= (byte) (1 << bit);
            assertDroppedQuietly(w, m);
        }
    }

    /** A fresh initiation with a bit flipped anywhere before mac2 (mac2 is not checked unless under load). */
    @Property(tries = 100)
    void tamperedFreshInitiationsAreDropped(@ForAll @IntRange(min = 0, max = MessageType.INITIATION_MAC2 - 1) int position,
                                            @ForAll @IntRange(min = 0, max = 7) int bit) {
        try (Wire w = new Wire()) {
            w.a.initiate(w.bAtA, w.now, w);
            byte[] m = Wire.bytes(w.queue.peek().datagram());
            w.discard();
            m[position] ^= (byte) (1 << bit);
            assertDroppedQuietly(w, m);
        }
    }

    @Provide
    Arbitrary<Integer> cut() {
        return Arbitraries.integers().between(0, 10_000);
    }
}
