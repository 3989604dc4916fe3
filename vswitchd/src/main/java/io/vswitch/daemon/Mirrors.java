package io.vswitch.daemon;

import io.vswitch.control.MirrorSpec;
import io.vswitch.core.Port;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A network's mirrors (SPAN): replaced whole, checked against the ports the network has now, and
 * saved before they are confirmed; a port that goes takes its place in them along
 * ({@link MirrorRules#withoutPort}). Conductor thread only.
 */
final class Mirrors {
    private static final Logger LOG = LoggerFactory.getLogger(Mirrors.class);

    private final NetworkRegistry registry;

    Mirrors(NetworkRegistry registry) {
        this.registry = registry;
    }

    /** Replaces a network's mirrors; saved before it is confirmed. */
    Network set(String net, List<MirrorSpec> mirrors) {
        Network network = registry.require(net);
        Set<String> names = new HashSet<>();
        for (Port p : network.domain.ports()) {
            if (!p.isTunnel()) {
                names.add(p.name());
            }
        }
        List<MirrorSpec> checked = NetworkRules.mirrors(mirrors == null ? List.of() : mirrors, names);
        List<MirrorSpec> before = network.mirrors;
        network.setMirrors(checked);
        registry.persistence().save(() -> network.setMirrors(before));
        LOG.info("network {}: mirrors now {}", net, checked.isEmpty() ? "none" : checked);
        return network;
    }

    /** After a port went: the mirrors without it, when that changed them. */
    static void dropGone(Network network, List<MirrorSpec> mirrors) {
        if (!mirrors.equals(network.mirrors)) {
            LOG.info("network {}: mirrors now {} (a port they named is gone)", network.name(),
                    mirrors.isEmpty() ? "none" : mirrors);
            network.setMirrors(mirrors);
        }
    }
}
