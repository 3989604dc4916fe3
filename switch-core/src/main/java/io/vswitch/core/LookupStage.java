package io.vswitch.core;

/**
 * Stage "lookup": the forwarding decision ({@link Forwarder#forward}) for every frame still open:
 * one egress port, flood, or a drop (hairpin, split horizon, isolated). Every frame that reaches
 * this stage leaves it decided.
 */
final class LookupStage implements Stage {
    static final LookupStage INSTANCE = new LookupStage();

    private LookupStage() {
    }

    @Override
    public String name() {
        return "lookup";
    }

    @Override
    public void process(Batch b) {
        BridgeDomain domain = b.domain();
        Port ingress = b.ingress();
        for (int i = 0, n = b.count(); i < n; i++) {
            if (b.isOpen(i)) {
                b.decide(i, Forwarder.forward(domain, b.destination(i), ingress));
            }
        }
    }
}
