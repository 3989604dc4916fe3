package io.vswitch.vxlan;

import io.netty.buffer.ByteBuf;
import io.vswitch.core.Port;
import io.vswitch.nativetap.DatagramBatch;

import java.net.InetAddress;

/**
 * A port of an overlay network that leads to one remote VTEP. Learning maps inner source MACs
 * to the tunnel port of the VTEP they came from, flooding sends a copy through every tunnel
 * port of the network (head-end replication), and split horizon keeps frames that came from a
 * tunnel out of the others, all with the ordinary forwarding rules.
 */
public final class TunnelPort extends Port {
    private final VxlanEndpoint endpoint;
    private final int vni;
    private final InetAddress peer;
    private final long destination;

    TunnelPort(VxlanEndpoint endpoint, int vni, InetAddress peer, int lanes) {
        super("vxlan:" + peer.getHostAddress(), lanes);
        this.endpoint = endpoint;
        this.vni = vni;
        this.peer = peer;
        this.destination = DatagramBatch.destination((java.net.Inet4Address) peer, endpoint.port());
    }

    public int vni() {
        return vni;
    }

    public InetAddress peer() {
        return peer;
    }

    /** The VTEP as {@link DatagramBatch#destination} packs it. */
    long destination() {
        return destination;
    }

    @Override
    public boolean isTunnel() {
        return true;
    }

    @Override
    public void transmit(ByteBuf frame, int lane) {
        io.vswitch.core.BridgeDomain domain = domain();
        if (domain != null && domain.settings().offload()) {
            endpoint.sendOffloaded(this, frame, lane);
        } else {
            endpoint.send(this, frame, lane);
        }
    }

    void sent(int lane, int bytes) {
        countTx(lane, bytes);
    }

    @Override
    public String describe() {
        return "vxlan tunnel to " + peer.getHostAddress() + " (vni " + vni + ")";
    }
}
