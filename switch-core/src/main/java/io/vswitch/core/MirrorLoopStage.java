package io.vswitch.core;

/**
 * Stage "mirror-loop", first in the arc of a network with mirrors: a port that is a mirror's
 * output only sends (a SPAN port), so whatever it receives is dropped ({@code mirror-loop})
 * before anything is checked or learned from it.
 */
final class MirrorLoopStage implements Stage {
    static final MirrorLoopStage INSTANCE = new MirrorLoopStage();

    private MirrorLoopStage() {
    }

    @Override
    public String name() {
        return "mirror-loop";
    }

    @Override
    public void process(Batch b) {
        if (!b.ingress().isMirrorOutput()) {
            return;
        }
        for (int i = 0, n = b.count(); i < n; i++) {
            b.drop(i, DropReason.MIRROR_LOOP);
        }
    }
}
