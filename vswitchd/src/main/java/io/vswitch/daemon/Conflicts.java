package io.vswitch.daemon;

import io.vswitch.control.NetworkSpec;
import io.vswitch.control.PortSpec;

/**
 * The rules between networks: names, VNIs and port names are each used once on a host (a port
 * is a device, and a device has one name). Used by the config reader over the file's networks
 * and by the registry over the running ones, so both say the same.
 */
public final class Conflicts {
    private Conflicts() {
    }

    /** Refuses {@code candidate} when it clashes with one of {@code existing}. */
    public static void check(NetworkSpec candidate, Iterable<NetworkSpec> existing) {
        for (NetworkSpec other : existing) {
            if (other.name().equals(candidate.name())) {
                throw SpecException.conflict("name", "network \"" + candidate.name() + "\" exists already");
            }
            if (candidate.vni() != null && candidate.vni().equals(other.vni())) {
                throw SpecException.conflict("vni", "vni " + candidate.vni() + " is already used by network " + other.name());
            }
        }
        for (int i = 0; i < candidate.ports().size(); i++) {
            checkPort(candidate.ports().get(i).name(), "ports[" + i + "]", existing);
        }
    }

    /** Refuses a port name that a network of {@code existing} already has. */
    public static void checkPort(String port, String field, Iterable<NetworkSpec> existing) {
        for (NetworkSpec other : existing) {
            for (PortSpec p : other.ports()) {
                if (p.name().equals(port)) {
                    throw SpecException.conflict(field, "port \"" + port + "\" already belongs to network " + other.name());
                }
            }
        }
    }
}
