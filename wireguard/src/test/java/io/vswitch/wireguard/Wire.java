package io.vswitch.wireguard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Two devices, A and B, joined by an in-memory wire: what either puts in its outbox waits in a
 * queue until {@link #deliver} hands it to the device at its endpoint. A's tunnel address is
 * 198.18.254.1, B's 198.18.254.2; each routes the other's /32 to the other. Time is {@link #now}.
 */
final class Wire implements Outbox, AutoCloseable {
    static final ByteBufAllocator ALLOC = new UnpooledByteBufAllocator(true);
    static final long EA = Endpoint.of(0xC612_0001, 51820);
    static final long EB = Endpoint.of(0xC612_0002, 51820);
    static final int TA = 0xC612_FE01;
    static final int TB = 0xC612_FE02;

    record Sent(long to, ByteBuf datagram) {
    }

    record Got(Verdict verdict, DropReason drop, byte[] packet) {
    }

    final ArrayDeque<Sent> queue = new ArrayDeque<>();
    final Device a;
    final Device b;
    final Peer bAtA;
    final Peer aAtB;
    final DataPath pa;
    final DataPath pb;
    long now = 1_000_000_000L;
    long epoch = 1_700_000_000_000_000_000L;

    Wire() {
        this(256, 256);
    }

    Wire(int underLoadA, int underLoadB) {
        SecureRandom random = new SecureRandom();
        byte[] ka = X25519.generatePrivate(random);
        byte[] kb = X25519.generatePrivate(random);
        a = new Device(ka, new Device.Options(random, () -> epoch, ALLOC, underLoadA));
        b = new Device(kb, new Device.Options(random, () -> epoch, ALLOC, underLoadB));
        bAtA = a.addPeer(b.publicKey(), null, EB, 0);
        aAtB = b.addPeer(a.publicKey(), null, EA, 0);
        a.allowedIps().add(TB, 32, bAtA);
        b.allowedIps().add(TA, 32, aAtB);
        pa = a.newDataPath();
        pb = b.newDataPath();
    }

    @Override
    public void send(long endpoint, ByteBuf datagram) {
        queue.add(new Sent(endpoint, datagram));
    }

    /** Delivers everything queued (and whatever that causes), returning what each receive said. */
    List<Got> deliver() {
        List<Got> got = new ArrayList<>();
        Sent s;
        while ((s = queue.poll()) != null) {
            got.add(receive(s.to(), s.datagram()));
        }
        return got;
    }

    /** Hands one datagram to the device at {@code to} (from the other one) and releases it. */
    Got receive(long to, ByteBuf datagram) {
        try {
            DataPath path = to == EB ? pb : pa;
            Verdict v = path.receive(datagram, to == EB ? EA : EB, now, this);
            byte[] packet = null;
            if (v == Verdict.DATA) {
                packet = new byte[datagram.readableBytes()];
                datagram.getBytes(datagram.readerIndex(), packet);
            }
            return new Got(v, path.drop(), packet);
        } finally {
            datagram.release();
        }
    }

    /** Drops everything queued. */
    int discard() {
        int n = queue.size();
        Sent s;
        while ((s = queue.poll()) != null) {
            s.datagram().release();
        }
        return n;
    }

    /** An IPv4/UDP packet from {@code source} to {@code destination} with room for sealing. */
    static ByteBuf packet(int source, int destination, int payloadLength) {
        ByteBuf buf = ALLOC.directBuffer(64 + payloadLength + 64);
        buf.writerIndex(MessageType.TRANSPORT_HEADER_LENGTH).readerIndex(MessageType.TRANSPORT_HEADER_LENGTH);
        int total = 28 + payloadLength;
        buf.writeByte(0x45).writeByte(0).writeShort(total).writeInt(0).writeByte(64).writeByte(17).writeShort(0);
        buf.writeInt(source).writeInt(destination);
        buf.writeShort(4000).writeShort(5000).writeShort(8 + payloadLength).writeShort(0);
        for (int i = 0; i < payloadLength; i++) {
            buf.writeByte(i * 7);
        }
        return buf;
    }

    static byte[] bytes(ByteBuf buf) {
        byte[] b = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), b);
        return b;
    }

    /** A seals a packet to B; returns what became of it (sealed ones go on the wire). */
    SendResult aSends(int payloadLength) {
        return send(pa, bAtA, packet(TA, TB, payloadLength));
    }

    SendResult bSends(int payloadLength) {
        return send(pb, aAtB, packet(TB, TA, payloadLength));
    }

    SendResult send(DataPath path, Peer peer, ByteBuf packet) {
        SendResult r = path.seal(peer, packet, now, this);
        if (r == SendResult.SEALED) {
            send(path.endpoint(), packet);
        }
        return r;
    }

    /** Runs both devices' timers at {@link #now}. */
    void tick() {
        a.tick(now, this);
        b.tick(now, this);
    }

    /** A handshake (A initiates) and one packet each way. */
    void establish() {
        aSends(10);
        deliver();
        bSends(10);
        deliver();
    }

    @Override
    public void close() {
        discard();
        a.close();
        b.close();
    }
}
