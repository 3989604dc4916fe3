package io.vswitch.docker;

/** The switch refused a driver call; Docker shows the message. */
public final class DriverException extends Exception {
    public DriverException(String message) {
        super(message);
    }
}
