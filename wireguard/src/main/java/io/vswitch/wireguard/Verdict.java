package io.vswitch.wireguard;

/** What became of a received datagram ({@link DataPath#receive}). */
public enum Verdict {
    /** A packet for the overlay: it lies in place in the datagram, between reader and writer index. */
    DATA,
    /** An authentic keepalive: nothing to deliver. */
    KEEPALIVE,
    /** A handshake message or cookie reply, consumed (answers went to the outbox). */
    HANDSHAKE,
    /** Dropped; {@link DataPath#drop()} says why. */
    DROPPED
}
