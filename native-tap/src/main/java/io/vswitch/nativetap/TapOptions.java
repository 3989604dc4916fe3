package io.vswitch.nativetap;

/**
 * How a TAP queue is opened. {@code vnetHeader} puts a virtio_net_hdr in front of every frame
 * (needed for checksum and segmentation offloads); {@code multiQueue} lets several fds each
 * own one queue of the same device.
 */
public record TapOptions(boolean vnetHeader, boolean multiQueue) {
    public static final TapOptions PLAIN = new TapOptions(false, false);

    static final short IFF_TAP = 0x0002;
    static final short IFF_NO_PI = 0x1000;
    static final short IFF_MULTI_QUEUE = 0x0100;
    static final short IFF_VNET_HDR = 0x4000;

    short ifrFlags() {
        int flags = IFF_TAP | IFF_NO_PI;
        if (vnetHeader) {
            flags |= IFF_VNET_HDR;
        }
        if (multiQueue) {
            flags |= IFF_MULTI_QUEUE;
        }
        return (short) flags;
    }
}
