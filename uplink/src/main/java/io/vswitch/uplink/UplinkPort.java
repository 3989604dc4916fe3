package io.vswitch.uplink;

import io.netty.buffer.ByteBuf;
import io.vswitch.core.Port;

/**
 * One network's side of an uplink ({@link UplinkDevice}): the whole interface for an access
 * uplink, or one VLAN of a trunk ({@code vlan} 1-4094, tagged on the wire; 0: the trunk's native
 * network, untagged). Sending goes through the device, which pushes the tag.
 */
public final class UplinkPort extends Port {
    /** An access uplink: frames cross as they are, tagged ones too. */
    public static final int ACCESS = -1;
    public static final int NATIVE = 0;

    private final UplinkDevice device;
    private final int vlan;

    UplinkPort(UplinkDevice device, int vlan, int lanes) {
        super(device.name(), lanes);
        this.device = device;
        this.vlan = vlan;
    }

    public UplinkDevice device() {
        return device;
    }

    /** {@link #ACCESS}, {@link #NATIVE} or the VLAN id this port's frames carry on the wire. */
    public int vlan() {
        return vlan;
    }

    @Override
    public void transmit(ByteBuf frame, int lane) {
        device.send(this, frame, lane);
    }

    /** A segment cut in scratch memory that is reused at once: sent now, not queued. */
    @Override
    protected void transmitSegment(ByteBuf segment, int lane) {
        device.sendNow(this, segment, lane);
    }

    void sent(int lane, int bytes) {
        countTx(lane, bytes);
    }

    @Override
    public String kind() {
        return vlan == ACCESS ? "uplink" : "uplink-trunk";
    }

    @Override
    public String remote() {
        return vlan == ACCESS ? null : vlan == NATIVE ? "native" : "vlan " + vlan;
    }

    @Override
    public int queueCount() {
        return device.queues();
    }

    @Override
    public boolean offloads() {
        return device.vnetHeader();
    }

    /** Leaves the device; the last port to leave closes it (the interface leaves promiscuous mode). */
    @Override
    public void close() {
        device.remove(this);
    }
}
