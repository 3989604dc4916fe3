package io.vswitch.daemon;

import io.vswitch.control.EndpointSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.tapio.Taps;
import io.vswitch.core.Port;
import io.vswitch.dataplane.LaneHandle;

import java.util.List;

/**
 * Makes the ports of the registry's networks: TAP devices in the daemon, in-memory channel ports
 * in tests of the control plane. The registry decides what exists; a factory only opens and
 * lets go of the devices behind it.
 */
public interface PortFactory {
    /** A port opened and not yet attached: the handles the loops read, and where it came from (for the log). */
    record Opened(Port port, List<? extends LaneHandle> handles, String origin) {
    }

    /** A device refused (the message names the device, the call and the errno). */
    final class OpenException extends Exception {
        public OpenException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Opens the port {@code spec} of {@code network} (persistence and offloads already resolved). */
    Opened open(NetworkRules.Network network, PortSpec spec) throws OpenException;

    /**
     * Opens a container's port right in its namespace, placed as {@code placement} says
     * ({@link Taps#openIn}): persistent, not yet attached. All or nothing.
     */
    Opened openIn(NetworkRules.Network network, String portName, Taps.Placement placement) throws OpenException;

    /**
     * Readies a port for a runtime that moves and configures its device itself (Docker): MAC and
     * alias set, persistent from then on.
     */
    void handOver(Port port, long mac, String alias) throws OpenException;

    /** Opens again, after a restart, an endpoint's port where its container has it. */
    Opened reopen(NetworkRules.Network network, EndpointSpec endpoint) throws OpenException;

    /** Gives a port in the daemon's own namespace its MAC and addresses and brings it up: a network's gateway port. */
    void configureHere(Port port, long mac, List<Taps.Address> addresses) throws OpenException;

    /**
     * The port is about to be removed for good (port or network deleted): let its device go with
     * it, even a persistent one. Not called when the daemon only stops.
     */
    void discard(Port port);

    /** Brings what the ports report of their devices (link state, device drops) up to date, briefly. */
    default void refresh() {
    }

    /** A runtime is about to move a port's device and bring it up: look at the ports often for a while. */
    default void watchClosely() {
    }

    /**
     * The daemon is stopping: the loops have stopped and {@code ports} are about to close. A
     * factory may let go in bulk here what closing one by one would make slow.
     */
    default void stop(List<Port> ports) {
    }
}
