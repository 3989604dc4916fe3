package io.vswitch.wireguard;

import io.netty.buffer.ByteBuf;

/**
 * The four messages (whitepaper 5.4) and their layouts. Every message starts with a 4-byte
 * little-endian type whose upper three bytes are reserved zero; a message with them set is no
 * message. All integers on the wire are little-endian.
 * <pre>
 * initiation (148)  type=1 | sender 4 | ephemeral 32 | static 32+16 | timestamp 12+16 | mac1 16 | mac2 16
 * response (92)     type=2 | sender 4 | receiver 4 | ephemeral 32 | empty 0+16 | mac1 16 | mac2 16
 * cookie reply (64) type=3 | receiver 4 | nonce 24 | cookie 16+16
 * transport (32+)   type=4 | receiver 4 | counter 8 | packet n+16  (n a multiple of 16, 0 for a keepalive)
 * </pre>
 */
public final class MessageType {
    public static final int INITIATION = 1;
    public static final int RESPONSE = 2;
    public static final int COOKIE_REPLY = 3;
    public static final int TRANSPORT = 4;

    public static final int INITIATION_LENGTH = 148;
    public static final int INITIATION_SENDER = 4;
    public static final int INITIATION_EPHEMERAL = 8;
    public static final int INITIATION_TIMESTAMP = 88;
    public static final int INITIATION_MAC1 = 116;
    public static final int INITIATION_MAC2 = 132;

    public static final int RESPONSE_LENGTH = 92;
    public static final int RESPONSE_SENDER = 4;
    public static final int RESPONSE_RECEIVER = 8;
    public static final int RESPONSE_EPHEMERAL = 12;
    public static final int RESPONSE_MAC1 = 60;
    public static final int RESPONSE_MAC2 = 76;

    public static final int COOKIE_REPLY_LENGTH = 64;
    public static final int COOKIE_REPLY_RECEIVER = 4;
    public static final int COOKIE_REPLY_NONCE = 8;
    public static final int COOKIE_REPLY_COOKIE = 32;

    /** The transport header; the sealed packet follows. */
    public static final int TRANSPORT_HEADER_LENGTH = 16;
    public static final int TRANSPORT_RECEIVER = 4;
    public static final int TRANSPORT_COUNTER = 8;
    public static final int TRANSPORT_MIN_LENGTH = TRANSPORT_HEADER_LENGTH + Aead.TAG_LENGTH;
    /** What a transport message adds around a packet, padding aside: header in front, tag behind. */
    public static final int TRANSPORT_OVERHEAD = TRANSPORT_HEADER_LENGTH + Aead.TAG_LENGTH;

    public static final int MAC_LENGTH = 16;

    private MessageType() {
    }

    /** The message type at {@code index}, or 0 when the reserved bytes are not zero. */
    public static int of(ByteBuf buf, int index) {
        int word = buf.getIntLE(index);
        return (word & 0xFFFFFF00) == 0 ? word : 0;
    }

    /** The packet length after padding to a multiple of 16 (whitepaper 5.4.6). */
    public static int padded(int length) {
        return (length + 15) & ~15;
    }
}
