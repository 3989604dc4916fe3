package io.vswitch.core;

/**
 * Stage "capture", in the arc while a capture watches the network: each running capture
 * ({@link PacketTap}) sees every frame the ingress received that passed validation and learning.
 * What is sent to each port it sees at output ({@link OutputStage}).
 */
final class CaptureStage implements Stage {
    private final PacketTap[] taps;

    CaptureStage(PacketTap[] taps) {
        this.taps = taps;
    }

    @Override
    public String name() {
        return "capture";
    }

    @Override
    public void process(Batch b) {
        Port ingress = b.ingress();
        int lane = b.lane();
        for (int i = 0, n = b.count(); i < n; i++) {
            if (!b.isOpen(i)) {
                continue;
            }
            for (PacketTap t : taps) {
                t.received(ingress, b.frame(i), lane);
            }
        }
    }
}
