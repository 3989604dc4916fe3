package io.vswitch.daemon;

import io.vswitch.control.PortSpec;
import io.vswitch.core.ChannelPort;
import io.vswitch.core.Port;
import io.vswitch.dataplane.Dataplane;

import java.util.ArrayList;
import java.util.List;

/** In-memory ports for the registry: no device, no root. Remembers what it discarded. */
public final class ChannelPortFactory implements PortFactory {
    private final Dataplane dataplane;
    public final List<String> discarded = new ArrayList<>();

    public ChannelPortFactory(Dataplane dataplane) {
        this.dataplane = dataplane;
    }

    @Override
    public Opened open(NetworkRules.Network network, PortSpec spec) throws OpenException {
        if (spec.name().startsWith("busy")) {
            throw new OpenException("cannot open port " + spec.name() + ": ioctl(TUNSETIFF) on \"" + spec.name()
                    + "\" failed: EBUSY (device busy: held by another process)", null);
        }
        return new Opened(new ChannelPort(spec.name(), dataplane.lanes(), false, false), List.of(), "in memory");
    }

    @Override
    public void discard(Port port) {
        discarded.add(port.name());
    }
}
