package io.vswitch.systest;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What a new user reads and runs on a minimal root machine works as written. The README's
 * quick starts are run from the README itself ({@link Readme}: its marked blocks, with only the
 * names of namespaces, /tmp directories and the Docker plugin made this run's own); those need
 * root (and dockerd, podman), the other checks do not.
 */
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
        assertTrue(unit.matches("(?s).*\\nBefore=[^\\n]*\\bdocker\\.service.*"), "dockerd starts after the switch: " + unit);
        assertTrue(unit.contains("RestartPreventExitStatus=2"), "a bad config (exit 2) is not restarted every second");
    }

    @Test
    void theTestSummaryNamesEachFailedTestAndTheCommandThatRerunsOne() throws Exception {
        Path root = Files.createTempDirectory("vswitch-summary");
        Path reports = Files.createDirectories(root.resolve("system-tests/target/surefire-reports"));
        Files.writeString(reports.resolve("TEST-io.vswitch.systest.FaultsTest.xml"), """
                <testsuite name="io.vswitch.systest.FaultsTest" tests="2" failures="1" errors="0" skipped="0">
                  <testcase name="metricsTellTheTruth" classname="io.vswitch.systest.FaultsTest">
                    <failure message="the re-added port has metrics ==&gt; expected: &lt;1.0&gt; but was: &lt;0.0&gt;"
                        type="org.opentest4j.AssertionFailedError">trace</failure>
                  </testcase>
                  <testcase name="other" classname="io.vswitch.systest.FaultsTest"/>
                </testsuite>
                """);
        Path log = root.resolve("maven.log");
        Files.writeString(log, "[INFO] cluster ............ FAILURE [ 10 s]\n[INFO] vswitchd ........... SKIPPED\n");
        Sh.Result r = Sh.run(30, "python3", ROOT.resolve("scripts/test-summary.py").toString(), root.toString(), "1000", "0",
                log.toString());
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.out().contains("vswitch: system tests: 2 run, 1 failed, 0 errors, 0 skipped"), r.out());
        assertTrue(r.out().contains("  system-tests: FaultsTest.metricsTellTheTruth: the re-added port has metrics ==> expected:"
                + " <1.0> but was: <0.0>"), r.out());
        assertTrue(r.out().contains("  scripts/test -pl system-tests -am -Dtest='FaultsTest#metricsTellTheTruth'"
                + " -Dsurefire.failIfNoSpecifiedTests=false"), r.out());
        assertTrue(r.out().contains("not built or tested, because a module they need failed: vswitchd"), r.out());
        assertFalse(r.out().contains("-rf"), r.out());
        String script = Files.readString(ROOT.resolve("scripts/test"));
        assertTrue(script.contains("--fail-at-end") && script.contains("resume the build with the command/,+1d"),
                "every module is tested, and Maven's -rf advice is not shown");
        Sh.run(30, "rm", "-rf", root.toString());
    }

    @Test
    void theReadmesQuickStartsAreMarkedForThisTest() throws Exception {
        assertEquals(List.of("config", "config-try", "apps", "attach", "podman", "podman-run", "docker", "docker-image",
                "docker-run", "docker-stop"), List.copyOf(Readme.blocks().keySet()));
    }

    private static final String ID = String.valueOf(ProcessHandle.current().pid());

    @Test
    void theExampleConfigStartsAsWrittenInANamespaceOfItsOwnAndWarnsOfNothing() throws Exception {
        assumeTrue(Netns.available(), "needs root and iproute2");
        try (Netns netns = new Netns()) {
            Path work = Files.createTempDirectory("vswitch-docs-config");
            String ns = Netns.name("demo");
            netns.adopt(ns);
            Files.writeString(work.resolve("vswitch.yaml"), Readme.rename(Readme.block("config"),
                    Map.of("/run/docker/plugins/vswitch.sock", work.resolve("plugin.sock").toString())));
            Map<String, String> names = new LinkedHashMap<>();
            names.put("/tmp/vsdemo.sock", work.resolve("vsdemo.sock").toString());
            names.put("vswitch.yaml", work.resolve("vswitch.yaml").toString());
            names.put("vsdemo", ns);
            Readme.Run r = Readme.run(Readme.rename(Readme.block("config-try"), names), Map.of(), 120, work);
            assertTrue(r.ok(), r.toString());
            assertTrue(r.output().contains("network blue: mtu 1500"), r.toString());
            assertTrue(r.output().contains("network ov: mtu 1450, vni 42, peers 198.19.0.2 198.19.0.3"), r.toString());
            List<String> warnings = Readme.printed(r.output()).stream().filter(l -> l.contains("WARN")).toList();
            assertEquals(List.of(), warnings, "a start warns of nothing (no network has dns: true)");
            Sh.run(30, "rm", "-rf", work.toString());
        }
    }

    @Test
    void theAttachQuickStartFindsANameThroughTheNamespacesResolvConf() throws Exception {
        assumeTrue(Netns.available(), "needs root and iproute2");
        try (Netns netns = new Netns()) {
            String sw = netns.create("docsw");
            Path work = Files.createTempDirectory("vswitch-docs-attach");
            Path socket = work.resolve("vswitchd.sock");
            Path config = work.resolve("apps.yaml");
            Files.writeString(config, Readme.block("apps"));
            try (Vswitchd daemon = Vswitchd.start(sw, config, socket)) {
                Map<String, String> names = new LinkedHashMap<>();
                for (String n : List.of("web", "db")) {
                    names.put(n, Netns.name(n));
                    netns.adopt(Netns.name(n));
                }
                Readme.Run r = Readme.run(Readme.rename(Readme.block("attach"), names),
                        Map.of("VSWITCH_SOCKET", socket.toString()), 120, work);
                assertTrue(r.ok(), r + "\n--- daemon log\n" + daemon.log());
                assertTrue(r.output().contains("1 packets transmitted, 1 received"), "web pings db by name: " + r);
                assertTrue(r.output().contains("PING " + Netns.name("db") + " (198.18.61."), r.toString());
                for (String n : List.of("web", "db")) {
                    assertFalse(Files.exists(Path.of("/etc/netns/" + Netns.name(n))), "detach removed what attach wrote");
                }
                assertTrue(daemon.log().contains("names the gateway of network apps"), daemon.log());
            }
            Sh.run(30, "rm", "-rf", work.toString());
        }
    }

    @Test
    void theDockerQuickStartRunsAsWritten() throws Exception {
        assumeTrue(Netns.available(), "needs root and iproute2");
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/dockerd")) || Files.isExecutable(Path.of("/usr/bin/dockerd")),
                "dockerd is not installed (scripts/install-packages.sh installs docker.io)");
        assumeTrue(Files.isExecutable(Path.of("/bin/busybox")), "busybox-static is not installed");
        try (Netns netns = new Netns()) {
            Path work = Files.createTempDirectory("vswitch-docs-dk");
            String ns = Netns.name("dock");
            netns.adopt(ns);
            String driver = "vsdoc" + ID;
            Map<String, String> names = new LinkedHashMap<>();
            names.put("/tmp/vsdock", work.resolve("q").toString());
            names.put("plugins/vswitch.sock", "plugins/" + driver + ".sock");
            names.put("-d vswitch", "-d " + driver);
            names.put("vsdock", ns);
            String script = Readme.rename(Readme.block("docker") + Readme.block("docker-image") + Readme.block("docker-run")
                    + Readme.block("docker-stop"), names);
            Files.createDirectories(Path.of("/run/docker/plugins"));
            try {
                Readme.Run r = Readme.run(script, Map.of(), 300, work);
                assertTrue(r.ok(), r.toString());
                List<String> printed = Readme.printed(r.output());
                assertTrue(printed.contains("hello from web"), "wget web answered by busybox httpd: " + r);
                String endpoint = printed.stream().filter(l -> l.startsWith("dk-")).findFirst().orElse("");
                assertTrue(endpoint.matches("dk-[0-9a-f]{12} +[0-9a-f]{12} +vs[0-9a-f]+ +eth0 +198\\.18\\.72\\.\\d+/24 .*"),
                        "the Docker endpoint: its id cut to 12 digits, eth0 in its container: " + r);
                assertFalse(Files.exists(work.resolve("q")), "the quick start removes what it made");
            } finally {
                Files.deleteIfExists(Path.of("/run/docker/plugins/" + driver + ".sock"));
                Sh.run(60, "rm", "-rf", work.toString());
            }
        }
    }

    @Test
    void thePodmanQuickStartRunsAsWritten() throws Exception {
        assumeTrue(Netns.available(), "needs root and iproute2");
        assumeTrue(Sh.run(30, "podman", "--version").ok(), "podman is not installed");
        assumeTrue(Files.isExecutable(Path.of("/bin/busybox")), "busybox-static is not installed");
        try (Netns netns = new Netns()) {
            Path work = Files.createTempDirectory("vswitch-docs-pod");
            String ns = Netns.name("pod");
            netns.adopt(ns);
            Map<String, String> names = new LinkedHashMap<>();
            names.put("/tmp/vspod", work.resolve("q").toString());
            names.put("vspod", ns);
            // The image, without a registry (as the README says, from busybox-static), and podman's storage
            // in this run's directory instead of /var/lib/containers: neither is what the quick start shows.
            Path rootfs = Files.createDirectories(work.resolve("rootfs/bin"));
            Sh.must(30, "sh", "-c", "cp /bin/busybox " + rootfs + " && for a in $(/bin/busybox --list); do [ $a = busybox ]"
                    + " || ln -sf busybox " + rootfs + "/$a; done");
            Files.writeString(work.resolve("storage.conf"), """
                    [storage]
                    driver = "vfs"
                    graphroot = "%s"
                    runroot = "%s"
                    """.formatted(work.resolve("graph"), work.resolve("run")));
            String script = Readme.rename(Readme.block("podman"), names)
                    + "tar -C " + work.resolve("rootfs") + " -c . | podman import - busybox\n"
                    + Readme.rename(Readme.block("podman-run"), names);
            try {
                Readme.Run r = Readme.run(script, Map.of("CONTAINERS_STORAGE_CONF", work.resolve("storage.conf").toString()),
                        300, work);
                assertTrue(r.ok(), r.toString());
                List<String> printed = Readme.printed(r.output());
                assertEquals(2, printed.stream().filter(l -> l.equals("hello from web")).count(),
                        "wget web by name, and curl to the published port: " + r);
                assertTrue(printed.stream().anyMatch(l -> l.matches("apps +[0-9a-f]{12}/eth0 +.*")),
                        "the podman endpoint, its id cut to 12 digits: " + r);
            } finally {
                Sh.run(60, "rm", "-rf", work.toString());
            }
        }
    }
}
