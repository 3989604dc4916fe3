package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * The forwarding path of one lane, as VPP's l2 nodes in miniature: a batch of frames read from
 * one ingress port goes through
 * <ol>
 *   <li><b>validate + learn</b>: count rx, check each frame, learn every valid source MAC (the
 *       whole batch first, so replies later in the batch already find their destination);</li>
 *   <li><b>decide</b>: {@link Forwarder#forward} for each frame, then the {@link Responder}, which
 *       answers ARP, neighbour solicitations and DNS queries the network knows the answer to;</li>
 *   <li><b>output</b>: hand each frame to its one egress, to every other up port of the network
 *       (flood), or count its drop reason.</li>
 * </ol>
 * The clock is read once per batch by the caller ({@code nowNs}). Nothing here allocates, throws
 * or logs per frame. A flooded frame is the same buffer handed to each egress in turn: ports
 * write from its memory and never modify it.
 *
 * <p>One instance per lane, used only by that lane's thread.
 */
public final class Pipeline {
    private final int lane;
    private final int[] decisions;
    private final Responder responder;

    public Pipeline(int lane, int maxBatch) {
        this.lane = lane;
        this.decisions = new int[maxBatch];
        this.responder = new Responder(lane, maxBatch);
    }

    /** Gives back what the lane's answers use; the lane is stopping. */
    public void release() {
        responder.release();
    }

    public int lane() {
        return lane;
    }

    public int maxBatch() {
        return decisions.length;
    }

    /**
     * Forwards {@code frames[0..count)} received on {@code ingress}. Buffers stay owned by the
     * caller, who may reuse them once the lane's after-batch work has run (tunnel ports queue a
     * frame's address until then; ports that keep a frame longer retain it).
     */
    public void process(Port ingress, ByteBuf[] frames, int count, long nowNs) {
        BridgeDomain domain = ingress.domain();
        if (domain == null || !ingress.isUp()) {
            for (int i = 0; i < count; i++) {
                ingress.countDrop(lane, DropReason.INGRESS_DOWN);
            }
            return;
        }
        responder.startBatch();
        int mtu = domain.mtu();
        boolean offload = domain.settings().offload();
        int tick = BridgeDomain.tick(nowNs);
        int[] decided = decisions;
        FlapGuard flaps = domain.flaps();
        StormControl storm = ingress.storm();
        Mirroring mirroring = domain.mirroring();
        PacketTap[] taps = domain.taps();
        if (ingress.isMirrorOutput()) {
            for (int i = 0; i < count; i++) {
                ingress.countRx(lane, frames[i].readableBytes());
                ingress.countDrop(lane, DropReason.MIRROR_LOOP);
            }
            return;
        }
        Port inputCopy = mirroring == null ? null : mirroring.inputCopy(ingress);

        for (int i = 0; i < count; i++) {
            ByteBuf frame = frames[i];
            ingress.countRx(lane, frame.readableBytes());
            int verdict = Forwarder.validate(frame, mtu, offload);
            decided[i] = verdict;
            if (verdict == Forwarder.VALID) {
                long source = EthernetFrame.source(frame);
                if (flaps.isBlocked(source, ingress, nowNs)) {
                    decided[i] = Forwarder.drop(DropReason.MAC_FLAP);
                } else {
                    domain.learn(source, ingress, tick, lane, nowNs);
                    if (taps != null) {
                        for (PacketTap t : taps) {
                            t.received(ingress, frame, lane);
                        }
                    }
                    if (inputCopy != null) {
                        inputCopy.transmit(frame, lane);
                    }
                }
            }
        }

        Directory directory = domain.directory();
        Counters networkCounters = domain.counters();
        for (int i = 0; i < count; i++) {
            if (decided[i] == Forwarder.VALID) {
                int decision = Forwarder.forward(domain, EthernetFrame.destination(frames[i]), ingress);
                decided[i] = decision >= 0 ? responder.inspect(ingress, frames[i], directory, decision, networkCounters) : decision;
            }
        }

        for (int i = 0; i < count; i++) {
            int decision = decided[i];
            ByteBuf frame = frames[i];
            if (decision == Forwarder.ANSWERED) {
                continue;
            }
            if (decision > 0) {
                Port egress = domain.port(decision);
                if (egress != null) {
                    egress.transmit(frame, lane);
                    if (taps != null) {
                        for (PacketTap t : taps) {
                            t.sent(egress, frame, lane);
                        }
                    }
                    if (mirroring != null) {
                        Port copy = mirroring.outputCopy(egress);
                        if (copy != null && copy != inputCopy) {
                            copy.transmit(frame, lane);
                        }
                    }
                    networkCounters.increment(lane, NetworkCounter.FORWARDED.ordinal());
                    continue;
                }
                decision = Forwarder.FLOOD;
            }
            if (decision == Forwarder.FLOOD) {
                if (storm != null) {
                    int kind = StormControl.kind(EthernetFrame.destination(frame));
                    if (!storm.allow(kind, lane, nowNs)) {
                        ingress.countDrop(lane, StormControl.reason(kind));
                        continue;
                    }
                }
                flood(domain, ingress, frame, networkCounters, mirroring, inputCopy, taps);
            } else {
                ingress.countDrop(lane, Forwarder.reason(decision));
            }
        }
    }

    private void flood(BridgeDomain domain, Port ingress, ByteBuf frame, Counters networkCounters, Mirroring mirroring,
            Port inputCopy, PacketTap[] taps) {
        Port[] ports = domain.portArray();
        int sent = 0;
        // Each mirror output gets one copy of the frame, however many of its egress ports it mirrors.
        Port copied = inputCopy;
        Port copied2 = null;
        for (Port port : ports) {
            if (port != null && FloodSet.exclusion(ingress, port) == FloodSet.INCLUDED) {
                port.transmit(frame, lane);
                sent++;
                if (taps != null) {
                    for (PacketTap t : taps) {
                        t.sent(port, frame, lane);
                    }
                }
                if (mirroring != null) {
                    Port copy = mirroring.outputCopy(port);
                    if (copy != null && copy != copied && copy != copied2) {
                        copy.transmit(frame, lane);
                        if (copied == null) {
                            copied = copy;
                        } else {
                            copied2 = copy;
                        }
                    }
                }
            }
        }
        if (sent == 0) {
            ingress.countDrop(lane, DropReason.NO_EGRESS);
        } else {
            networkCounters.increment(lane, NetworkCounter.FLOODED.ordinal());
        }
    }
}
