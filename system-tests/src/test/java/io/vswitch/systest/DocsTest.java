package io.vswitch.systest;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a new user reads and runs on a minimal root machine works as written. Needs no root. */
class DocsTest {
    private static final Path ROOT = Vswitchd.ROOT;

    private static List<Path> userFacing() throws Exception {
        try (Stream<Path> scripts = Stream.of("scripts", "bench", "bin", "dist/systemd").flatMap(d -> {
            try {
                return Files.list(ROOT.resolve(d)).filter(Files::isRegularFile);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        })) {
            List<Path> all = new java.util.ArrayList<>(scripts.filter(p -> !p.toString().endsWith(".xml")).toList());
            all.add(ROOT.resolve("README.md"));
            return all;
        }
    }

    @Test
    void noSudoOnAMachineThatHasNone() throws Exception {
        for (Path p : userFacing()) {
            assertFalse(Files.readString(p).matches("(?s).*\\bsudo\\b.*"), p + " says sudo");
        }
    }

    @Test
    void mavenIsAlwaysAskedForPlainText() throws Exception {
        for (Path p : userFacing()) {
            for (String line : Files.readAllLines(p)) {
                if (line.trim().startsWith("mvn ")) {
                    assertTrue(line.contains("-Dstyle.color=never"), p + ": " + line);
                }
            }
        }
        assertTrue(Files.readString(ROOT.resolve("scripts/env.sh")).contains("jansi.noreset"));
    }

    @Test
    void vswitchctlHelpWorksAtEveryLevel() {
        for (String[] args : new String[][] {{"help"}, {"--help"}, {"network", "--help"}, {"network", "help"},
                {"port", "--help"}, {"fdb", "help"}, {"help", "network"}}) {
            List<String> command = new java.util.ArrayList<>(List.of(ROOT.resolve("bin/vswitchctl").toString()));
            command.addAll(List.of(args));
            Sh.Result r = Sh.run(60, command);
            assertEquals(0, r.code(), String.join(" ", args) + ": " + r);
            assertTrue(r.out().contains("Usage:"), String.join(" ", args) + ": " + r);
        }
    }

    @Test
    void theReadmeShowsBothSetupCommandsOnItsFirstScreenAndCiRunsTheTestOne() throws Exception {
        List<String> first = Files.readAllLines(ROOT.resolve("README.md")).subList(0, 25);
        assertTrue(first.stream().anyMatch(l -> l.startsWith("scripts/demo")), first.toString());
        assertTrue(first.stream().anyMatch(l -> l.startsWith("scripts/test")), first.toString());
        assertTrue(Files.readString(ROOT.resolve(".ci/run")).contains("exec scripts/test"));
    }

    @Test
    void theReadmeShowsADaemonInAnotherNamespaceAndTheUnitWaitsForReadiness() throws Exception {
        String readme = Files.readString(ROOT.resolve("README.md"));
        assertTrue(readme.contains("bin/vswitchctl --socket "), "vswitchctl --socket for a daemon elsewhere");
        assertTrue(readme.contains("ip -n "), "ip -n NS for its TAPs");
        String unit = Files.readString(ROOT.resolve("dist/systemd/vswitchd.service"));
        assertTrue(unit.contains("Type=notify"), unit);
        assertTrue(unit.contains("RestartPreventExitStatus=2"), "a bad config (exit 2) is not restarted every second");
    }
}
