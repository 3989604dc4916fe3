package io.vswitch.core;

import java.util.List;
import java.util.Set;

/**
 * A network's mirrors (SPAN) as the data path reads them, like Open vSwitch's Mirror: for each
 * port id, the output port that gets a copy of what the port receives, and the one that gets a
 * copy of what is sent to it. Built from mirrors named by port names whenever the network's
 * ports change ({@link BridgeDomain#setMirrors}); immutable, read through one volatile field.
 *
 * <p>An output port only sends: it is left out of floods, never learned on, and what it receives
 * is dropped ({@code mirror-loop}). A frame is copied once to each output however many of its
 * egress ports that output mirrors.
 */
public final class Mirroring {
    /** One mirror by names: {@code ports} (empty: every port but the output), in, out or both. */
    public record Mirror(String name, Set<String> ports, boolean in, boolean out, String output) {
        public Mirror {
            ports = Set.copyOf(ports);
        }
    }

    private final List<Mirror> mirrors;
    /** By port id: the port the mapping is for (ids are reused), and its outputs. */
    private final Port[] ports;
    private final Port[] inTo;
    private final Port[] outTo;
    /** The distinct output ports, each copy counted against its index here (see {@link #outputIndex}). */
    private final Port[] outputs;

    private Mirroring(List<Mirror> mirrors, Port[] ports, Port[] inTo, Port[] outTo, Port[] outputs) {
        this.mirrors = mirrors;
        this.ports = ports;
        this.inTo = inTo;
        this.outTo = outTo;
        this.outputs = outputs;
    }

    /** Resolves {@code mirrors} against the network's ports now ({@code portArray}, by id); null when none apply. */
    static Mirroring resolve(List<Mirror> mirrors, Port[] portArray) {
        if (mirrors.isEmpty()) {
            return null;
        }
        Port[] ports = new Port[portArray.length];
        Port[] inTo = new Port[portArray.length];
        Port[] outTo = new Port[portArray.length];
        List<Port> outputs = new java.util.ArrayList<>();
        for (Mirror m : mirrors) {
            Port output = null;
            for (Port p : portArray) {
                if (p != null && p.name().equals(m.output())) {
                    output = p;
                }
            }
            if (output == null) {
                continue;
            }
            if (!outputs.contains(output)) {
                outputs.add(output);
            }
            for (Port p : portArray) {
                if (p == null || p == output || (!m.ports().isEmpty() && !m.ports().contains(p.name()))) {
                    continue;
                }
                ports[p.id()] = p;
                if (m.in() && inTo[p.id()] == null) {
                    inTo[p.id()] = output;
                }
                if (m.out() && outTo[p.id()] == null) {
                    outTo[p.id()] = output;
                }
            }
        }
        return new Mirroring(List.copyOf(mirrors), ports, inTo, outTo, outputs.toArray(Port[]::new));
    }

    public List<Mirror> mirrors() {
        return mirrors;
    }

    /** Whether {@code port} is an output of one of these mirrors. */
    static boolean isOutput(List<Mirror> mirrors, Port port) {
        for (Mirror m : mirrors) {
            if (m.output().equals(port.name())) {
                return true;
            }
        }
        return false;
    }

    /** Where a copy of what {@code port} receives goes, or null. */
    public Port inputCopy(Port port) {
        int id = port.id();
        return id < ports.length && ports[id] == port ? inTo[id] : null;
    }

    /** How many distinct ports are outputs of these mirrors. */
    int outputs() {
        return outputs.length;
    }

    /** {@code output}'s index among the distinct outputs, 0..{@link #outputs()}-1 (it is one). */
    int outputIndex(Port output) {
        for (int i = 0; i < outputs.length; i++) {
            if (outputs[i] == output) {
                return i;
            }
        }
        throw new IllegalArgumentException(output + " is not a mirror output");
    }

    /** Where a copy of what is sent to {@code port} goes, or null. */
    public Port outputCopy(Port port) {
        int id = port.id();
        return id < ports.length && ports[id] == port ? outTo[id] : null;
    }
}
