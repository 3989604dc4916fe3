package io.vswitch.daemon;

import io.vswitch.control.PortSpec;
import io.vswitch.core.Port;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.tapio.TapPort;
import io.vswitch.tapio.Taps;

/** The daemon's ports: TAP devices, opened and let go by {@link Taps}. */
final class TapPortFactory implements PortFactory {
    private final Taps taps;

    TapPortFactory(Taps taps) {
        this.taps = taps;
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
}
