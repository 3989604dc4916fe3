package io.vswitch.core;

/**
 * Stage "respond": the switch's own answers ({@link Responder}) to frames on their way out: ARP
 * requests and neighbour solicitations for addresses the network knows, DNS queries to its
 * gateway. An answered frame goes nowhere else ({@link Forwarder#ANSWERED}); malformed ARP or DNS
 * is dropped. The responder is the lane's (its reply buffers are), held by the batch.
 */
final class RespondStage implements Stage {
    static final RespondStage INSTANCE = new RespondStage();

    private RespondStage() {
    }

    @Override
    public String name() {
        return "respond";
    }

    @Override
    public void process(Batch b) {
        BridgeDomain domain = b.domain();
        Directory directory = domain.directory();
        Counters counters = domain.counters();
        Responder responder = b.responder();
        Port ingress = b.ingress();
        for (int i = 0, n = b.count(); i < n; i++) {
            if (b.isForwarded(i)) {
                b.decide(i, responder.inspect(ingress, b.frame(i), directory, b.decision(i), counters));
            }
        }
    }
}
