package io.vswitch.core;

import java.util.ArrayList;
import java.util.List;

/**
 * A network: one bridge domain with its own MAC table, its own ports and so its own flood set.
 * Frames never leave the domain they came in on: the forwarding decision only ever names ports
 * of the ingress port's domain.
 *
 * <p>Ports are kept in a copy-on-write array indexed by port id, published with a volatile
 * store: lanes read it without locks; the control thread (synchronised on this object) adds and
 * removes. A removed port's id may be reused later with a new generation, so MAC entries
 * learned on the old port are recognised as stale without walking the table on the data path.
 */
public final class BridgeDomain {
    private static final long NANOS_PER_TICK = 1_000_000_000L;

    private final int id;
    private final NetworkSettings settings;
    private final MacTable table;
    private final Counters counters;
    private final int lanes;
    private final int agingTicks;
    private final FlapGuard flaps;
    private volatile Port[] ports = new Port[1];
    private volatile Directory directory = Directory.EMPTY;
    /** Mirrors by name, and as resolved against the ports now (null: none). */
    private List<Mirroring.Mirror> mirrorSpecs = List.of();
    private volatile Mirroring mirroring;
    /** Active captures (null: none, and the data path does not look). */
    private volatile PacketTap[] taps;
    /** The stages a batch of this network goes through, composed from what it uses ({@link #recompose}). */
    private volatile FeatureArc arc;
    /** The latest move, (mac << 16 | new port id), for the rate-limited flapping log. */
    private volatile long lastMove;
    private int nextGeneration = 1;

    public BridgeDomain(int id, NetworkSettings settings, int lanes) {
        this.id = id;
        this.settings = settings;
        this.lanes = lanes;
        this.table = new MacTable(id, settings.macLimit());
        this.counters = new Counters(lanes, NetworkCounter.values().length);
        this.agingTicks = (int) Math.max(1, settings.macAging().toSeconds());
        this.flaps = new FlapGuard(settings.macMoveLimit(), settings.macMoveHold().toNanos());
        this.arc = FeatureArc.compose(settings, null, null, ports);
    }

    /** The network's stages, as a lane reads them once per batch. */
    public FeatureArc arc() {
        return arc;
    }

    /**
     * Composes the arc again from what the network uses now: its settings, mirrors, captures and
     * the ports' storm limits. Called by whatever changes one of them; lanes see the new arc from
     * their next batch.
     */
    synchronized void recompose() {
        arc = FeatureArc.compose(settings, mirroring, taps, ports);
    }

    /** The mirrors as the data path reads them, or null. */
    public Mirroring mirroring() {
        return mirroring;
    }

    /** Sets the network's mirrors (by port names); they follow its ports as they come and go. */
    public synchronized void setMirrors(List<Mirroring.Mirror> mirrors) {
        this.mirrorSpecs = List.copyOf(mirrors);
        remirror();
    }

    private void remirror() {
        for (Port p : ports) {
            if (p != null) {
                boolean output = Mirroring.isOutput(mirrorSpecs, p);
                if (output && !p.isMirrorOutput()) {
                    forgetPort(p); // unicast to what it learned would go on reaching it
                }
                p.setMirrorOutput(output);
            }
        }
        mirroring = Mirroring.resolve(mirrorSpecs, ports);
        recompose();
    }

    /** The captures watching this network, or null. */
    public PacketTap[] taps() {
        return taps;
    }

    public synchronized void addTap(PacketTap tap) {
        PacketTap[] now = taps;
        PacketTap[] next = now == null ? new PacketTap[1] : java.util.Arrays.copyOf(now, now.length + 1);
        next[next.length - 1] = tap;
        taps = next;
        recompose();
    }

    public synchronized void removeTap(PacketTap tap) {
        PacketTap[] now = taps;
        if (now == null) {
            return;
        }
        PacketTap[] next = java.util.Arrays.stream(now).filter(t -> t != tap).toArray(PacketTap[]::new);
        taps = next.length == 0 ? null : next;
        recompose();
    }

