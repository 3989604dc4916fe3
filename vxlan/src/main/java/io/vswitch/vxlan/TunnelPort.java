package io.vswitch.vxlan;

import io.netty.buffer.ByteBuf;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.Port;
import io.vswitch.nativetap.DatagramBatch;

import java.net.Inet4Address;

/**
 * A port of an overlay network that leads to one remote VTEP. Learning maps inner source MACs
 * to the tunnel port of the VTEP they came from, flooding sends a copy through every tunnel
 * port of the network (head-end replication), and split horizon keeps frames that came from a
 * tunnel out of the others, all with the ordinary forwarding rules. It reads nothing itself:
 * the endpoint's receive sockets hand it what its VTEP sends.
 */
public final class TunnelPort extends Port {
    private final VxlanSender sender;
    private final int vni;
    private final Inet4Address peer;
    private final long destination;

    TunnelPort(VxlanSender sender, int vni, Inet4Address peer, int udpPort, int lanes) {
        super("vxlan:" + peer.getHostAddress(), lanes);
        this.sender = sender;
        this.vni = vni;
        this.peer = peer;
        this.destination = DatagramBatch.destination(peer, udpPort);
    }

    public int vni() {
        return vni;
    }

    public Inet4Address peer() {
        return peer;
    }

    /** The VTEP as {@link DatagramBatch#destination} packs it. */
    long destination() {
        return destination;
    }

    @Override
    public String kind() {
        return "vxlan";
    }

    @Override
    public String remote() {
        return peer.getHostAddress();
    }

    @Override
    public boolean isTunnel() {
        return true;
    }

    @Override
    public void transmit(ByteBuf frame, int lane) {
        BridgeDomain domain = domain();
        if (domain != null && domain.settings().offload()) {
            sender.sendOffloaded(this, frame, lane);
        } else {
            sender.send(this, frame, lane);
        }
    }

    void sent(int lane, int bytes) {
        countTx(lane, bytes);
    }
}
