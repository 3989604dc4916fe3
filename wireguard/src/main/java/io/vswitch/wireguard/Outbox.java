package io.vswitch.wireguard;

import io.netty.buffer.ByteBuf;

/**
 * Where the core puts datagrams it makes itself: handshake messages, cookie replies,
 * keepalives and staged packets sealed once a session exists. The receiver takes ownership of
 * the buffer (and releases it). Called from whichever thread drove the core (a loop in
 * {@link DataPath}, the timer thread in {@link Device#tick}): an implementation is thread-safe
 * or hands over to the socket's own loop.
 */
@FunctionalInterface
public interface Outbox {
    void send(long endpoint, ByteBuf datagram);
}