    /** The network's MAC-move dampening. */
    public FlapGuard flaps() {
        return flaps;
    }

    /** The MAC table's one-second tick for a monotonic nanosecond time. */
    public static int tick(long nowNs) {
        return (int) Math.floorDiv(nowNs, NANOS_PER_TICK);
    }

    public int id() {
        return id;
    }

    public String name() {
        return settings.name();
    }

    public int mtu() {
        return settings.mtu();
    }

    public NetworkSettings settings() {
        return settings;
    }

    /** What the switch answers for on this network (ARP, neighbour discovery, DNS). */
    public Directory directory() {
        return directory;
    }

    /** Publishes a new directory; lanes see it from their next batch. */
    public void setDirectory(Directory directory) {
        this.directory = java.util.Objects.requireNonNull(directory);
    }

    public MacTable table() {
        return table;
    }

    public Counters counters() {
        return counters;
    }

    public long count(NetworkCounter counter) {
        return counters.get(counter.ordinal());
    }

    public int lanes() {
        return lanes;
    }

    /** The port with this id, or null. Data path: one volatile read and an array load. */
    public Port port(int portId) {
        Port[] snapshot = ports;
        return portId > 0 && portId < snapshot.length ? snapshot[portId] : null;
    }

    /** The current port array (index 0 and removed ids are null). Do not modify. */
    public Port[] portArray() {
        return ports;
    }

    public synchronized List<Port> ports() {
        List<Port> list = new ArrayList<>();
        for (Port p : ports) {
            if (p != null) {
                list.add(p);
            }
        }
        return list;
    }

