package io.vswitch.daemon;

import io.vswitch.control.PortSpec;
import io.vswitch.core.Port;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.tapio.LinkWatcher;
import io.vswitch.tapio.TapPort;
import io.vswitch.tapio.Taps;

import java.util.ArrayList;
import java.util.List;

/**
 * The daemon's ports: TAP devices, opened and let go by {@link Taps}, their link state read by a
 * {@link LinkWatcher}.
 */
final class TapPortFactory implements PortFactory {
    private final Taps taps;
    private final LinkWatcher watcher;

    TapPortFactory(Dataplane dataplane, boolean multiQueue) {
        this.taps = new Taps(dataplane, multiQueue);
        this.watcher = LinkWatcher.start(dataplane);
    }

    @Override
    public Opened open(NetworkRules.Network network, PortSpec spec) throws OpenException {
        boolean offload = network.settings().offload() && !Boolean.FALSE.equals(spec.offload());
        try {
            TapPort port = taps.open(spec.name(), network.settings().mtu(), spec.persistent(), offload);
            return new Opened(port, port.handles(), Taps.origin(port));
        } catch (NativeCallException e) {
            throw new OpenException("cannot open port " + spec.name() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void discard(Port port) {
        if (port instanceof TapPort tap) {
            taps.unpersist(tap);
        }
    }

    @Override
    public void refresh() {
        watcher.sweepNow(1000);
    }

    /** Deletes the TAPs this process created, one batch per namespace, before their fds close. */
    @Override
    public void stop(List<Port> ports) {
        watcher.close();
        List<TapPort> tapPorts = new ArrayList<>();
        for (Port p : ports) {
            if (p instanceof TapPort tap) {
                tapPorts.add(tap);
            }
        }
        taps.deleteCreated(tapPorts);
        taps.close();
    }
}
