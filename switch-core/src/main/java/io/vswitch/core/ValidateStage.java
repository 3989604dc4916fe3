package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * Stage "validate": {@link Forwarder#validate} on every frame (runt, oversize, invalid source
 * MAC, and in an offload network the virtio-net header's checksum and GSO metadata); a frame that
 * passes has its addresses read into the batch for every stage after this one. A GSO frame's
 * layers are parsed through the batch, so whatever cuts it into segments at egress reuses them.
 */
final class ValidateStage implements Stage {
    private final int mtu;
    private final boolean offload;

    ValidateStage(int mtu, boolean offload) {
        this.mtu = mtu;
        this.offload = offload;
    }

    @Override
    public String name() {
        return "validate";
    }

    @Override
    public void process(Batch b) {
        for (int i = 0, n = b.count(); i < n; i++) {
            if (!b.isOpen(i)) {
                continue;
            }
            ByteBuf frame = b.frame(i);
            long layers = offload && VirtioNetHeader.gsoType(frame) != VirtioNetHeader.GSO_NONE
                    ? b.layers(i) : Layers.UNPARSED;
            int verdict = Forwarder.validate(frame, mtu, offload, layers);
            if (verdict == Forwarder.VALID) {
                b.readAddresses(i);
            } else {
                b.decide(i, verdict);
            }
        }
    }
}
