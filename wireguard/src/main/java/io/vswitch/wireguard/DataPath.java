package io.vswitch.wireguard;

import io.netty.buffer.ByteBuf;

/**
 * One event loop's way into a {@link Device}: transport messages opened and sealed in place,
 * handshake messages handed to the device. Holds the loop's {@link TransportCipher} and the
 * result of the latest call ({@link #peer()}, {@link #drop()}, {@link #endpoint()}), so a call
 * allocates nothing on the transport path.
 *
 * <p>Buffers: {@link #receive} reads a datagram the caller owns and keeps owning; a packet it
 * returns as {@link Verdict#DATA} lies in place in that datagram. {@link #seal} takes a packet
 * with 16 bytes of room before the reader index and room for padding and the tag behind the
 * writer index (capacity may grow); on {@link SendResult#SEALED} the same buffer holds the
 * transport message and stays the caller's; on STAGED the core owns it; on DROPPED it is released.
 *
 * <p>Threading: confined to one thread; one per loop. The device behind it is shared.
 */
public final class DataPath {
    private final Device device;
    final TransportCipher cipher = new TransportCipher();
    private Peer peer;
    private DropReason drop;
    private long endpoint;

    DataPath(Device device) {
        this.device = device;
    }

    /** The peer of the latest call's message (null if none was identified). */
    public Peer peer() {
        return peer;
    }

    /** Why the latest call dropped, or null. */
    public DropReason drop() {
        return drop;
    }

    /** Where a sealed message goes: its peer's endpoint. */
    public long endpoint() {
        return endpoint;
    }

    /** Takes one datagram from {@code source}; never throws for anything in the datagram. */
    public Verdict receive(ByteBuf datagram, long source, long nowNs, Outbox out) {
        peer = null;
        drop = null;
        device.increment(DeviceCounter.RX_DATAGRAMS);
        if (datagram.readableBytes() < 4) {
            return dropped(DropReason.SHORT);
        }
        int type = MessageType.of(datagram, datagram.readerIndex());
        return switch (type) {
            case MessageType.TRANSPORT -> receiveTransport(datagram, source, nowNs, out);
            case MessageType.INITIATION, MessageType.RESPONSE, MessageType.COOKIE_REPLY -> {
                DropReason reason = device.receiveHandshake(type, datagram, source, nowNs, out, this);
                yield reason == null ? Verdict.HANDSHAKE : dropped(reason);
            }
            default -> dropped(DropReason.BAD_TYPE);
        };
    }

    private Verdict receiveTransport(ByteBuf datagram, long source, long nowNs, Outbox out) {
        int index = datagram.readerIndex();
        int length = datagram.readableBytes();
        if (length < MessageType.TRANSPORT_MIN_LENGTH) {
            return dropped(DropReason.SHORT);
        }
        if (!(device.index(datagram.getIntLE(index + MessageType.TRANSPORT_RECEIVER)) instanceof Keypair keypair)) {
            return dropped(DropReason.UNKNOWN_INDEX);
        }
        peer = keypair.peer();
        long counter = datagram.getLongLE(index + MessageType.TRANSPORT_COUNTER);
        if (keypair.expired(nowNs) || Long.compareUnsigned(counter, Protocol.REJECT_AFTER_MESSAGES) >= 0) {
            return dropped(DropReason.EXPIRED);
        }
        int sealed = length - MessageType.TRANSPORT_HEADER_LENGTH;
        int start = index + MessageType.TRANSPORT_HEADER_LENGTH;
        if (!cipher.open(keypair.receiveKey(), counter, datagram, start, sealed)) {
            return dropped(DropReason.AUTH_FAILED);
        }
        if (!keypair.acceptCounter(counter)) {
            return dropped(DropReason.REPLAY);
        }
        if (peer.keypairs.next == keypair) {
            device.confirm(peer, keypair, nowNs, out, this);
        }
        peer.roamTo(source);
        PeerTimers timers = peer.timers;
        timers.anyAuthenticatedReceived(nowNs);
        peer.stats.rxBytes.add(length);
        if (keypair.initiator() && nowNs - keypair.createdNs() >= Protocol.REKEY_AFTER_TIME_RECEIVING_NS && !timers.rekeyWanted) {
            timers.rekeyWanted = true;
        }
        int plain = sealed - Aead.TAG_LENGTH;
        if (plain == 0) {
            device.increment(DeviceCounter.RX_KEEPALIVES);
            return Verdict.KEEPALIVE;
        }
        timers.dataReceived(nowNs);
        if ((datagram.getByte(start) & 0xF0) != 0x40 || plain < 20) {
            return dropped(DropReason.BAD_INNER);
        }
        int total = datagram.getUnsignedShort(start + 2);
        if (total < 20 || total > plain) {
            return dropped(DropReason.BAD_INNER);
        }
        if (device.allowedIps().lookup(datagram.getInt(start + 12)) != peer) {
            return dropped(DropReason.SOURCE_NOT_ALLOWED);
        }
        datagram.readerIndex(start).writerIndex(start + total);
        device.increment(DeviceCounter.RX_DATA);
        return Verdict.DATA;
    }

