package io.vswitch.systest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A bad configuration exits non-zero, names file, line and key, and creates no device. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadConfigTest {
    private Netns netns;
    private String sw;

    @BeforeAll
    void setUp() {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        sw = netns.create("badcfg");
    }

    @AfterAll
    void tearDown() {
        if (netns != null) {
            netns.close();
        }
    }

    private void refused(String yaml, String expected) throws Exception {
        Path config = Vswitchd.writeConfig(yaml);
        Vswitchd d = Vswitchd.launch(sw, config);
        try {
            assertEquals(2, d.awaitExit(30), d.log());
            assertTrue(d.log().contains(config + ":" + expected), "stderr names file, line and key: " + d.log());
            assertTrue(!d.stdout().contains("ready"));
            assertEquals(List.of(), netns.taps(sw), "a refused config created a device");
        } finally {
            d.close();
        }
    }

    @Test
    void unknownKeyIsRefused() throws Exception {
        refused("networks:\n  - name: blue\n    ports: [bc0, bc1]\n    colour: blue\n",
                "4: networks[0].colour: unknown key");
    }

    @Test
    void duplicatePortIsRefusedAfterValidPortsWereListed() throws Exception {
        refused("networks:\n  - name: blue\n    ports: [bc0, bc1]\n  - name: red\n    ports: [bc1]\n",
                "5: networks[1].ports[0]: port \"bc1\" already belongs to network blue");
    }

    @Test
    void wrongTypeIsRefused() throws Exception {
        refused("dataplane:\n  threads: many\nnetworks:\n  - name: blue\n    ports: [bc0]\n",
                "2: dataplane.threads: expected an integer 1..64, got \"many\"");
    }

    @Test
    void badDurationIsRefused() throws Exception {
        refused("networks:\n  - name: blue\n    mac-aging: forever\n    ports: [bc0]\n",
                "3: networks[0].mac-aging: expected a duration");
    }

    @Test
    void overlayMtuThatDoesNotFitTheUnderlayIsRefused() throws Exception {
        Sh.must(10, "ip", "-n", sw, "link", "add", "ul0", "mtu", "1500", "type", "veth", "peer", "name", "ul0p");
        Sh.must(10, "ip", "-n", sw, "addr", "add", "198.19.0.1/24", "dev", "ul0");
        Sh.must(10, "ip", "-n", sw, "link", "set", "ul0", "up");
        try {
            refused("vxlan:\n  local: 198.19.0.1\nnetworks:\n  - name: blue\n    vni: 42\n    mtu: 1500\n    ports: [bc0]\n",
                    "6: networks[0].mtu: mtu 1500 + 50 bytes of VXLAN encapsulation exceeds the MTU 1500 of underlay interface ul0");
        } finally {
            Sh.run(10, "ip", "-n", sw, "link", "del", "ul0");
        }
    }

    @Test
    void secondDaemonOnTheSameSocketIsRefusedNamingTheHolder() throws Exception {
        Path config = Vswitchd.writeConfig("networks:\n  - name: blue\n    ports: [sd0]\n");
        try (Vswitchd first = Vswitchd.start(sw, config)) {
            Process second = new ProcessBuilder("ip", "netns", "exec", sw, Vswitchd.ROOT.resolve("bin/vswitchd").toString(),
                    "--config", Vswitchd.writeConfig("networks:\n  - name: red\n    ports: [sd1]\n").toString(),
                    "--control-socket", first.socket().toString()).redirectErrorStream(true).start();
            String out = new String(second.getInputStream().readAllBytes());
            assertEquals(1, second.waitFor(), out);
            assertTrue(out.contains("is held by another vswitchd (pid "), out);
            assertEquals(List.of("sd0"), netns.taps(sw), "the second daemon created nothing");
            assertTrue(first.isAlive());
        }
    }

    @Test
    void secondDaemonOnTheSameStateFileIsRefusedNamingTheHolder() throws Exception {
        Path config = Vswitchd.writeConfig("networks:\n  - name: blue\n    ports: [sf0]\n");
        try (Vswitchd first = Vswitchd.start(sw, config)) {
            Vswitchd second = Vswitchd.launch(sw, config);
            try {
                assertEquals(1, second.awaitExit(30), second.log());
                assertTrue(second.log().contains("is held by another vswitchd (pid "), second.log());
                assertTrue(second.log().contains(".state.json"), second.log());
                assertEquals(List.of("sf0"), netns.taps(sw));
                assertTrue(first.isAlive());
            } finally {
                second.close();
            }
        }
    }

    @Test
    void portThatCannotBeOpenedStopsStartupAndRemovesWhatWasCreated() throws Exception {
        // A veth named like the second port exists already: TUNSETIFF refuses it.
        Sh.must(10, "ip", "-n", sw, "link", "add", "bcx1", "type", "veth", "peer", "name", "bcx1p");
        try {
            Path config = Vswitchd.writeConfig("networks:\n  - name: blue\n    ports: [bcx0, bcx1]\n");
            Vswitchd d = Vswitchd.launch(sw, config);
            try {
                assertEquals(1, d.awaitExit(30), d.log());
                assertTrue(d.log().contains("cannot open port bcx1"), d.log());
                assertTrue(d.log().contains("TUNSETIFF"), d.log());
                assertEquals(List.of(), netns.taps(sw), "bcx0 must be removed again");
            } finally {
                d.close();
            }
        } finally {
            Sh.run(10, "ip", "-n", sw, "link", "del", "bcx1");
        }
    }

    /** Runs {@code --check}: exit code and what it printed. */
    private Sh.Result check(Path config) {
        return Sh.run(60, "ip", "netns", "exec", sw, Vswitchd.ROOT.resolve("bin/vswitchd").toString(),
                "--config", config.toString(), "--check");
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', textBlock = """
            vxlan.local not here | vxlan:\\n  local: 198.19.0.1\\nnetworks:\\n  - name: ov\\n    vni: 42\\n | 2: vxlan.local: 198.19.0.1 is not an address of any interface
            a CPU this host lacks | dataplane:\\n  cpus: [0, 99]\\nnetworks:\\n  - name: a\\n    ports: [ck0]\\n | 2: dataplane.cpus[1]: expected an integer 0..
            one CPU twice        | dataplane:\\n  cpus: [0, 0]\\nnetworks:\\n  - name: a\\n    ports: [ck0]\\n | 2: dataplane.cpus[1]: duplicate cpu 0
            a port named dot-dot | networks:\\n  - name: a\\n    ports: ["..", ck0]\\n | 3: networks[0].ports[0]: expected a device name
            a multicast peer     | vxlan:\\n  local: 127.0.0.1\\nnetworks:\\n  - name: ov\\n    vni: 42\\n    peers: [224.0.0.1]\\n | 6: networks[0].peers[0]: expected a unicast IPv4 address
            the any address peer | vxlan:\\n  local: 127.0.0.1\\nnetworks:\\n  - name: ov\\n    vni: 42\\n    peers: [0.0.0.0]\\n | 6: networks[0].peers[0]: expected a unicast IPv4 address
            """)
    void checkRefusesExactlyWhatStartRefuses(String what, String yaml, String expected) throws Exception {
        Path config = Vswitchd.writeConfig(yaml.replace("\\n", "\n"));
        Sh.Result checked = check(config);
        assertEquals(2, checked.code(), what + ": " + checked);
        assertTrue(checked.err().contains(config + ":" + expected), what + ": " + checked);
        refused(yaml.replace("\\n", "\n"), expected);
    }

    @Test
    void theReadmeExampleIsCheckedAgainstThisHost() throws Exception {
        String readme = java.nio.file.Files.readString(Vswitchd.ROOT.resolve("README.md"));
        int start = readme.indexOf("```yaml", readme.indexOf("### Configuration")) + "```yaml".length();
        String example = readme.substring(start, readme.indexOf("```", start));
        Path config = Vswitchd.writeConfig(example);
        Sh.Result checked = check(config);
        assertEquals(2, checked.code(), "its vxlan.local is no address of this namespace: " + checked);
        assertTrue(checked.err().contains("vxlan.local: 198.19.0.1 is not an address"), checked.toString());
        // With that address here, the example is valid and starts.
        Sh.must(10, "ip", "-n", sw, "link", "add", "ul0", "mtu", "1500", "type", "veth", "peer", "name", "ul0p");
        Sh.must(10, "ip", "-n", sw, "addr", "add", "198.19.0.1/24", "dev", "ul0");
        Sh.must(10, "ip", "-n", sw, "link", "set", "ul0", "up");
        try {
            Sh.Result ok = check(config);
            assertEquals(0, ok.code(), ok.toString());
            try (Vswitchd d = Vswitchd.start(sw, config)) {
                assertTrue(d.isAlive());
            }
        } finally {
            Sh.run(10, "ip", "-n", sw, "link", "del", "ul0");
        }
    }

    @Test
    void aFileOverOneMegabyteIsRefusedBeforeItIsParsed() throws Exception {
        Path config = Vswitchd.writeConfig("# " + "x".repeat(10 << 20) + "\nnetworks:\n  - name: a\n");
        long started = System.nanoTime();
        Sh.Result checked = check(config);
        assertEquals(2, checked.code(), checked.toString());
        assertTrue(checked.err().contains("a configuration is at most 1048576"), checked.toString());
        assertTrue(System.nanoTime() - started < 20_000_000_000L);
    }
}
