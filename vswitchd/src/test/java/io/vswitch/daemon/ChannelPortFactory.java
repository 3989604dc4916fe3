package io.vswitch.daemon;

import io.vswitch.control.EndpointSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.tapio.Taps;
import io.vswitch.core.ChannelPort;
import io.vswitch.core.Port;
import io.vswitch.dataplane.Dataplane;

import java.util.List;

/** In-memory ports for the registry: no device, no root. Remembers what it discarded. */
public final class ChannelPortFactory implements PortFactory {
    private final Dataplane dataplane;
    public final List<String> discarded = new java.util.concurrent.CopyOnWriteArrayList<>();

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

    /** Placements asked for, as "port -> ifname in netns". */
    public final List<String> placed = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** A placement as "slow..." waits here, as a namespace that takes its time would. */
    public final java.util.concurrent.CountDownLatch slowGate = new java.util.concurrent.CountDownLatch(1);
    /** Slow placements that have begun (and wait at the gate). */
    public final java.util.concurrent.atomic.AtomicInteger slowStarted = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public Opened openIn(NetworkRules.Network network, String portName, Taps.Placement p) throws OpenException {
        if (p.ifname().startsWith("slow")) {
            slowStarted.incrementAndGet();
            try {
                slowGate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new OpenException("interrupted", e);
            }
        }
        if (p.ifname().startsWith("busy")) {
            throw new OpenException("cannot make " + portName + " in " + p.netns() + ": RTM_NEWLINK failed: EEXIST", null);
        }
        placed.add(portName + " -> " + p.ifname() + " in " + p.netns());
        return new Opened(new ChannelPort(portName, dataplane.lanes(), false, false), List.of(), "in memory");
    }

    @Override
    public Opened reopen(NetworkRules.Network network, EndpointSpec endpoint) {
        return new Opened(new ChannelPort(endpoint.port(), dataplane.lanes(), false, false), List.of(), "in memory");
    }

    @Override
    public void configureHere(Port port, long mac, List<Taps.Address> addresses) {
    }

    @Override
    public void handOver(Port port, long mac, String alias) {
    }
}
