package io.vswitch.daemon;

import java.time.Duration;
import java.util.List;

/** The validated configuration: immutable, built once at start-up by {@link ConfigReader}. */
public record DaemonConfig(String source, Dataplane dataplane, List<Network> networks) {

    /** {@code dataplane:} settings. */
    public record Dataplane(int threads, List<Integer> cpus, int batch) {
    }

    /** One {@code networks:} entry; {@code line} is where it starts in the file. */
    public record Network(String name, int mtu, Duration macAging, int macLimit, List<String> ports, int line) {
    }

    public Network network(String name) {
        return networks.stream().filter(n -> n.name().equals(name)).findFirst().orElse(null);
    }
}
