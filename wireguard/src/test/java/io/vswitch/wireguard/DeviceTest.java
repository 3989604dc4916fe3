package io.vswitch.wireguard;

import io.netty.buffer.ByteBuf;
import java.util.List;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Our initiator against our responder, through the in-memory {@link Wire}: handshakes, transport, drops, timers. */
class DeviceTest {
    private static final long S = 1_000_000_000L;

    @Test
    void firstPacketStagesStartsAHandshakeAndArrivesOnceItCompletes() {
        try (Wire w = new Wire()) {
            ByteBuf sent = Wire.packet(Wire.TA, Wire.TB, 100);
            byte[] expected = Wire.bytes(sent);
            assertEquals(SendResult.STAGED, w.send(w.pa, w.bAtA, sent));
            assertEquals(1, w.queue.size());
            assertEquals(MessageType.INITIATION_LENGTH, w.queue.peek().datagram().readableBytes());
            List<Wire.Got> got = w.deliver();
            // initiation consumed by B; response consumed by A; the staged packet opened by B.
            assertEquals(Verdict.HANDSHAKE, got.get(0).verdict());
            assertEquals(Verdict.HANDSHAKE, got.get(1).verdict());
            assertEquals(Verdict.DATA, got.get(2).verdict());
            assertArrayEquals(expected, got.get(2).packet());
            assertEquals(1, w.a.count(DeviceCounter.RESPONSES_RECEIVED));
            assertEquals(1, w.b.count(DeviceCounter.INITIATIONS_RECEIVED));
            assertTrue(w.bAtA.hasSession(w.now));
            assertTrue(w.aAtB.hasSession(w.now), "B's next keypair became current with A's first message");
            assertEquals(1, w.aAtB.stats().handshakes());
            assertEquals(w.epoch, w.bAtA.stats().lastHandshakeEpochNs());
        }
    }

    @Test
    void packetsFlowBothWaysAndAreCountedAsWgShowDoes() {
        try (Wire w = new Wire()) {
            w.establish();
            ByteBuf p = Wire.packet(Wire.TB, Wire.TA, 1372);
            byte[] expected = Wire.bytes(p);
            assertEquals(SendResult.SEALED, w.send(w.pb, w.aAtB, p));
            int onWire = w.queue.peek().datagram().readableBytes();
            assertEquals(16 + MessageType.padded(1400) + 16, onWire);
            List<Wire.Got> got = w.deliver();
            assertEquals(Verdict.DATA, got.get(0).verdict());
            assertArrayEquals(expected, got.get(0).packet());
            assertEquals(w.aAtB.stats().txBytes(), w.bAtA.stats().rxBytes());
            assertEquals(w.bAtA.stats().txBytes(), w.aAtB.stats().rxBytes());
            assertTrue(w.aAtB.stats().txBytes() > 1400);
        }
    }

    @Test
    void responderDoesNotSendFirstUnderAnUnconfirmedSession() {
        try (Wire w = new Wire()) {
            w.a.initiate(w.bAtA, w.now, w);
            w.deliver();
            // A got the response and sent a keepalive, which confirmed B's session: B may send.
            assertEquals(1, w.b.count(DeviceCounter.RX_KEEPALIVES));
            assertTrue(w.aAtB.hasSession(w.now));

            // Without that confirmation, B holds its packet until A's first message arrives.
            try (Wire v = new Wire()) {
                v.a.initiate(v.bAtA, v.now, v);
                List<Wire.Got> first = List.of(v.receive(Wire.EB, v.queue.poll().datagram()));
                assertEquals(Verdict.HANDSHAKE, first.get(0).verdict());
                Wire.Sent response = v.queue.poll();
                assertEquals(SendResult.STAGED, v.bSends(20));
                assertEquals(Verdict.HANDSHAKE, v.receive(Wire.EA, response.datagram()).verdict());
                List<Wire.Got> rest = v.deliver();
                // A's keepalive confirms B's session, then B's staged packet reaches A.
                assertEquals(Verdict.KEEPALIVE, rest.get(0).verdict());
                assertEquals(Verdict.DATA, rest.get(1).verdict());
            }
        }
    }