    /**
     * Seals the packet between reader and writer index for {@code peer}, or stages it (and
     * starts a handshake) when there is no session to send with.
     */
    public SendResult seal(Peer peer, ByteBuf packet, long nowNs, Outbox out) {
        this.peer = peer;
        drop = null;
        int length = packet.readableBytes();
        int room = MessageType.padded(length) - length + Aead.TAG_LENGTH;
        if (packet.readerIndex() < MessageType.TRANSPORT_HEADER_LENGTH || packet.maxWritableBytes() < room) {
            packet.release();
            drop = DropReason.NO_ROOM;
            device.noteDrop(drop);
            return SendResult.DROPPED;
        }
        long to = peer.endpoint();
        if (to == Endpoint.NONE) {
            packet.release();
            drop = DropReason.NO_ENDPOINT;
            device.noteDrop(drop);
            return SendResult.DROPPED;
        }
        Keypair keypair = peer.keypairs.current;
        if (keypair == null || keypair.expired(nowNs) || !sealWith(keypair, packet, nowNs)) {
            device.stage(peer, packet, nowNs, out, this);
            return SendResult.STAGED;
        }
        endpoint = to;
        return SendResult.SEALED;
    }

    /** Seals in place under {@code keypair}; false (buffer untouched) when its counter is used up. */
    boolean sealWith(Keypair keypair, ByteBuf packet, long nowNs) {
        long counter = keypair.nextSendCounter();
        if (Long.compareUnsigned(counter, Protocol.REJECT_AFTER_MESSAGES) >= 0) {
            return false;
        }
        int start = packet.readerIndex();
        int length = packet.readableBytes();
        int padded = MessageType.padded(length);
        packet.ensureWritable(padded - length + Aead.TAG_LENGTH);
        packet.setZero(start + length, padded - length);
        cipher.seal(keypair.sendKey(), counter, packet, start, padded);
        int header = start - MessageType.TRANSPORT_HEADER_LENGTH;
        packet.setIntLE(header, MessageType.TRANSPORT);
        packet.setIntLE(header + MessageType.TRANSPORT_RECEIVER, keypair.remoteIndex());
        packet.setLongLE(header + MessageType.TRANSPORT_COUNTER, counter);
        packet.readerIndex(header).writerIndex(start + padded + Aead.TAG_LENGTH);
        Peer p = keypair.peer();
        PeerTimers timers = p.timers;
        if (length > 0) {
            timers.dataSent(nowNs);
            device.increment(DeviceCounter.TX_DATA);
        } else {
            device.increment(DeviceCounter.TX_KEEPALIVES);
        }
        timers.anyAuthenticatedSent(nowNs);
        p.stats.txBytes.add(packet.readableBytes());
        if (keypair.initiator() && !timers.rekeyWanted && (nowNs - keypair.createdNs() >= Protocol.REKEY_AFTER_TIME_NS
                || Long.compareUnsigned(counter, Protocol.REKEY_AFTER_MESSAGES) >= 0)) {
            timers.rekeyWanted = true;
        }
        return true;
    }

    private Verdict dropped(DropReason reason) {
        drop = reason;
        device.noteDrop(reason);
        return Verdict.DROPPED;
    }
}
