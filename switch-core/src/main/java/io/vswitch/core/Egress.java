package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * The one way a frame of a batch leaves through a port, and the one place that fits an offload
 * network's frames to a port that cannot take them whole. A frame of an offload network carries a
 * virtio-net header in front ({@link VirtioNetHeader}); for each (frame, port):
 * <ul>
 *   <li>the network has no offloads, or the port takes virtio-net headers itself (a TAP with
 *       offloads, an uplink with PACKET_VNET_HDR): the frame as it is ({@link Port#output});</li>
 *   <li>a frame whose checksum was left to do: finished in place (its header then says so, for
 *       every later egress of the same frame), then as it is;</li>
 *   <li>a GSO frame (up to 64 KB): the port cuts it ({@link Port#outputGso}): a TAP without
 *       offloads writes MTU-sized frames cut in the lane's scratch, a tunnel cuts only headers
 *       and sends the segments with UDP GSO. The frame's layers are the ones validation parsed.</li>
 * </ul>
 * Before this class the network's {@code offload} flag was checked by each port kind's transmit.
 */
final class Egress {
    private Egress() {
    }

    /**
     * Sends {@code frame}, frame {@code i} of {@code b} (lane {@code lane}'s), through {@code port},
     * in a form the port takes.
     */
    static void send(Port port, ByteBuf frame, int lane, Batch b, int i) {
        if (!b.offload() || port.offloads()) {
            port.output(frame, lane, b, i);
            return;
        }
        if (VirtioNetHeader.gsoType(frame) != VirtioNetHeader.GSO_NONE) {
            port.outputGso(frame, lane, b, i);
            return;
        }
        if ((VirtioNetHeader.flags(frame) & VirtioNetHeader.FLAG_NEEDS_CSUM) != 0) {
            Segmenter.completeChecksum(frame);
        }
        port.output(frame, lane, b, i);
    }
}
