package io.vswitch.wireguard;

/**
 * Every reason a datagram received, or a packet to send, is dropped. Each is counted on the
 * {@link Device} ({@link Device#dropped}); labels are what metrics and show print.
 */
public enum DropReason {
    SHORT("short", "shorter than its message type's length (or a transport message under 32 bytes)"),
    BAD_TYPE("bad-type", "not one of the four message types, or reserved bytes not zero"),
    BAD_LENGTH("bad-length", "a handshake message of the wrong length"),
    BAD_MAC1("bad-mac1", "handshake message whose mac1 is not for our public key"),
    UNDER_LOAD("under-load", "handshake message without a valid mac2 while under load: answered with a cookie reply"),
    HANDSHAKE_FAILED("handshake-failed", "handshake message that does not decrypt or whose key agreement fails"),
    UNKNOWN_PEER("unknown-peer", "initiation from a static key that is not a peer"),
    STALE_TIMESTAMP("stale-timestamp", "initiation whose timestamp is not after the last accepted one (a replayed initiation)"),
    FLOOD("flood", "initiation within 20 ms of the peer's previous one"),
    UNKNOWN_INDEX("unknown-index", "receiver index that names no session or handshake of ours"),
    BAD_COOKIE("bad-cookie", "cookie reply that does not open (not for a message we sent)"),
    AUTH_FAILED("auth-failed", "transport message that does not authenticate"),
    REPLAY("replay", "transport counter already received or older than the window"),
    EXPIRED("expired", "session older than REJECT_AFTER_TIME or counter past REJECT_AFTER_MESSAGES"),
    BAD_INNER("bad-inner", "decrypted packet that is not IPv4 or whose length does not fit"),
    SOURCE_NOT_ALLOWED("source-not-allowed", "decrypted packet whose source is not among the sending peer's allowed IPs"),
    NO_ENDPOINT("no-endpoint", "to a peer whose endpoint is unknown"),
    NO_ROOM("no-room", "packet to send without 16 bytes of room in front or padding and tag room behind"),
    STAGED_OVERFLOW("staged-overflow", "oldest packet waiting for a handshake, dropped for a newer one (128 held)"),
    HANDSHAKE_GAVE_UP("handshake-gave-up", "packet that waited for a handshake which got no answer for 90 s");

    private final String label;
    private final String description;

    DropReason(String label, String description) {
        this.label = label;
        this.description = description;
    }

    public String label() {
        return label;
    }

    public String description() {
        return description;
    }
}
