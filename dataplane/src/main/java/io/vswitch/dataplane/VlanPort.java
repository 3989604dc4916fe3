package io.vswitch.dataplane;

import io.netty.buffer.ByteBuf;
import io.vswitch.core.Port;

/**
 * One network's side of a VLAN trunk on a TAP ({@link VlanTrunk}): frames of VLAN {@code vlan}
 * (0: the native network, untagged) on the wire, untagged inside the network.
 */
public final class VlanPort extends Port {
    private final VlanTrunk trunk;
    private final int vlan;

    VlanPort(VlanTrunk trunk, int vlan, int lanes) {
        super(trunk.name(), lanes);
        this.trunk = trunk;
        this.vlan = vlan;
    }

    public int vlan() {
        return vlan;
    }

    public VlanTrunk trunk() {
        return trunk;
    }

    @Override
    public void transmit(ByteBuf frame, int lane) {
        trunk.send(this, frame, lane);
    }

    void sent(int lane, int bytes) {
        countTx(lane, bytes);
    }

    @Override
    public String kind() {
        return "tap-trunk";
    }

    @Override
    public String remote() {
        return vlan == 0 ? "native" : "vlan " + vlan;
    }

    @Override
    public int queueCount() {
        return trunk.carrier().queueCount();
    }

    @Override
    public boolean offloads() {
        return trunk.carrier().offloads();
    }

    /** Leaves the trunk; the last port to leave closes the device. */
    @Override
    public void close() {
        trunk.remove(this);
    }
}
