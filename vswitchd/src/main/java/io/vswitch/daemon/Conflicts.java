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
            checkPort(candidate.ports().get(i), candidate, "ports[" + i + "]", existing);
        }
    }

    /** Refuses a port name that a network of {@code existing} already has. */
    public static void checkPort(String port, String field, Iterable<NetworkSpec> existing) {
        checkPort(PortSpec.named(port), null, field, existing);
    }

    /**
     * Refuses a port that a network of {@code existing} already has, unless both are the same
     * trunk (trunk: true in each, of one kind: TAP or uplink) and the networks' VLANs differ (at most one of them
     * untagged: the trunk's native network).
     */
    public static void checkPort(PortSpec port, NetworkSpec network, String field, Iterable<NetworkSpec> existing) {
        for (NetworkSpec other : existing) {
            for (PortSpec p : other.ports()) {
                if (!p.name().equals(port.name())) {
                    continue;
                }
                if (network != null && port.isTrunk() && p.isTrunk() && port.kind().equals(p.kind())) {
                    if (java.util.Objects.equals(network.vlan(), other.vlan())) {
                        throw SpecException.conflict(field, "trunk " + port.name() + " already carries "
                                + (other.vlan() == null ? "an untagged (native) network, " + other.name()
                                : "vlan " + other.vlan() + " for network " + other.name()));
                    }
                    continue;
                }
                throw SpecException.conflict(field, "port \"" + port.name() + "\" already belongs to network "
                        + other.name() + (port.isTrunk() || p.isTrunk() ? " (only a trunk, trunk: true in every network,"
                        + " may carry several)" : ""));
            }
        }
    }
}
