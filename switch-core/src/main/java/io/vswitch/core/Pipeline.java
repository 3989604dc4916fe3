package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * The forwarding path of one lane: a batch of frames read from one ingress port goes through the
 * ingress network's {@link FeatureArc}, stage after stage, each stage over the whole batch, as
 * VPP's l2 nodes.
 *
 * <h2>Composition</h2>
 * Each network composes its arc from what it uses ({@link FeatureArc#compose}) and recomposes it
 * when that changes; a network without mirrors, captures or storm limits has no such stage:
 * <pre>
 *   mirror-loop? validate [ingress filters] learn capture? mirror? lookup respond [egress checks] storm? output
 * </pre>
 *
 * <h2>A frame's walk</h2>
 * <ol>
 *   <li><b>start</b> ({@link Batch}): the ingress counts rx; every frame is open. The clock was
 *       read once for the batch by the caller ({@code nowNs}).</li>
 *   <li><b>mirror-loop</b>: on a mirror's output everything is dropped ({@code mirror-loop}).</li>
 *   <li><b>validate</b>: runt, oversize, invalid source, offload metadata; the source and
 *       destination MACs are read into the batch (a GSO frame's layers too).</li>
 *   <li><b>learn</b>: every source of the batch is learned (MAC-move dampening may drop it,
 *       {@code mac-flap}) before any frame is forwarded, so a reply later in the batch finds its
 *       destination.</li>
 *   <li><b>capture</b>, <b>mirror</b>: captures see what came in; a mirror's output gets a copy.</li>
 *   <li><b>lookup</b>: {@link Forwarder#forward}: one egress, flood, or a drop.</li>
 *   <li><b>respond</b>: ARP, neighbour solicitations and DNS the switch answers itself.</li>
 *   <li><b>storm</b>: a flood over the ingress's storm limit is dropped.</li>
 *   <li><b>output</b>: to the egress or the flood set through the egress adapter ({@link Egress},
 *       which fits offload frames to ports without offloads), seen by captures, copied to
 *       mirrors.</li>
 *   <li><b>finish</b>: each dropped frame is counted under its reason on the ingress port.</li>
 * </ol>
 * A frame is parsed once: its MACs by validate, its layers and flow hash when a stage or an
 * egress first asks ({@link Batch#layers}, {@link Batch#flowHash}), kept in the batch's parallel
 * arrays. Decisions stay ints ({@link Forwarder}). Nothing here allocates, throws or logs per
 * frame.
 *
 * <p>One instance per lane, used only by that lane's thread.
 */
public final class Pipeline {
    private final Batch batch;

    public Pipeline(int lane, int maxBatch) {
        this.batch = new Batch(lane, maxBatch);
    }

    /** Gives back what the lane's answers and segmentation use; the lane is stopping. */
    public void release() {
        batch.release();
    }

    public int lane() {
        return batch.lane();
    }

    public int maxBatch() {
        return batch.capacity();
    }

    /**
     * Forwards {@code frames[0..count)} received on {@code ingress}. Buffers stay owned by the
     * caller, who may reuse them once the lane's queued writes were flushed (asynchronous ports
     * queue a frame's address until then; ports that keep a frame longer retain it).
     */
    public void process(Port ingress, ByteBuf[] frames, int count, long nowNs) {
        BridgeDomain domain = ingress.domain();
        if (domain == null || !ingress.isUp()) {
            for (int i = 0; i < count; i++) {
                ingress.countDrop(batch.lane(), DropReason.INGRESS_DOWN);
            }
            return;
        }
        Batch b = batch;
        b.start(ingress, domain, frames, count, nowNs);
        for (Stage stage : domain.arc().stages) {
            stage.process(b);
        }
        b.finish();
    }
}
