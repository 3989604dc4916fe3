package io.vswitch.control;

import java.util.List;

/**
 * A mirror (SPAN) of a network, as Open vSwitch's Mirror: every frame received on ({@code
 * direction} in) or sent to ({@code out}) one of {@code ports} is also sent, unchanged, to
 * {@code output}, a port of the same network that then only sends (what it receives is dropped).
 *
 * @param name      1-15 characters [a-z0-9-]
 * @param ports     the mirrored ports; empty: all of the network's ports but the output
 * @param direction in, out or both (default)
 * @param output    the port that gets the copies
 */
public record MirrorSpec(String name, List<String> ports, String direction, String output) {
    public MirrorSpec {
        ports = ports == null ? List.of() : List.copyOf(ports);
    }
}
