package io.vswitch.wireguard;

/** What became of a packet handed to {@link DataPath#seal}. */
public enum SendResult {
    /** The buffer now holds the transport message; send it to {@link DataPath#endpoint()}. */
    SEALED,
    /** No session yet: the core keeps the buffer and sends it through the outbox once one exists. */
    STAGED,
    /** Dropped and released; {@link DataPath#drop()} says why. */
    DROPPED
}