    @Test
    void replayedTransportIsDroppedAndCounted() {
        try (Wire w = new Wire()) {
            w.establish();
            w.aSends(50);
            ByteBuf original = w.queue.peek().datagram();
            ByteBuf copy = original.copy();
            assertEquals(Verdict.DATA, w.deliver().get(0).verdict());
            Wire.Got again = w.receive(Wire.EB, copy);
            assertEquals(Verdict.DROPPED, again.verdict());
            assertEquals(DropReason.REPLAY, again.drop());
            assertEquals(1, w.b.dropped(DropReason.REPLAY));
        }
    }

    @Test
    void tamperedTransportIsDroppedAndTheGenuineOneStillArrives() {
        try (Wire w = new Wire()) {
            w.establish();
            w.aSends(50);
            ByteBuf genuine = w.queue.poll().datagram();
            ByteBuf tampered = genuine.copy();
            tampered.setByte(tampered.readerIndex() + 40, tampered.getByte(tampered.readerIndex() + 40) ^ 1);
            Wire.Got got = w.receive(Wire.EB, tampered);
            assertEquals(DropReason.AUTH_FAILED, got.drop());
            assertEquals(Verdict.DATA, w.receive(Wire.EB, genuine).verdict(), "a forgery does not burn the counter");
        }
    }

    @Test
    void unknownIndexAndUnknownKeyAndWrongMac1AreDropped() {
        try (Wire w = new Wire(); Wire other = new Wire()) {
            w.establish();
            w.aSends(50);
            ByteBuf d = w.queue.poll().datagram();
            d.setIntLE(d.readerIndex() + 4, d.getIntLE(d.readerIndex() + 4) + 1);
            assertEquals(DropReason.UNKNOWN_INDEX, w.receive(Wire.EB, d).drop());

            // An initiation from another device's A to our B: mac1 is for the other B's key.
            other.a.initiate(other.bAtA, other.now, other);
            assertEquals(DropReason.BAD_MAC1, w.receive(Wire.EB, other.queue.poll().datagram()).drop());

            // A device that knows B's public key but is not B's peer.
            Device stranger = new Device(X25519.generatePrivate(new java.security.SecureRandom()), Device.Options.defaults());
            Peer bAtStranger = stranger.addPeer(w.b.publicKey(), null, Wire.EB, 0);
            stranger.initiate(bAtStranger, w.now, w);
            assertEquals(DropReason.UNKNOWN_PEER, w.deliver().get(0).drop());
        }
    }

    @Test
    void replayedInitiationIsDroppedByItsTimestamp() {
        try (Wire w = new Wire()) {
            w.a.initiate(w.bAtA, w.now, w);
            ByteBuf initiation = w.queue.peek().datagram().copy();
            w.deliver();
            Keypair current = w.aAtB.keypairs.current;
            w.now += S;
            Wire.Got replay = w.receive(Wire.EB, initiation);
            assertEquals(DropReason.STALE_TIMESTAMP, replay.drop());
            assertSame(current, w.aAtB.keypairs.current);
            assertTrue(w.queue.isEmpty(), "no response to a replay");
        }
    }

    @Test
    void initiationsFasterThanTwentyMillisecondsAreAFlood() {
        try (Wire w = new Wire()) {
            w.a.initiate(w.bAtA, w.now, w);
            w.deliver();
            w.epoch += S;
            w.a.initiate(w.bAtA, w.now + Protocol.REKEY_TIMEOUT_NS, w);
            w.now += 5_000_000L;
            assertEquals(DropReason.FLOOD, w.receive(Wire.EB, w.queue.poll().datagram()).drop());
        }
    }

