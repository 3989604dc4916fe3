package io.vswitch.wireguard;

/** What an interface counts besides drops; labels are what metrics and show print. */
public enum DeviceCounter {
    RX_DATAGRAMS("rx_datagrams", "datagrams handed to receive"),
    RX_DATA("rx_data", "transport messages that carried a packet"),
    RX_KEEPALIVES("rx_keepalives", "transport messages that were keepalives"),
    TX_DATA("tx_data", "packets sealed into transport messages"),
    TX_KEEPALIVES("tx_keepalives", "keepalives sent"),
    INITIATIONS_SENT("initiations_sent", "handshake initiations sent (retransmissions included)"),
    INITIATIONS_RECEIVED("initiations_received", "initiations consumed and answered"),
    RESPONSES_RECEIVED("responses_received", "responses consumed: handshakes we initiated that completed"),
    COOKIE_REPLIES_SENT("cookie_replies_sent", "cookie replies sent while under load"),
    COOKIE_REPLIES_RECEIVED("cookie_replies_received", "cookie replies consumed"),
    STAGED("staged", "packets held while waiting for a handshake"),
    KEYS_ZEROED("keys_zeroed", "times a peer's keys were erased after 3 x REJECT_AFTER_TIME without a new session");

    private final String label;
    private final String description;

    DeviceCounter(String label, String description) {
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
