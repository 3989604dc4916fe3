package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * The forwarding decision, a pure function: frame + table + ingress port -> one egress port,
 * flood, or a drop with a named reason. No I/O, no allocation, no clock; the pipeline, the
 * {@code trace} command and the tests all call these same two functions.
 *
 * <p>Decisions are encoded in one {@code int}: a positive value is the egress port id,
 * {@link #FLOOD} is zero, and a negative value is {@code -(1 + DropReason.ordinal())}.
 */
public final class Forwarder {
    public static final int FLOOD = 0;
    /** validate() result for a frame that may be forwarded. */
    public static final int VALID = Integer.MAX_VALUE;

    private Forwarder() {
    }

    public static int drop(DropReason reason) {
        return -1 - reason.ordinal();
    }

    public static boolean isDrop(int decision) {
        return decision < 0;
    }

    public static DropReason reason(int decision) {
        return DropReason.of(-1 - decision);
    }

    /**
     * Checks a received frame against the network's rules: at least an Ethernet header, at most
     * MTU + 18 bytes, and a unicast non-zero source MAC. Returns {@link #VALID} or a drop.
     */
    public static int validate(ByteBuf frame, int mtu) {
        return validate(frame, mtu, false);
    }

    /**
     * As {@link #validate(ByteBuf, int)}; in an offload network a frame whose virtio-net header
     * announces segmentation (GSO) may be up to 64 KB: the receiving kernel or NIC cuts it into
     * MTU-sized packets.
     */
    public static int validate(ByteBuf frame, int mtu, boolean offload) {
        int length = frame.readableBytes();
        if (length < EthernetFrame.HEADER_LENGTH) {
            return drop(DropReason.RUNT);
        }
        if (length > mtu + EthernetFrame.MAX_OVERHEAD && !(offload && length <= VirtioNetHeader.MAX_GSO_FRAME
                && VirtioNetHeader.gsoType(frame) != VirtioNetHeader.GSO_NONE)) {
            return drop(DropReason.OVERSIZE);
        }
        if (!MacAddress.isValidSource(EthernetFrame.source(frame))) {
            return drop(DropReason.INVALID_SOURCE);
        }
        return VALID;
    }

    /**
     * Where a valid frame to {@code destination} that came in on {@code ingress} goes: group
     * addresses and unknown unicast flood; a destination learned on a port that is no longer
     * current (removed, re-added) or not up floods as unknown; a destination learned on the
     * ingress port itself is dropped (a frame never goes back out its ingress), and so is one
     * from a tunnel to a destination behind another tunnel (split horizon).
     */
    public static int forward(BridgeDomain domain, long destination, Port ingress) {
        if (MacAddress.isGroup(destination)) {
            return FLOOD;
        }
        long entry = domain.table().lookup(destination);
        if (entry == 0) {
            return FLOOD;
        }
        Port egress = domain.port(MacTable.portId(entry));
        if (egress == null || (egress.generation() & 0x7FFF) != MacTable.generation(entry) || !egress.isUp()) {
            return FLOOD;
        }
        if (egress == ingress) {
            return drop(DropReason.HAIRPIN);
        }
        if (ingress.isTunnel() && egress.isTunnel()) {
            return drop(DropReason.SPLIT_HORIZON);
        }
        return egress.id();
    }
}
