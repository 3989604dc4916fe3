package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * One port that floods and two that ping; then a loop: two TAPs of the network joined by a Linux
 * bridge in a namespace. With the defaults (storm limits, MAC-move dampening) neither stalls the
 * others or keeps the daemon busy, and the network recovers when the loop goes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StormTest {
    private static final String A = "198.18.40.1";
    private static final String B = "198.18.40.2";

    private Netns netns;
    private String sw;
    private Vswitchd daemon;
    private final Map<String, String> ns = new HashMap<>();

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        sw = netns.create("ssw");
        Path config = Vswitchd.writeConfig("""
                dataplane: {threads: 2, pin: false}
                metrics: {listen: off}
                dns: {upstream: []}
                networks:
                  - name: storm
                    ports: [sa, sb, sf, sl1, sl2]
                """);
        daemon = Vswitchd.start(sw, config);
        for (String[] p : new String[][] {{"sa", A}, {"sb", B}, {"sf", "198.18.40.9"}}) {
            String c = netns.createQuiet("s-" + p[0]);
            netns.plug(sw, p[0], c, p[1] + "/24");
            ns.put(p[0], c);
        }
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

    /** 300 pings 10 ms apart from sa to sb; returns the loss in percent. */
    private double pingLoss() {
        Sh.Result r = netns.exec(60, ns.get("sa"), "ping", "-c", "300", "-i", "0.01", "-W", "1", "-q", B);
        Matcher m = Pattern.compile("([0-9.]+)% packet loss").matcher(r.out());
        assertTrue(m.find(), r.toString());
        return Double.parseDouble(m.group(1));
    }

    private JsonNode port(String name) throws Exception {
        for (JsonNode n : daemon.json("show").path("networks")) {
            for (JsonNode p : n.path("ports")) {
                if (p.path("name").asText().equals(name)) {
                    return p;
                }
            }
        }
        throw new AssertionError("no port " + name);
    }

    @Test
    @Order(1)
    void aBroadcastFloodAtFullSpeedFromOnePortLeavesTheOthersPingingWithUnderOnePercentLoss() throws Exception {
        assertTrue(pingLoss() < 1.0, "before");
        Process flood = new ProcessBuilder("ip", "netns", "exec", ns.get("sf"), "timeout", "20", "python3", "-c", """
                import socket, time
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
                s.bind(("sf", 0))
                frame = bytes.fromhex("ffffffffffff02000000f00188b5") + bytes(50)
                end = time.time() + 15
                sent = 0
                while time.time() < end:
                    for i in range(1000):
                        try:
                            s.send(frame)
                            sent += 1
                        except OSError:
                            pass
                print(sent)
                """).redirectErrorStream(true).start();
        try {
            Thread.sleep(1000);
            double cpu0 = daemon.cpuSeconds();
            long t0 = System.nanoTime();
            double loss = pingLoss();
            double cpu = (daemon.cpuSeconds() - cpu0) / ((System.nanoTime() - t0) / 1e9);
            assertTrue(loss < 1.0, "ping loss during the flood: " + loss + "%");
            JsonNode sf = port("sf");
            long dropped = sf.path("drops").path("storm-broadcast").asLong();
            long rx = sf.path("counters").path("rx_frames").asLong();
            assertTrue(dropped > rx / 2, "most of the flood is dropped at its port: " + dropped + " of " + rx);
            System.out.printf("flood: %d frames in, %d dropped as storm-broadcast, daemon %.2f cores%n", rx, dropped, cpu);
        } finally {
            flood.destroy();
            flood.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(2)
    void aLoopThroughALinuxBridgeLeavesTheOthersWorkingTheDaemonUnderOneCoreAndGoesAway() throws Exception {
        String loop = netns.createQuiet("s-loop");
        Sh.must(10, "ip", "-n", sw, "link", "set", "sl1", "netns", loop);
        Sh.must(10, "ip", "-n", sw, "link", "set", "sl2", "netns", loop);
        Sh.must(10, "ip", "-n", loop, "link", "add", "br0", "type", "bridge");
        Sh.must(10, "ip", "-n", loop, "link", "set", "sl1", "master", "br0", "up");
        Sh.must(10, "ip", "-n", loop, "link", "set", "sl2", "master", "br0", "up");
        Sh.must(10, "ip", "-n", loop, "link", "set", "br0", "up");
        // Broadcasts (ARP) from sa now go round: switch -> sl1 -> br0 -> sl2 -> switch -> sl1 ...
        netns.exec(10, ns.get("sa"), "ip", "neigh", "flush", "all");
        netns.exec(10, ns.get("sa"), "ping", "-c", "3", "-i", "0.2", "-W", "1", "-q", B);
        Thread.sleep(1000);
        double cpu0 = daemon.cpuSeconds();
        long t0 = System.nanoTime();
        Thread.sleep(5000);
        double cores = (daemon.cpuSeconds() - cpu0) / ((System.nanoTime() - t0) / 1e9);
        assertTrue(cores < 1.0, "the daemon used " + cores + " cores with a loop on two of its ports");
        double loss = pingLoss();
        assertTrue(loss < 5.0, "pings between the other ports with the loop in place: " + loss + "% lost");
        daemon.awaitLog("moves between ports faster than", 10);
        assertTrue(daemon.log().contains("it stays on port sa"), daemon.log());
        System.out.printf("loop: daemon %.2f cores, ping loss %.1f%%%n", cores, loss);
        // The loop goes: everything works as before.
        Sh.must(10, "ip", "-n", loop, "link", "del", "br0");
        assertTrue(pingLoss() < 1.0, "after the loop went");
    }
}
