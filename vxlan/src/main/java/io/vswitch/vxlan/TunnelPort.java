package io.vswitch.vxlan;

import io.netty.buffer.ByteBuf;
import io.vswitch.core.Batch;
import io.vswitch.core.FlowHash;
import io.vswitch.core.Port;
import io.vswitch.nativetap.DatagramBatch;

import java.net.Inet4Address;

/**
 * A port of an overlay network that leads to one remote VTEP. Learning maps inner source MACs
 * to the tunnel port of the VTEP they came from, flooding sends a copy through every tunnel
 * port of the network (head-end replication), and split horizon keeps frames that came from a
 * tunnel out of the others, all with the ordinary forwarding rules. It reads nothing itself:
 * the endpoint's receivers hand it what its VTEP sends. It takes no virtio-net header: the
 * egress adapter finishes an offload frame's checksum before it comes here, and a GSO frame comes
 * through {@link #outputGso}, cut by the sender.
 */
public final class TunnelPort extends Port {
    private final TunnelSender sender;
    private final int vni;
    private final Inet4Address peer;
    private final long destination;

    TunnelPort(TunnelSender sender, int vni, Inet4Address peer, int udpPort, int lanes) {
        super(sender.encapsulation().kind() + ":" + peer.getHostAddress(), lanes);
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
        return sender.encapsulation().kind();
    }

    @Override
    public String remote() {
        return peer.getHostAddress();
    }

    @Override
    public boolean isTunnel() {
        return true;
    }

    /** A frame from outside a batch (an answer, an announcement): its flow hashed here. */
    @Override
    public void transmit(ByteBuf frame, int lane) {
        sender.send(this, frame, FlowHash.of(frame), lane);
    }

    /** A frame of a batch, with the flow hash the batch computed once for every peer of a flood. */
    @Override
    protected void output(ByteBuf frame, int lane, Batch batch, int i) {
        sender.send(this, frame, batch.flowHash(i), lane);
    }

    @Override
    protected void outputGso(ByteBuf frame, int lane, Batch batch, int i) {
        sender.sendGso(this, frame, batch.layers(i), batch.flowHash(i), lane);
    }

    void sent(int lane, int bytes) {
        countTx(lane, bytes);
    }
}
