package io.vswitch.core;

/**
 * A way for the control thread to wait until no data-plane lane can still be using a structure
 * it has just retired (the RCU idea; the data plane's grace period implements it).
 */
@FunctionalInterface
public interface Quiescence {
    /** Waits until every lane that was inside a batch when called has left it; false on timeout. */
    boolean await(long timeoutNs);

    /** For single-threaded use (tests, tools): nothing to wait for. */
    Quiescence NONE = timeoutNs -> true;
}
