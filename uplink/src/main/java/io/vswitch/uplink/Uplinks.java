package io.vswitch.uplink;

import io.vswitch.dataplane.Dataplane;
import io.vswitch.nativetap.NativeCallException;

import java.util.HashMap;
import java.util.Map;

/**
 * The uplinks of a daemon by interface name: the first network to take an interface opens it
 * ({@link UplinkDevice}); each further network of a trunk adds its VLAN's port to it; the last
 * port to leave closes it.
 */
public final class Uplinks {
    private final Dataplane dataplane;
    private final Map<String, UplinkDevice> devices = new HashMap<>();

    public Uplinks(Dataplane dataplane) {
        this.dataplane = dataplane;
    }

    /**
     * The port of one network on interface {@code ifname}: an access port ({@code trunk} false),
     * or on a trunk the port of {@code vlan} (null: the native, untagged network). {@code vnet}:
     * the network has offloads (GSO frames cross whole); every network of a trunk must agree.
     */
    public synchronized UplinkPort open(String ifname, boolean trunk, Integer vlan, boolean vnet)
            throws NativeCallException, InterruptedException {
        UplinkDevice d = devices.get(ifname);
        if (d != null) {
            if (!trunk || !d.isTrunk()) {
                throw new IllegalArgumentException("interface " + ifname + " is already an uplink of "
                        + d.members().getFirst().domain() + "; only a trunk (trunk: true everywhere) carries several networks");
            }
            if (d.vnetHeader() != vnet) {
                throw new IllegalArgumentException("the networks of trunk " + ifname + " must agree on offloads ("
                        + d.members().getFirst().domain() + " has them " + (d.vnetHeader() ? "on" : "off") + ")");
            }
        } else {
            d = UplinkDevice.open(ifname, trunk, vnet, dataplane, () -> forget(ifname));
            devices.put(ifname, d);
        }
        // Only an interface already open can refuse a VLAN (taken by another network of the trunk).
        return d.add(!trunk ? UplinkPort.ACCESS : vlan == null ? UplinkPort.NATIVE : vlan);
    }

    private synchronized void forget(String ifname) {
        devices.remove(ifname);
    }

    public synchronized boolean isOpen(String ifname) {
        return devices.containsKey(ifname);
    }
}