    public synchronized Port port(String name) {
        for (Port p : ports) {
            if (p != null && p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    /** Adds a port, giving it the lowest free id and a new generation. */
    public synchronized void addPort(Port port) {
        if (port.domain() != null) {
            throw new IllegalStateException("port " + port.name() + " already belongs to network " + port.domain().name());
        }
        if (port(port.name()) != null) {
            throw new IllegalArgumentException("network " + name() + " already has a port " + port.name());
        }
        Port[] current = ports;
        int id = 1;
        while (id < current.length && current[id] != null) {
            id++;
        }
        if (id > 0xFFFF) {
            throw new IllegalStateException("network " + name() + " has 65535 ports already");
        }
        Port[] next = java.util.Arrays.copyOf(current, Math.max(current.length, id + 1));
        port.attach(this, id, nextGeneration);
        nextGeneration = (nextGeneration + 1) & 0x7FFF;
        if (nextGeneration == 0) {
            nextGeneration = 1;
        }
        next[id] = port;
        ports = next;
        if (!mirrorSpecs.isEmpty()) {
            remirror();
        } else {
            recompose();
        }
    }

    /** Removes a port and forgets the MACs learned on it. */
    public synchronized boolean removePort(Port port) {
        Port[] current = ports;
        int id = port.id();
        if (port.domain() != this || id >= current.length || current[id] != port) {
            return false;
        }
        Port[] next = current.clone();
        next[id] = null;
        ports = next;
        port.detach();
        forgetPort(id, port.generation());
        if (!mirrorSpecs.isEmpty()) {
            remirror();
        } else {
            recompose();
        }
        return true;
    }

    /** Forgets the dynamic MACs learned on a port, e.g. when it goes down. Returns how many. */
    public int forgetPort(Port port) {
        return forgetPort(port.id(), port.generation());
    }

    private int forgetPort(int portId, int generation) {
        return table.removeIf((mac, v) -> MacTable.portId(v) == portId
                && MacTable.generation(v) == (generation & 0x7FFF));
    }

    /** Learns a source MAC on the data path and counts what happened. */
    public int learn(long mac, Port ingress, int tick, int lane) {
        return learn(mac, ingress, tick, lane, (long) tick * NANOS_PER_TICK);
    }

    /**
     * Learns a source MAC on the data path and counts what happened: the port's own mac-limit
     * first (a MAC new to the port takes one of its places), then the network's table; a move
     * is shown to the MAC-move dampening ({@link FlapGuard}).
     */
    public int learn(long mac, Port ingress, int tick, int lane, long nowNs) {
        int portLimit = ingress.macLimit();
        if (portLimit > 0) {
            long v = table.lookup(mac);
            boolean here = v != 0 && MacTable.portId(v) == ingress.id()
                    && MacTable.generation(v) == (ingress.generation() & 0x7FFF);
            if (!here && !MacTable.isStatic(v) && !ingress.reserveMac(portLimit)) {
                counters.increment(lane, NetworkCounter.PORT_LIMIT_HIT.ordinal());
                return MacTable.LIMIT_HIT;
            }
        }
        long detail = table.learnFrom(mac, ingress.id(), ingress.generation(), tick);
        int outcome = (int) (detail & 0xFF);
        switch (outcome) {
            case MacTable.LEARNED -> counters.increment(lane, NetworkCounter.LEARNED.ordinal());
            case MacTable.MOVED -> {
                counters.increment(lane, NetworkCounter.MOVED.ordinal());
                lastMove = (mac << 16) | ingress.id();
                int fromId = (int) ((detail >>> 8) & 0xFFFF);
                int fromGeneration = (int) ((detail >>> 24) & 0x7FFF);
                int home = flaps.moved(mac, FlapGuard.key(fromId, fromGeneration), ingress, nowNs);
                if (home != 0) {
                    // Flapping: the MAC goes back to the port it lived on before, and stays there
                    // (frames from it elsewhere are dropped until the hold time is over).
                    Port back = port(home >>> 16);
                    if (back != null && (back.generation() & 0x7FFF) == (home & 0x7FFF)) {
                        table.learn(mac, back.id(), back.generation(), tick);
                    }
                    counters.increment(lane, NetworkCounter.FLAP_BLOCKS.ordinal());
                }
            }
            case MacTable.LIMIT_HIT -> counters.increment(lane, NetworkCounter.LIMIT_HIT.ordinal());
            default -> {
            }
        }
        return outcome;
    }

    /** The MAC of the latest move, or 0. */
    public long lastMovedMac() {
        return lastMove >>> 16;
    }

    /** The port the latest moved MAC went to, or null. */
    public Port lastMovedTo() {
        return port((int) (lastMove & 0xFFFF));
    }

    /** Whether a table value still refers to a port of this network. */
    public boolean isCurrent(long value) {
        Port p = port(MacTable.portId(value));
        return p != null && (p.generation() & 0x7FFF) == MacTable.generation(value);
    }

    /**
     * Ages out entries and reclaims stale ones; compacts the table when dead slots pile up.
     * Control thread only; {@code lane} is the control thread's counter lane.
     */
    public int sweep(long nowNs, Quiescence grace, int lane) {
        int aged = table.sweep(tick(nowNs), agingTicks, (mac, v) -> isCurrent(v), null);
        counters.add(lane, NetworkCounter.AGED.ordinal(), aged);
        table.compactIfNeeded(grace);
        recountMacs();
        return aged;
    }

    /** Sets each port with a mac-limit to its exact number of entries (between recounts it only counts up). */
    void recountMacs() {
        Port[] array = ports;
        boolean any = false;
        for (Port p : array) {
            if (p != null && p.macLimit() > 0) {
                any = true;
                break;
            }
        }
        if (!any) {
            return;
        }
        int[] counts = new int[array.length];
        table.forEach((mac, v) -> {
            int id = MacTable.portId(v);
            if (id < counts.length && !MacTable.isStatic(v)) {
                Port p = array[id];
                if (p != null && (p.generation() & 0x7FFF) == MacTable.generation(v)) {
                    counts[id]++;
                }
            }
        });
        for (Port p : array) {
            if (p != null && p.macLimit() > 0) {
                p.recountedMacs(counts[p.id()]);
            }
        }
    }

    @Override
    public String toString() {
        return "network " + name();
    }
}
