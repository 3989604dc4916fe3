package io.vswitch.tapio;

import io.vswitch.dataplane.Dataplane;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.TapDevice;
import io.vswitch.nativetap.TapOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The life of the TAP devices behind {@link TapPort}s: open one queue per loop (IFF_MULTI_QUEUE
 * with several loops), create the device when absent, set its MTU and bring it up, turn on
 * offloads (IFF_VNET_HDR + TUNSETOFFLOAD), make it persistent (TUNSETPERSIST) so that it
 * outlives the daemon with its container, and, for a persistent one, find it again after a
 * restart in whichever network namespace a runtime moved it to. Releasing a port clears its
 * persistence when the device is to go, then closes its queues.
 */
public final class Taps {
    private static final Logger LOG = LoggerFactory.getLogger(Taps.class);

    private final Dataplane dataplane;

    public Taps(Dataplane dataplane) {
        this.dataplane = dataplane;
    }

    /** How a TAP is opened here: one queue per loop when there are several loops. */
    public TapOptions options(boolean offload) {
        return new TapOptions(offload, dataplane.threads() > 1);
    }

    public int queuesPerPort(TapOptions options) {
        return options.multiQueue() ? dataplane.threads() : 1;
    }

    /**
     * Opens TAP {@code name} as a port, not yet attached: a persistent one is first looked for in
     * every namespace (re-attached where a runtime moved it; its MTU and link state are then the
     * container's business), else it is created (or taken over) here with {@code mtu} and up.
     * All or nothing: on failure nothing stays open and a device created here is gone.
     */
    public TapPort open(String name, int mtu, boolean persist, boolean offload) throws NativeCallException {
        TapOptions options = options(offload);
        int count = queuesPerPort(options);
        List<TapDevice> queues = persist ? TapDevice.openQueues(name, options, count, true) : List.of();
        if (queues.isEmpty()) {
            queues = TapDevice.openQueues(name, options, count, false);
        }
        try {
            TapDevice first = queues.get(0);
            if (first.namespace() == null) {
                first.setMtu(mtu);
                first.setUp(true);
            }
            if (offload) {
                for (TapDevice q : queues) {
                    q.enableOffloads();
                }
            }
            if (persist) {
                first.setPersistent(true);
            }
        } catch (NativeCallException e) {
            queues.forEach(TapDevice::close);
            throw e;
        }
        return new TapPort(queues, persist, dataplane);
    }

    /**
     * Lets a detached port's device go for good: a persistent one is made non-persistent so it
     * disappears when its queues close. A failed port's device is gone already.
     */
    public void unpersist(TapPort port) {
        if (!port.persistent() || port.hasFailed()) {
            return;
        }
        try {
            port.device().setPersistent(false);
        } catch (NativeCallException e) {
            LOG.warn("port {}: cannot clear persistence, the device stays: {}", port.name(), e.getMessage());
        }
    }

    /** Where the port's device was found, for the log. */
    public static String origin(TapPort port) {
        TapDevice d = port.device();
        return d.namespace() != null ? "re-attached in " + d.namespace() : d.created() ? "created" : "existing device";
    }
}
