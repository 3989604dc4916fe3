package io.vswitch.core;

/**
 * Which ports of a network a flooded frame (broadcast, multicast, unknown unicast) goes to: the
 * one rule that both the data path ({@link Pipeline}) and {@code trace} apply, port by port, so
 * what trace says is what the switch does.
 *
 * <p>A port is in the flood set of a frame from {@code ingress} unless it is the ingress itself
 * (a frame never goes back out where it came in), it is not up, or both are tunnels (split
 * horizon: the remote hosts replicate to their own ports), or both are isolated (a network with
 * icc off: containers reach the gateway, not each other), or it is a mirror's output (it only
 * gets the mirror's copies). Pure; no allocation.
 */
public final class FloodSet {
    /** {@link #exclusion} results. */
    public static final int INCLUDED = 0;
    public static final int INGRESS = 1;
    public static final int DOWN = 2;
    public static final int SPLIT_HORIZON = 3;
    public static final int ISOLATED = 4;
    public static final int MIRROR_OUTPUT = 5;

    private FloodSet() {
    }

    /** {@link #INCLUDED}, or why {@code candidate} gets no copy of a frame flooded from {@code ingress}. */
    public static int exclusion(Port ingress, Port candidate) {
        if (candidate == ingress) {
            return INGRESS;
        }
        if (!candidate.isUp()) {
            return DOWN;
        }
        if (candidate.isMirrorOutput()) {
            return MIRROR_OUTPUT;
        }
        if (ingress.isTunnel() && candidate.isTunnel()) {
            return SPLIT_HORIZON;
        }
        if (ingress.isIsolated() && candidate.isIsolated()) {
            return ISOLATED;
        }
        return INCLUDED;
    }

    /** What {@code trace} prints for an exclusion. */
    public static String describe(int exclusion) {
        return switch (exclusion) {
            case INCLUDED -> "included";
            case INGRESS -> "ingress";
            case DOWN -> "down";
            case SPLIT_HORIZON -> "split horizon";
            case ISOLATED -> "isolated";
            case MIRROR_OUTPUT -> "a mirror's output";
            default -> "excluded";
        };
    }
}
