package io.vswitch.core;

/**
 * Stage "learn": every valid frame's source MAC is learned on the ingress port, the whole batch
 * before any frame is forwarded, so a reply later in the batch already finds its destination.
 *
 * <p>MAC-move dampening ({@link FlapGuard}) is part of learning, not a stage of its own: a frame
 * whose source is pinned to another port is dropped ({@code mac-flap}) and not learned, and the
 * pin a move makes must stop the very next frame of the same batch. A separate pass over the
 * batch before this one would let the rest of that batch move the pinned MAC back onto the
 * looping port. While nothing is pinned the check is one volatile read.
 */
final class LearnStage implements Stage {
    static final LearnStage INSTANCE = new LearnStage();

    private LearnStage() {
    }

    @Override
    public String name() {
        return "learn";
    }

    @Override
    public void process(Batch b) {
        BridgeDomain domain = b.domain();
        FlapGuard flaps = domain.flaps();
        Port ingress = b.ingress();
        long nowNs = b.nowNs();
        int tick = b.tick();
        int lane = b.lane();
        for (int i = 0, n = b.count(); i < n; i++) {
            if (!b.isOpen(i)) {
                continue;
            }
            long source = b.source(i);
            if (flaps.isBlocked(source, ingress, nowNs)) {
                b.drop(i, DropReason.MAC_FLAP);
            } else {
                domain.learn(source, ingress, tick, lane, nowNs);
            }
        }
    }
}
