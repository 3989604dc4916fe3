package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * A port of one network: a TAP device, a VXLAN tunnel, or an in-memory channel in tests. A port
 * says what it is ({@link #kind}, {@link #remote}, {@link #queueCount}, {@link #offloads}) so the
 * API, the metrics and the logs print it without knowing its class.
 *
 * <p>Egress: the pipeline sends through {@link #output} (and {@link #outputGso} for a GSO frame a
 * port without offloads must have cut), chosen by the one egress adapter, {@link Egress}; frames
 * from outside a batch (the switch's answers, announcements) come through {@link #transmit}.
 *
 * <p>{@link #transmit} is called by any data-plane lane, concurrently, with the lane's index;
 * implementations must be safe for that (a TAP write is one atomic syscall per frame) and count
 * into the lane's stripe only. A port sends the frame's readable bytes and must not change the
 * buffer's indices or content: a flooded frame is the same memory handed to every egress. An
 * implementation that keeps the frame beyond the call (an asynchronous write) retains it.
 */
public abstract class Port {
    private final String name;
    private final Counters counters;
    private volatile boolean up = true;
    private volatile String failure;
    /** The link as its own namespace sees it: 1 up, 0 down, -1 not known (no one watches it). */
    private volatile int link = -1;
    private volatile long deviceDrops;
    private volatile boolean isolated;
    private volatile BridgeDomain domain;
    private volatile int id;
    private volatile int generation;
    /** Per-port features' settings by {@link PortFeature} index, copied on write. */
    private volatile Object[] features = new Object[PortFeature.MAX];
    private volatile int macLimit;
    private volatile boolean mirrorOutput;
    /** MACs on this port: exact at each second's recount, counted up between (only with a mac-limit). */
    private final java.util.concurrent.atomic.AtomicInteger macs = new java.util.concurrent.atomic.AtomicInteger();

    protected Port(String name, int lanes) {
        this.name = name;
        this.counters = new Counters(lanes, PortCounter.WIDTH);
    }

    /**
     * Sends one frame; counts TX or a drop on this port. Never throws. The frame's memory must
     * stay as it is until the lane's after-batch work has run: an asynchronous port (a tunnel)
     * only queues its address and sends the batch then; a port that keeps it longer retains it.
     */
    public abstract void transmit(ByteBuf frame, int lane);

    /**
     * Sends {@code frame}, frame {@code i} of a batch of lane {@code lane}, already in a form this
     * port takes (the egress adapter, {@link Egress}, saw to that). By default {@link #transmit}; a
     * port that uses what the batch carries about the frame (a tunnel: its flow hash) overrides it.
     */
    protected void output(ByteBuf frame, int lane, Batch batch, int i) {
        transmit(frame, lane);
    }

    /**
     * Sends GSO frame {@code i} of an offload network's batch though this port takes no
     * virtio-net header ({@link #offloads} is false): by default cut into MTU-sized frames in the
     * lane's scratch, with the layers validation parsed, each handed to {@link #transmitSegment}.
     * A port with a better way (a tunnel: headers only, UDP GSO) overrides it.
     */
    protected void outputGso(ByteBuf frame, int lane, Batch batch, int i) {
        if (batch.segment(i, this) < 0) {
            countDrop(lane, DropReason.TX_ERROR);
        }
    }

    /**
     * Sends one segment cut by {@link #outputGso}: its memory is reused as soon as this returns,
     * so it must be written (or copied) now. By default {@link #transmit}, right for a port that
     * writes synchronously; a port that queues writes overrides it.
     */
    protected void transmitSegment(ByteBuf segment, int lane) {
        transmit(segment, lane);
    }

    /** What kind of port this is, as the API and metrics print it: "tap", "vxlan", "channel". */
    public abstract String kind();

    /** Where the port leads beyond this host (a tunnel's remote VTEP), or null. */
    public String remote() {
        return null;
    }

    /** How many queues (file descriptors) the port reads, 0 when it reads none of its own. */
    public int queueCount() {
        return 0;
    }

    /** Whether frames to and from this port carry a virtio-net header (offloads on). */
    public boolean offloads() {
        return false;
    }

    /**
     * Whether every frame of this port's network carries a virtio-net header in front (an offload
     * network): what a reader must put in front of a frame it hands to the pipeline from a port
     * that reads none. False while the port belongs to no network.
     */
    public final boolean inOffloadNetwork() {
        BridgeDomain d = domain;
        return d != null && d.settings().offload();
    }

    /** Releases what the port holds (file descriptors). The port is detached first. */
    public void close() {
    }

    public final String name() {
        return name;
    }

    /** Index of this port in its network, 1..65535; 0 before it is added. */
    public final int id() {
        return id;
    }

    public final int generation() {
        return generation;
    }

    public final BridgeDomain domain() {
        return domain;
    }

    final void attach(BridgeDomain domain, int id, int generation) {
        this.domain = domain;
        this.id = id;
        this.generation = generation;
    }

    final void detach() {
        this.domain = null;
    }

    /**
     * Whether this port is a tunnel to another host. Split horizon: a frame that came in from a
     * tunnel is never sent into a tunnel (the remote hosts replicate to their own ports).
     */
    public boolean isTunnel() {
        return false;
    }

    /**
     * Whether this port is isolated: frames between two isolated ports of a network are dropped,
     * to and from others (the gateway, tunnels) they pass. A network with inter-container
     * communication off (Docker's {@code enable_icc=false}) isolates its containers' ports.
     */
    public final boolean isIsolated() {
        return isolated;
    }

    public final void setIsolated(boolean isolated) {
        this.isolated = isolated;
    }

    public boolean isUp() {
        return up;
    }

    public void setUp(boolean up) {
        this.up = up;
    }

    /**
     * Takes the port down for good because its device failed; {@code reason} names the call and
     * the errno. Returns true only the first time, so the failure is reported once.
     */
    public final synchronized boolean fail(String reason) {
        if (failure != null) {
            return false;
        }
        failure = reason;
        up = false;
        return true;
    }

    /** Why the port failed (the call and errno), or null while it has not. */
    public final String failure() {
        return failure;
    }

    public final boolean hasFailed() {
        return failure != null;
    }

    public final Counters counters() {
        return counters;
    }

    public final long count(PortCounter counter) {
        return counters.get(counter.ordinal());
    }

    public final long drops(DropReason reason) {
        return reason == DropReason.DEVICE_QUEUE ? deviceDrops : counters.get(PortCounter.dropIndex(reason));
    }

    /**
     * What the device's own namespace says of it, read by whoever watches the device: whether
     * the link is up there (a container may set its interface down), and how many frames the
     * device's own queue dropped before the switch read them. Neither changes forwarding: a
     * write to a down link fails and is counted as {@code link-down}.
     */
    public final void setLink(boolean up, long deviceQueueDrops) {
        this.link = up ? 1 : 0;
        this.deviceDrops = deviceQueueDrops;
    }

    /** False when the port's namespace has its link down; true when up or not known. */
    public final boolean linkUp() {
        return link != 0;
    }

    /** Whether this port is a mirror's output: it only sends copies (set by its network). */
    public final boolean isMirrorOutput() {
        return mirrorOutput;
    }

    final void setMirrorOutput(boolean output) {
        this.mirrorOutput = output;
    }

    /** This port's settings of {@code feature}, or null when it has none. Data path: one array load. */
    @SuppressWarnings("unchecked")
    public final <T> T feature(PortFeature<T> feature) {
        return (T) features[feature.index];
    }

    /**
     * Gives this port its own settings of {@code feature} (null: none); its network's arc gains or
     * loses the feature's stage. Control thread.
     */
    public final synchronized <T> void setFeature(PortFeature<T> feature, T settings) {
        Object[] next = features.clone();
        next[feature.index] = settings;
        features = next;
        BridgeDomain d = domain;
        if (d != null) {
            d.recompose();
        }
    }

    /** This port's storm limits, or null for none. */
    public final StormControl storm() {
        return feature(StormStage.LIMITS);
    }

    /** Sets this port's storm limits (null: none). */
    public final void setStorm(StormControl storm) {
        setFeature(StormStage.LIMITS, storm);
    }

    /** MACs this port may have learned at most; 0 for no limit of its own (the network's still holds). */
    public final int macLimit() {
        return macLimit;
    }

    public final void setMacLimit(int limit) {
        this.macLimit = limit;
    }

    /** MACs counted on this port (see {@link BridgeDomain#learn}). */
    public final int macCount() {
        return macs.get();
    }

    /** Takes one more MAC for this port unless it is at {@code limit}. */
    final boolean reserveMac(int limit) {
        for (;;) {
            int n = macs.get();
            if (n >= limit) {
                return false;
            }
            if (macs.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    final void recountedMacs(int n) {
        macs.set(n);
    }

    protected final void countTx(int lane, int bytes) {
        counters.increment(lane, PortCounter.TX_FRAMES.ordinal());
        counters.add(lane, PortCounter.TX_BYTES.ordinal(), bytes);
    }

    public final void countDrop(int lane, DropReason reason) {
        counters.increment(lane, PortCounter.dropIndex(reason));
    }

    final void countRx(int lane, int bytes) {
        counters.increment(lane, PortCounter.RX_FRAMES.ordinal());
        counters.add(lane, PortCounter.RX_BYTES.ordinal(), bytes);
    }

    /** A short description for logs: kind and name, and where it leads. */
    public String describe() {
        String remote = remote();
        return kind() + " " + name + (remote == null ? "" : " to " + remote);
    }

    @Override
    public String toString() {
        return describe();
    }
}
