package io.vswitch.systest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code vswitchctl capture} read by tcpdump, and a mirror port that sees both directions. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CaptureMirrorTest {
    private static final String A = "198.18.41.1";
    private static final String B = "198.18.41.2";

    private Netns netns;
    private String sw;
    private Vswitchd daemon;
    private final Map<String, String> ns = new HashMap<>();

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        sw = netns.create("csw");
        daemon = Vswitchd.start(sw, Vswitchd.writeConfig("""
                dataplane: {threads: 2, pin: false}
                metrics: {listen: off}
                dns: {upstream: []}
                networks:
                  - name: cap
                    ports: [ca, cb, cm]
                """));
        for (String[] p : new String[][] {{"ca", A}, {"cb", B}, {"cm", "198.18.41.9"}}) {
            String c = netns.createQuiet("c-" + p[0]);
            netns.plug(sw, p[0], c, p[1] + "/24");
            ns.put(p[0], c);
        }
        assertTrue(netns.exec(20, ns.get("ca"), "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", B).ok());
    }

    @AfterAll
    void stop() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        if (netns != null) {
            netns.close();
        }
    }

    private Process ctlAsync(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(Vswitchd.ROOT.resolve("bin/vswitchctl").toString(),
                "--socket", daemon.socket().toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    /** Waits until the daemon lists a running capture (its FIFO is open). */
    private void awaitCapture() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (daemon.json("captures").size() == 0) {
            assertTrue(System.nanoTime() < deadline, "no capture started");
            Thread.sleep(100);
        }
    }

    @Test
    void aPortsCaptureFileHoldsExactlyTheFramesSentBothWays() throws Exception {
        Path file = Files.createTempDirectory("cap").resolve("ca.pcap");
        Process capture = ctlAsync("capture", "cap", "--port", "ca", "--count", "10", "--filter", "icmp", "-w",
                file.toString());
        awaitCapture();
        assertTrue(netns.exec(20, ns.get("ca"), "ping", "-c", "5", "-i", "0.1", "-W", "2", "-q", B).ok());
        assertTrue(capture.waitFor(20, TimeUnit.SECONDS), "the capture ends at its count");
        assertEquals(0, capture.exitValue(), new String(capture.getInputStream().readAllBytes()));
        List<String> lines = Sh.must(20, "tcpdump", "-n", "-r", file.toString()).lines()
                .filter(l -> !l.isBlank()).toList();
        assertEquals(10, lines.size(), String.join("\n", lines));
        assertEquals(5, lines.stream().filter(l -> l.contains(A + " > " + B + ": ICMP echo request")).count());
        assertEquals(5, lines.stream().filter(l -> l.contains(B + " > " + A + ": ICMP echo reply")).count());
    }

    @Test
    void aCaptureStreamsToStandardOutputForTcpdump() throws Exception {
        Process pipe = new ProcessBuilder("sh", "-c", Vswitchd.ROOT.resolve("bin/vswitchctl") + " --socket "
                + daemon.socket() + " capture cap --count 4 --filter 'icmp' -w - | tcpdump -n -r - 2>/dev/null")
                .redirectErrorStream(false).start();
        awaitCapture();
        assertTrue(netns.exec(20, ns.get("cb"), "ping", "-c", "2", "-i", "0.1", "-W", "2", "-q", A).ok());
        assertTrue(pipe.waitFor(20, TimeUnit.SECONDS));
        List<String> lines = new String(pipe.getInputStream().readAllBytes()).lines().filter(l -> !l.isBlank()).toList();
        // Without --port every frame the network receives is seen once: 2 requests and 2 replies.
        assertEquals(4, lines.size(), String.join("\n", lines));
        assertTrue(lines.stream().allMatch(l -> l.contains("ICMP echo")), String.join("\n", lines));
    }

    @Test
    void aMirrorPortSeesBothDirectionsOfItsPortAndNothingElse() throws Exception {
        Sh.Result r = daemon.ctl("mirror", "add", "cap", "span", "--port", "ca", "--output", "cm");
        assertEquals(0, r.code(), r.toString());
        try (Capture span = Capture.start(ns.get("cm"), "cm", "icmp")) {
            assertTrue(netns.exec(20, ns.get("ca"), "ping", "-c", "3", "-i", "0.1", "-W", "2", "-q", B).ok());
            List<String> seen = span.stop();
            assertEquals(3, seen.stream().filter(l -> l.contains(A + " > " + B + ": ICMP echo request")).count(),
                    String.join("\n", seen));
            assertEquals(3, seen.stream().filter(l -> l.contains(B + " > " + A + ": ICMP echo reply")).count(),
                    String.join("\n", seen));
        }
        // The output only sends: what it sends itself is dropped, and it gets no floods of its own.
        assertTrue(daemon.ctl("trace", "cap", "--in", "cb", "--src", "02:00:00:00:41:02", "--dst", "ff:ff:ff:ff:ff:ff")
                .out().contains("cm (a mirror's output)"));
        netns.exec(10, ns.get("cm"), "ping", "-c", "2", "-i", "0.1", "-W", "1", "-q", A);
        assertTrue(daemon.ctl("stats").out().contains("mirror-loop"), daemon.ctl("stats").out());
        assertEquals(0, daemon.ctl("mirror", "del", "cap", "span").code());
        netns.exec(10, ns.get("cm"), "ip", "neigh", "flush", "all"); // its ARP for A failed while it was the output
        assertTrue(netns.exec(20, ns.get("cm"), "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", A).ok(),
                "an ordinary port again");
    }
}
