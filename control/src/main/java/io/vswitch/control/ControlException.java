package io.vswitch.control;

/** The daemon refused a call: the HTTP status and its one-line reason. */
public final class ControlException extends Exception {
    private final int status;

    public ControlException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
