package io.vswitch.ctl;

import io.vswitch.control.StormSpec;
import picocli.CommandLine.Option;

/** The storm limits {@code network add} (for every port) and {@code port add} (for one) take. */
final class StormOptions {
    @Option(names = "--storm-broadcast", paramLabel = "FPS", description = "Broadcast frames/s a port may flood (0: no limit).")
    Long broadcast;
    @Option(names = "--storm-multicast", paramLabel = "FPS", description = "Multicast frames/s a port may flood.")
    Long multicast;
    @Option(names = "--storm-unknown-unicast", paramLabel = "FPS", description = "Unknown-unicast frames/s a port may flood.")
    Long unknownUnicast;

    /** The limits given, or null when none was. */
    StormSpec spec() {
        return broadcast == null && multicast == null && unknownUnicast == null ? null
                : new StormSpec(broadcast, multicast, unknownUnicast);
    }
}
