package io.vswitch.vxlan;

import io.netty.buffer.ByteBuf;

/**
 * VXLAN (RFC 7348) as an {@link Encapsulation}: the 8-byte header of {@link VxlanHeader} with the
 * I flag and the VNI; a datagram with the I flag clear is not ours. The flow hash is the entropy:
 * RFC 7348 section 5 recommends the outer UDP source port be "calculated using a hash of fields
 * from the inner packet".
 */
public final class Vxlan implements Encapsulation {
    public static final Vxlan INSTANCE = new Vxlan();

    private Vxlan() {
    }

    @Override
    public String kind() {
        return "vxlan";
    }

    @Override
    public long header(int vni, int flowHash) {
        return ((long) VxlanHeader.FLAG_I << 56) | ((long) vni << 8);
    }

    @Override
    public void writeHeader(ByteBuf buf, int index, int vni, int flowHash) {
        VxlanHeader.write(buf, index, vni);
    }

    @Override
    public int decapsulate(ByteBuf datagram, int index) {
        return VxlanHeader.hasVni(datagram, index) ? VxlanHeader.vni(datagram, index) : NOT_OURS;
    }

    @Override
    public int entropy(int flowHash) {
        return flowHash;
    }
}
