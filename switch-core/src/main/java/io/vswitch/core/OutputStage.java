package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * Stage "output", last in every arc: each frame goes to its one egress port, or to every port of
 * its flood set ({@link FloodSet}), through the egress adapter ({@link Egress}); a frame the
 * switch answered goes nowhere; a flood that finds no port is dropped ({@code no-egress}). A
 * flooded frame is the same buffer handed to each egress in turn: ports write from its memory and
 * never modify it.
 *
 * <p>What watches the egress is here too: captures see each frame sent to each port, and a
 * mirror's output gets a copy of what is sent to the ports it watches. Each output gets one copy
 * of a frame however many of its egress ports it watches, and none when it had the frame already
 * as a copy of what the ingress received: a stamp per frame and output in the batch, so any
 * number of outputs is right.
 */
final class OutputStage implements Stage {
    /** The network's mirrors, or null; its captures, or null. */
    private final Mirroring mirroring;
    private final PacketTap[] taps;
    /** Whether anything watches the egress: most networks' output is only the sends. */
    private final boolean watched;

    OutputStage(Mirroring mirroring, PacketTap[] taps) {
        this.mirroring = mirroring;
        this.taps = taps;
        this.watched = mirroring != null || taps != null;
    }

    @Override
    public String name() {
        return "output";
    }

    @Override
    public void process(Batch b) {
        BridgeDomain domain = b.domain();
        Counters counters = domain.counters();
        int lane = b.lane();
        Port inputCopy = mirroring == null ? null : mirroring.inputCopy(b.ingress());
        // Most networks' frames need no fitting (no offloads) and nothing watches their egress:
        // then each send is only the port's, decided once for the batch.
        boolean direct = !watched && !b.offload();
        for (int i = 0, n = b.count(); i < n; i++) {
            int decision = b.decision(i);
            if (decision < 0 || decision == Forwarder.ANSWERED) {
                continue;
            }
            int stamp = 0;
            if (mirroring != null) {
                stamp = b.newCopyStamp(mirroring.outputs());
                if (inputCopy != null) {
                    b.takeCopy(mirroring.outputIndex(inputCopy), stamp);
                }
            }
            ByteBuf frame = b.frame(i);
            if (decision > 0) {
                Port egress = domain.port(decision);
                if (egress != null) {
                    send(direct, frame, lane, b, i, egress, stamp);
                    counters.increment(lane, NetworkCounter.FORWARDED.ordinal());
                    continue;
                }
                // Removed since the lookup: flooded as unknown.
            }
            flood(direct, frame, lane, b, i, domain, counters, stamp);
        }
    }

    private void flood(boolean direct, ByteBuf frame, int lane, Batch b, int i, BridgeDomain domain,
            Counters counters, int stamp) {
        Port ingress = b.ingress();
        int sent = 0;
        for (Port port : domain.portArray()) {
            if (port != null && FloodSet.exclusion(ingress, port) == FloodSet.INCLUDED) {
                send(direct, frame, lane, b, i, port, stamp);
                sent++;
            }
        }
        if (sent == 0) {
            b.drop(i, DropReason.NO_EGRESS);
        } else {
            counters.increment(lane, NetworkCounter.FLOODED.ordinal());
        }
    }

    /** Frame {@code i} to {@code egress}, seen by the captures, copied to the mirror watching the egress. */
    private void send(boolean direct, ByteBuf frame, int lane, Batch b, int i, Port egress, int stamp) {
        if (direct) {
            egress.output(frame, lane, b, i);
            return;
        }
        Egress.send(egress, frame, lane, b, i);
        if (watched) {
            watch(frame, lane, b, i, egress, stamp);
        }
    }

    private void watch(ByteBuf frame, int lane, Batch b, int i, Port egress, int stamp) {
        if (taps != null) {
            for (PacketTap t : taps) {
                t.sent(egress, frame, lane);
            }
        }
        if (mirroring != null) {
            Port copy = mirroring.outputCopy(egress);
            if (copy != null && b.takeCopy(mirroring.outputIndex(copy), stamp)) {
                Egress.send(copy, frame, lane, b, i);
            }
        }
    }
}
