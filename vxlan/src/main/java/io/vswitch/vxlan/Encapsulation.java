package io.vswitch.vxlan;

import io.netty.buffer.ByteBuf;

/**
 * An overlay's wire format: how a network's frame is wrapped for the underlay and unwrapped on
 * arrival, and how much of its flow the wrapping shows the underlay (entropy, so ECMP can spread
 * flows). {@link Vxlan} is the one there is; another (Geneve, NVGRE, VXLAN-GPE) is another class
 * of this interface. What does not depend on the format is shared by every encapsulation: which
 * network a VNI is and who its peers are ({@link Overlays}), the tunnel ports ({@link TunnelPort}),
 * batching, GSO and coalescing ({@link TunnelSender}, {@link TunnelReceiver}), and the transport
 * underneath ({@link Underlay}).
 *
 * <p>A header is {@link #HEADER_LENGTH} bytes (as VXLAN's and Geneve's without options), handed
 * to the underlay as one {@code long} that goes in front of the frame's own memory: the frame is
 * never copied to be wrapped. Implementations are stateless and safe for every lane.
 */
public interface Encapsulation {
    /** The length of every header of an encapsulation, what the send batches hold in front of a frame. */
    int HEADER_LENGTH = 8;
    /** What {@link #decapsulate} says of a datagram that is not this encapsulation's ({@code drop_no_vni_flag}). */
    int NOT_OURS = -1;

    /** The tunnel ports' kind, as the API and metrics print it ("vxlan"). */
    String kind();

    /**
     * The header for a frame of network {@code vni} and flow {@code flowHash}: {@link #HEADER_LENGTH}
     * bytes, the first one most significant.
     */
    long header(int vni, int flowHash);

    /** Writes {@link #header} at {@code index} of {@code buf} (segments built in a scratch). */
    void writeHeader(ByteBuf buf, int index, int vni, int flowHash);

    /** The network of the datagram whose header starts at {@code index}, or {@link #NOT_OURS}. */
    int decapsulate(ByteBuf datagram, int index);

    /**
     * The entropy the underlay spreads a frame of flow {@code flowHash} on (for UDP, which source
     * port, so the underlay's ECMP keeps a flow on one path and spreads the others). Non-negative.
     */
    int entropy(int flowHash);
}
