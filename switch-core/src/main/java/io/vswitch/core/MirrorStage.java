package io.vswitch.core;

/**
 * Stage "mirror", in the arc of a network with mirrors: a copy of every valid frame the ingress
 * received goes to the output of the mirror that watches what the ingress receives, if one does.
 * Copies of what is sent to a port are made at output ({@link OutputStage}), once per output and
 * frame, never to the output that already had the frame from here.
 */
final class MirrorStage implements Stage {
    private final Mirroring mirroring;

    MirrorStage(Mirroring mirroring) {
        this.mirroring = mirroring;
    }

    @Override
    public String name() {
        return "mirror";
    }

    @Override
    public void process(Batch b) {
        Port copy = mirroring.inputCopy(b.ingress());
        if (copy == null) {
            return;
        }
        int lane = b.lane();
        for (int i = 0, n = b.count(); i < n; i++) {
            if (b.isOpen(i)) {
                Egress.send(copy, b.frame(i), lane, b, i);
            }
        }
    }
}