    @Test
    void underLoadAnInitiationGetsACookieReplyAndTheRetryWithMac2IsAnswered() {
        try (Wire w = new Wire(256, 0)) {
            w.a.initiate(w.bAtA, w.now, w);
            List<Wire.Got> got = w.deliver();
            assertEquals(DropReason.UNDER_LOAD, got.get(0).drop());
            assertEquals(Verdict.HANDSHAKE, got.get(1).verdict(), "A took the cookie reply");
            assertEquals(1, w.b.count(DeviceCounter.COOKIE_REPLIES_SENT));
            assertEquals(1, w.a.count(DeviceCounter.COOKIE_REPLIES_RECEIVED));
            assertTrue(w.bAtA.cookies.hasCookie());
            // The retransmission carries mac2 from the cookie and is answered.
            w.now += Protocol.REKEY_TIMEOUT_NS + Protocol.REKEY_TIMEOUT_JITTER_MAX_NS;
            w.epoch += 6 * S;
            w.tick();
            w.deliver();
            assertTrue(w.bAtA.hasSession(w.now));
            assertEquals(1, w.b.dropped(DropReason.UNDER_LOAD));
        }
    }

    @Test
    void sourceOutsideThePeersAllowedIpsIsDropped() {
        try (Wire w = new Wire()) {
            w.establish();
            w.send(w.pa, w.bAtA, Wire.packet(0xC612_FE09, Wire.TB, 10));
            assertEquals(DropReason.SOURCE_NOT_ALLOWED, w.deliver().get(0).drop());
        }
    }

    @Test
    void initiatorRenewsAfterRekeyAfterTimeAndOldKeysStillOpen() {
        try (Wire w = new Wire()) {
            w.establish();
            Keypair first = w.bAtA.keypairs.current;
            // A answers B's data with a keepalive 10 s later, as it would; then all is quiet.
            w.now += Protocol.KEEPALIVE_TIMEOUT_NS;
            w.tick();
            w.deliver();
            w.aSends(10);
            ByteBuf inFlight = w.queue.poll().datagram();
            w.now += Protocol.REKEY_AFTER_TIME_NS - Protocol.KEEPALIVE_TIMEOUT_NS;
            w.epoch += Protocol.REKEY_AFTER_TIME_NS;
            assertEquals(SendResult.SEALED, w.aSends(10), "still sends with the old keys");
            assertTrue(w.bAtA.timers.rekeyWanted);
            w.tick();
            w.deliver();
            assertNotSame(first, w.bAtA.keypairs.current);
            assertSame(first, w.bAtA.keypairs.previous);
            // B got a new session too; a datagram sealed under the first one still opens (previous).
            assertEquals(Verdict.DATA, w.receive(Wire.EB, inFlight).verdict());
        }
    }

    @Test
    void aSessionPastRejectAfterTimeIsNotUsedAndItsMessagesAreExpired() {
        try (Wire w = new Wire()) {
            w.establish();
            w.aSends(10);
            ByteBuf old = w.queue.poll().datagram();
            w.now += Protocol.REJECT_AFTER_TIME_NS;
            w.epoch += Protocol.REJECT_AFTER_TIME_NS;
            assertEquals(DropReason.EXPIRED, w.receive(Wire.EB, old).drop());
            assertEquals(SendResult.STAGED, w.aSends(10));
            assertEquals(MessageType.INITIATION_LENGTH, w.queue.peek().datagram().readableBytes());
        }
    }

    @Test
    void unansweredInitiationsAreRetransmittedThenGivenUpAfterRekeyAttemptTime() {
        try (Wire w = new Wire()) {
            assertEquals(SendResult.STAGED, w.aSends(10));
            long start = w.now;
            while (w.now - start < Protocol.REKEY_ATTEMPT_TIME_NS + 10 * S) {
                w.discard();
                w.now += S / 10;
                w.tick();
            }
            long sent = w.a.count(DeviceCounter.INITIATIONS_SENT);
            System.out.println("initiations in " + (w.now - start) / S + " s without an answer: " + sent);
            assertTrue(sent >= 16 && sent <= 19, "one per 5-5.33 s for 90 s: " + sent);
            assertEquals(1, w.a.dropped(DropReason.HANDSHAKE_GAVE_UP));
            assertEquals("idle", w.bAtA.state(w.now));
        }
    }

