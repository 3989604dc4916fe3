package io.vswitch.daemon;

import io.vswitch.control.MirrorSpec;
import io.vswitch.core.Mirroring;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Mirrors as the registry keeps them: specs by port names, and what the data path resolves. */
final class MirrorRules {
    private MirrorRules() {
    }

    /** The mirrors as the data path resolves them by port name. */
    static List<Mirroring.Mirror> resolve(List<MirrorSpec> specs) {
        return specs.stream().map(m -> new Mirroring.Mirror(m.name(), Set.copyOf(m.ports()),
                !"out".equals(m.direction()), !"in".equals(m.direction()), m.output())).toList();
    }

    /**
     * The mirrors without port {@code port}: a mirror whose output it was goes, and so does one
     * that mirrored it alone (an empty list would mean every port); others just lose it.
     */
    static List<MirrorSpec> withoutPort(List<MirrorSpec> mirrors, String port) {
        List<MirrorSpec> out = new ArrayList<>();
        for (MirrorSpec m : mirrors) {
            if (m.output().equals(port) || (m.ports().size() == 1 && m.ports().contains(port))) {
                continue;
            }
            out.add(new MirrorSpec(m.name(), m.ports().stream().filter(x -> !x.equals(port)).toList(), m.direction(),
                    m.output()));
        }
        return out;
    }
}
