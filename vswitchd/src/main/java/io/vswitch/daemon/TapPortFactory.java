package io.vswitch.daemon;

import io.vswitch.control.EndpointSpec;
import io.vswitch.control.PortSpec;
import io.vswitch.core.Port;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.dataplane.VlanPort;
import io.vswitch.dataplane.VlanTrunk;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.tapio.LinkWatcher;
import io.vswitch.tapio.TapPort;
import io.vswitch.tapio.Taps;
import io.vswitch.uplink.UplinkPort;
import io.vswitch.uplink.Uplinks;

import java.util.ArrayList;
import java.util.List;

/**
 * The daemon's ports: TAP devices, opened and let go by {@link Taps}, their link state read by a
 * {@link LinkWatcher}; and uplinks, host interfaces read and written through AF_PACKET
 * ({@link Uplinks}), which are the host's and are never deleted.
 */
final class TapPortFactory implements PortFactory {
    private final Taps taps;
    private final LinkWatcher watcher;
    private final Uplinks uplinks;
    private final Dataplane dataplaneRef;
    private final java.util.Map<String, VlanTrunk> trunks = new java.util.HashMap<>();

    TapPortFactory(Dataplane dataplane, boolean multiQueue) {
        this.dataplaneRef = dataplane;
        this.taps = new Taps(dataplane, multiQueue);
        this.watcher = LinkWatcher.start(dataplane);
        this.uplinks = new Uplinks(dataplane);
    }

    @Override
    public Opened open(NetworkRules.Network network, PortSpec spec) throws OpenException {
        boolean offload = network.settings().offload() && !Boolean.FALSE.equals(spec.offload());
        if (spec.isTrunk() && !spec.isUplink()) {
            return openTrunk(network, spec, offload);
        }
        if (spec.isUplink()) {
            try {
                UplinkPort port = uplinks.open(spec.name(), spec.isTrunk(), network.spec().vlan(), offload);
                return new Opened(port, List.of(), "host interface through AF_PACKET"
                        + (spec.isTrunk() ? ", trunk: " + (network.spec().vlan() == null ? "native (untagged)"
                        : "vlan " + network.spec().vlan()) : ""));
            } catch (NativeCallException e) {
                throw new OpenException("cannot open uplink " + spec.name() + ": " + e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw new OpenException(e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new OpenException("interrupted while opening uplink " + spec.name(), e);
            }
        }
        try {
            TapPort port = taps.open(spec.name(), network.settings().mtu(), spec.persistent(), offload);
            return new Opened(port, port.handles(), Taps.origin(port));
        } catch (NativeCallException e) {
            throw new OpenException("cannot open port " + spec.name() + ": " + e.getMessage(), e);
        }
    }

    /** A TAP carrying several networks, each tagged with its VLAN: the first network makes it. */
    private synchronized Opened openTrunk(NetworkRules.Network network, PortSpec spec, boolean offload)
            throws OpenException {
        Integer vlan = network.spec().vlan();
        try {
            VlanTrunk trunk = trunks.get(spec.name());
            if (trunk == null) {
                TapPort carrier = taps.open(spec.name(), network.settings().mtu(), false, offload);
                try {
                    trunk = VlanTrunk.start(carrier, dataplaneRef, () -> forgetTrunk(spec.name()));
                } catch (InterruptedException | RuntimeException e) {
                    carrier.close();
                    throw e;
                }
                trunks.put(spec.name(), trunk);
            } else if (trunk.carrier().offloads() != offload) {
                throw new OpenException("the networks of trunk " + spec.name() + " must agree on offloads", null);
            }
            VlanPort port = trunk.add(vlan == null ? 0 : vlan);
            return new Opened(port, List.of(), "TAP trunk: " + (vlan == null ? "native (untagged)" : "vlan " + vlan));
        } catch (NativeCallException e) {
            throw new OpenException("cannot open trunk " + spec.name() + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new OpenException(e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OpenException("interrupted while opening trunk " + spec.name(), e);
        }
    }

    private synchronized void forgetTrunk(String name) {
        trunks.remove(name);
    }

    @Override
    public Opened openIn(NetworkRules.Network network, String portName, Taps.Placement placement) throws OpenException {
        try {
            TapPort port = taps.openIn(portName, network.settings().mtu(), network.settings().offload(), placement);
            return new Opened(port, port.handles(), "made in " + placement.netns());
        } catch (NativeCallException e) {
            throw new OpenException("cannot make " + portName + " in " + placement.netns() + " as "
                    + placement.ifname() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Opened reopen(NetworkRules.Network network, EndpointSpec e) throws OpenException {
        try {
            TapPort port = taps.reopen(e.port(), e.netns() == null ? null : java.nio.file.Path.of(e.netns()), e.ifname(),
                    Attachments.alias(network.name(), e.id()), network.settings().offload());
            return new Opened(port, port.handles(), "re-attached" + (e.netns() == null ? "" : " in " + e.netns()));
        } catch (NativeCallException ex) {
            throw new OpenException("cannot find endpoint " + e.id() + " (" + e.ifname() + " in " + e.netns() + ") again: "
                    + ex.getMessage(), ex);
        }
    }

    @Override
    public void handOver(Port port, long mac, String alias) throws OpenException {
        try {
            taps.handOver((TapPort) port, mac, alias);
        } catch (NativeCallException e) {
            throw new OpenException("cannot ready " + port.name() + " for the runtime: " + e.getMessage(), e);
        }
    }

    @Override
    public void configureHere(Port port, long mac, List<Taps.Address> addresses) throws OpenException {
        try {
            taps.configureHere((TapPort) port, mac, addresses);
        } catch (NativeCallException e) {
            throw new OpenException("cannot give " + port.name() + " its addresses: " + e.getMessage(), e);
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

    @Override
    public void watchClosely() {
        watcher.burst(3000);
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