    @Test
    void dataReceivedAndNotAnsweredGetsAKeepaliveAfterTenSeconds() {
        try (Wire w = new Wire()) {
            w.establish();
            w.aSends(10);
            w.deliver();
            w.now += Protocol.KEEPALIVE_TIMEOUT_NS - 1;
            w.tick();
            assertTrue(w.queue.isEmpty());
            w.now += 1;
            w.tick();
            List<Wire.Got> got = w.deliver();
            assertEquals(1, got.size());
            assertEquals(Verdict.KEEPALIVE, got.get(0).verdict());
            assertEquals(1, w.b.count(DeviceCounter.TX_KEEPALIVES));
        }
    }

    @Test
    void dataSentAndNotAnsweredStartsANewHandshakeAfterFifteenSeconds() {
        try (Wire w = new Wire()) {
            w.establish();
            w.aSends(10);
            w.discard();
            long before = w.a.count(DeviceCounter.INITIATIONS_SENT);
            w.now += Protocol.KEEPALIVE_TIMEOUT_NS + Protocol.REKEY_TIMEOUT_NS;
            w.tick();
            assertEquals(before + 1, w.a.count(DeviceCounter.INITIATIONS_SENT));
        }
    }

    @Test
    void persistentKeepaliveStartsAHandshakeAndKeepsTheSessionWarm() {
        try (Wire w = new Wire()) {
            w.bAtA.persistentKeepalive(25);
            w.tick();
            w.deliver();
            assertTrue(w.bAtA.hasSession(w.now));
            long keepalives = w.a.count(DeviceCounter.TX_KEEPALIVES);
            w.now += 25 * S;
            w.tick();
            w.deliver();
            assertEquals(keepalives + 1, w.a.count(DeviceCounter.TX_KEEPALIVES));
        }
    }

    @Test
    void keysAreErasedThreeRejectAfterTimesAfterTheLastSession() {
        try (Wire w = new Wire()) {
            w.establish();
            Keypair session = w.bAtA.keypairs.current;
            w.now += Protocol.ZERO_KEYS_AFTER_NS;
            w.tick();
            w.discard();
            assertNull(w.bAtA.keypairs.current);
            assertEquals(1, w.a.count(DeviceCounter.KEYS_ZEROED));
            assertNull(w.a.index(session.localIndex()), "its index names nothing any more");
        }
    }

    @Test
    void aPeerThatMovesIsFollowed() {
        try (Wire w = new Wire()) {
            w.establish();
            w.aSends(10);
            long moved = Endpoint.of(0xC612_0009, 40000);
            Verdict v = w.pb.receive(w.queue.peek().datagram(), moved, w.now, w);
            w.discard();
            assertEquals(Verdict.DATA, v);
            assertEquals(moved, w.aAtB.endpoint());
            assertNotEquals(Endpoint.NONE, w.aAtB.endpoint());
        }
    }

    @Test
    void aRemovedPeerLeavesNoSessionBehind() {
        try (Wire w = new Wire()) {
            w.establish();
            w.a.removePeer(w.bAtA);
            assertEquals(0, w.a.indexCount());
            assertNull(w.a.peer(w.b.publicKey()));
            assertNull(w.a.allowedIps().lookup(Wire.TB));
            w.bSends(10);
            assertEquals(DropReason.UNKNOWN_INDEX, w.deliver().get(0).drop());
            assertNotNull(w.b.peer(w.a.publicKey()));
        }
    }
}
