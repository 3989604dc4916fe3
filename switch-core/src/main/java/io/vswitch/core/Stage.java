package io.vswitch.core;

/**
 * One step of the forwarding path, as a node of a VPP feature arc: it works on a whole
 * {@link Batch} at a time (every frame of the batch through this stage, then the next stage),
 * reading and writing each frame's decision. A network's stages and their order are its
 * {@link FeatureArc}, composed from its settings: a feature a network does not use has no stage
 * in its arc and costs it nothing.
 *
 * <p>Contract: a stage looks only at frames whose decision is still open for it (a stage before
 * the lookup at {@link Batch#isOpen open} frames; one after it at frames with an egress or
 * flood, {@link Batch#isForwarded}); it drops a frame with {@link Batch#drop} and a named
 * reason (counted on the ingress port once the arc is done); it never allocates, throws, logs or
 * blocks; it keeps no per-lane state of its own (one instance serves every lane: what a lane
 * needs is in its batch). A stage that needs the frame's layers or flow hash asks the batch,
 * which parses each frame at most once ({@link Batch#layers}, {@link Batch#flowHash}).
 *
 * <p>A per-port feature (storm control; port security next) keeps each port's settings under a
 * {@link PortFeature} key and is in the arc when any port of the network has some; the stage reads
 * the ingress port's settings once per batch and returns at once for a port without them.
 */
public interface Stage {
    /** The stage's name, as {@code show} and the logs print the arc: "validate", "learn", ... */
    String name();

    /** Takes the batch's frames one step on. Lane thread only. */
    void process(Batch batch);
}
