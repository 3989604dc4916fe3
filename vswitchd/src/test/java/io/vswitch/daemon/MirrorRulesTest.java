package io.vswitch.daemon;

import io.vswitch.control.MirrorSpec;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Mirrors follow their ports: a removed port leaves no mirror naming it (a restart would refuse one). */
class MirrorRulesTest {
    @Test
    void aRemovedPortLeavesNoMirrorThatNamesIt() {
        List<MirrorSpec> mirrors = List.of(
                new MirrorSpec("to-it", List.of("a"), "both", "gone"),
                new MirrorSpec("only-it", List.of("gone"), "in", "out1"),
                new MirrorSpec("some", List.of("gone", "a"), "out", "out2"),
                new MirrorSpec("all", List.of(), "both", "out3"));
        List<MirrorSpec> after = MirrorRules.withoutPort(mirrors, "gone");
        assertEquals(List.of(new MirrorSpec("some", List.of("a"), "out", "out2"),
                new MirrorSpec("all", List.of(), "both", "out3")), after);
        // ... and what is left passes the rules a restart applies.
        assertEquals(2, NetworkRules.mirrors(after, Set.of("a", "out2", "out3")).size());
        assertThrows(SpecException.class, () -> NetworkRules.mirrors(mirrors, Set.of("a", "out1", "out2", "out3")));
    }
}
