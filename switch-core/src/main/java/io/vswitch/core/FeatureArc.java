package io.vswitch.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A network's forwarding path: its {@link Stage}s in order, as VPP's feature arcs, composed from
 * what the network uses. Rebuilt by its {@link BridgeDomain} whenever that changes (mirrors set,
 * a capture started or stopped, a port added, removed or given storm limits) and published with
 * one volatile store; a lane reads it once per batch, so a batch sees one arc from start to end.
 *
 * <pre>
 *   mirror-loop? validate [ingress filters] learn capture? mirror? lookup respond [egress checks] storm? output
 * </pre>
 * ({@code ?}: only when the network has mirrors, a running capture, or a port with storm
 * limits.) A new feature is a {@link Stage} class and one line in {@link #compose}, at its place:
 * <ul>
 *   <li>ingress filters, which must decide before anything is learned from a frame: port
 *       security (a port's source MAC/IP, ARP and ND bindings, RA guard), a tagged frame on an
 *       access port, the loop-protect probe, an ACL on what a port may send;</li>
 *   <li>egress checks, which need the lookup's result: a bound on the segments a GSO frame may
 *       become for a port without offloads, an ACL on what a port may receive, STP's blocked
 *       ports (with their flood-set rule in {@link FloodSet}).</li>
 * </ul>
 * A per-port feature keeps each port's settings under a {@link PortFeature} key; its stage is in
 * the arc when any port of the network has settings under it, and reads the ingress port's per
 * batch (as {@link StormStage} reads its {@link StormStage#LIMITS}).
 */
public final class FeatureArc {
    final Stage[] stages;

    private FeatureArc(Stage[] stages) {
        this.stages = stages;
    }

    /** The arc of a network with these settings, mirrors (or null), captures (or null) and ports. */
    static FeatureArc compose(NetworkSettings settings, Mirroring mirroring, PacketTap[] taps, Port[] ports) {
        List<Stage> arc = new ArrayList<>(12);
        if (mirroring != null) {
            arc.add(MirrorLoopStage.INSTANCE);
        }
        arc.add(new ValidateStage(settings.mtu(), settings.offload()));
        // Ingress filters here.
        arc.add(LearnStage.INSTANCE);
        if (taps != null) {
            arc.add(new CaptureStage(taps));
        }
        if (mirroring != null) {
            arc.add(new MirrorStage(mirroring));
        }
        arc.add(LookupStage.INSTANCE);
        arc.add(RespondStage.INSTANCE);
        // Egress checks here.
        if (anyPortHas(ports, StormStage.LIMITS)) {
            arc.add(StormStage.INSTANCE);
        }
        arc.add(new OutputStage(mirroring, taps));
        return new FeatureArc(arc.toArray(Stage[]::new));
    }

    /** Whether any port of the network has its own settings of {@code feature}. */
    private static boolean anyPortHas(Port[] ports, PortFeature<?> feature) {
        for (Port p : ports) {
            if (p != null && p.feature(feature) != null) {
                return true;
            }
        }
        return false;
    }

    /** The stages' names in order, as {@code show} and the logs print the arc. */
    public List<String> names() {
        return Arrays.stream(stages).map(Stage::name).toList();
    }

    @Override
    public String toString() {
        return String.join(" > ", names());
    }
}
