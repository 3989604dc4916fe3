package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * The forwarding decision, a pure function: frame + table + ingress port -> one egress port,
 * flood, or a drop with a named reason. No I/O, no allocation, no clock; the pipeline's stages
 * ({@link ValidateStage}, {@link LookupStage}), the {@code trace} command and the tests all call
 * these same two functions.
 *
 * <p>Decisions are encoded in one {@code int}: a positive value is the egress port id,
 * {@link #FLOOD} is zero, and a negative value is {@code -(1 + DropReason.ordinal())}.
 */
public final class Forwarder {
    public static final int FLOOD = 0;
    /** validate() result for a frame that may be forwarded. */
    public static final int VALID = Integer.MAX_VALUE;
    /** The switch answered the frame itself ({@link Responder}): it goes nowhere else. */
    public static final int ANSWERED = Integer.MAX_VALUE - 1;

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
     * MTU-sized packets. Its offload metadata is checked against what a Linux stack would
     * produce ({@link #validateOffload}): a container can craft it (an AF_PACKET socket with
     * PACKET_VNET_HDR), and a 64 KB frame with a 1-byte segment size becomes 64 K frames to cut.
     */
    public static int validate(ByteBuf frame, int mtu, boolean offload) {
        return validate(frame, mtu, offload, Layers.UNPARSED);
    }

    /**
     * As {@link #validate(ByteBuf, int, boolean)}, with the frame's {@link Layers} when the caller
     * has them ({@link Layers#UNPARSED}: parsed here if a GSO frame needs them), so a batch parses
     * a frame once for validation and segmentation.
     */
    public static int validate(ByteBuf frame, int mtu, boolean offload, long layers) {
        int length = frame.readableBytes();
        if (length < EthernetFrame.HEADER_LENGTH) {
            return drop(DropReason.RUNT);
        }
        int gso = offload ? VirtioNetHeader.gsoType(frame) : VirtioNetHeader.GSO_NONE;
        if (length > mtu + EthernetFrame.MAX_OVERHEAD && !(gso != VirtioNetHeader.GSO_NONE
                && length <= VirtioNetHeader.MAX_GSO_FRAME)) {
            return drop(DropReason.OVERSIZE);
        }
        if (!MacAddress.isValidSource(EthernetFrame.source(frame))) {
            return drop(DropReason.INVALID_SOURCE);
        }
        if (offload && (gso != VirtioNetHeader.GSO_NONE
                || (VirtioNetHeader.flags(frame) & VirtioNetHeader.FLAG_NEEDS_CSUM) != 0)) {
            return validateOffload(frame, mtu, gso, layers);
        }
        return VALID;
    }

    /** The largest number of segments the kernel's UDP GSO makes of one send (UDP_MAX_SEGMENTS). */
    public static final int MAX_UDP_SEGMENTS = 128;

    /**
     * Checks a frame's virtio-net header against what a Linux stack hands over: a checksum to
     * complete inside the frame; for GSO, a type the switch knows (TCPv4, TCPv6, UDP L4) that
     * matches the frame's headers, a segment size from TCP's minimum MSS (88) up to what fits
     * the MTU, and for UDP at most 128 segments.
     */
    static int validateOffload(ByteBuf frame, int mtu, int gso, long layers) {
        int length = frame.readableBytes();
        if ((VirtioNetHeader.flags(frame) & VirtioNetHeader.FLAG_NEEDS_CSUM) != 0) {
            int header = frame.readerIndex() - VirtioNetHeader.LENGTH;
            int start = frame.getUnsignedShortLE(header + VirtioNetHeader.CSUM_START_OFFSET);
            int offset = frame.getUnsignedShortLE(header + VirtioNetHeader.CSUM_OFFSET_OFFSET);
            if (start + offset + 2 > length) {
                return drop(DropReason.CSUM_INVALID);
            }
        }
        if (gso == VirtioNetHeader.GSO_NONE) {
            return VALID;
        }
        if (layers == Layers.UNPARSED) {
            layers = Layers.of(frame);
        }
        if (layers == Layers.NONE) {
            return drop(DropReason.GSO_INVALID);
        }
        boolean ipv4 = Layers.isIpv4(frame, layers);
        boolean tcp = Layers.isTcp(layers);
        boolean fits = switch (gso) {
            case VirtioNetHeader.GSO_TCPV4 -> tcp && ipv4;
            case VirtioNetHeader.GSO_TCPV6 -> tcp && !ipv4;
            case VirtioNetHeader.GSO_UDP_L4 -> !tcp;
            default -> false;
        };
        int payload = length - Layers.payload(layers);
        if (!fits || payload <= 0) {
            return drop(DropReason.GSO_INVALID);
        }
        int size = VirtioNetHeader.gsoSize(frame);
        // Each segment is an IP packet of the headers from L3 on and one gso_size of payload: at most the MTU.
        int ipHeaders = Layers.payload(layers) - Layers.l3(layers);
        if (size < (tcp ? TcpHeader.MIN_MSS : UdpHeader.LENGTH) || ipHeaders + size > mtu) {
            return drop(DropReason.GSO_SIZE);
        }
        if (!tcp && (payload + size - 1) / size > MAX_UDP_SEGMENTS) {
            return drop(DropReason.GSO_SEGMENTS);
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
        if (ingress.isIsolated() && egress.isIsolated()) {
            return drop(DropReason.ISOLATED);
        }
        return egress.id();
    }
}
