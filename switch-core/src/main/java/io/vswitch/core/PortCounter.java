package io.vswitch.core;

/**
 * The counters every port keeps, followed in its {@link Counters} by one drop counter per
 * {@link DropReason} (at {@link #dropIndex}). Drops are counted on the port where the frame
 * came in, except transmit failures, which are counted on the egress port.
 */
public enum PortCounter {
    RX_FRAMES("rx_frames"),
    RX_BYTES("rx_bytes"),
    TX_FRAMES("tx_frames"),
    TX_BYTES("tx_bytes");

    public static final int WIDTH = values().length + DropReason.values().length;

    private final String label;

    PortCounter(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static int dropIndex(DropReason reason) {
        return values().length + reason.ordinal();
    }
}
