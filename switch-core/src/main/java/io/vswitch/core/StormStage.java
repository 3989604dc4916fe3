package io.vswitch.core;

/**
 * Stage "storm", in the arc when a port of the network has storm limits: a frame about to flood
 * (broadcast, multicast, unknown unicast) that is over its class's rate on the ingress port
 * ({@link StormControl}) is dropped here, before any port does the work of sending it. Frames the
 * switch answered never count against the limit.
 */
final class StormStage implements Stage {
    /** A port's storm limits. */
    static final PortFeature<StormControl> LIMITS = PortFeature.named("storm");
    static final StormStage INSTANCE = new StormStage();

    private StormStage() {
    }

    @Override
    public String name() {
        return "storm";
    }

    @Override
    public void process(Batch b) {
        StormControl storm = b.ingress().feature(LIMITS);
        if (storm == null) {
            return;
        }
        int lane = b.lane();
        long nowNs = b.nowNs();
        for (int i = 0, n = b.count(); i < n; i++) {
            if (b.decision(i) == Forwarder.FLOOD) {
                int kind = StormControl.kind(b.destination(i));
                if (!storm.allow(kind, lane, nowNs)) {
                    b.drop(i, StormControl.reason(kind));
                }
            }
        }
    }
}
