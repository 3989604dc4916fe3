package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The two ways TAP frames are read and written, each carrying real traffic between containers:
 * io_uring (what {@code auto} picks on this kernel) and the epoll fallback. Each daemon has an
 * offload network with three containers, one of them on a port without offloads, so that both
 * the queued writes and the GSO segments written directly after them are used, and a 10 MB
 * transfer checked by hash shows that nothing was reordered, lost or corrupted on the way.
 */
class IoModeTest {
    @ParameterizedTest
    @ValueSource(strings = {"auto", "epoll"})
    void containersTalkThroughEitherIoAndShowSaysWhichAndHowOften(String io) throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        try (Netns netns = new Netns()) {
            String sw = netns.create("io");
            Path config = Vswitchd.writeConfig("""
                    dataplane: {threads: 2, io: %s}
                    metrics: {listen: 127.0.0.1:9478}
                    dns: {upstream: []}
                    networks:
                      - name: fast
                        ports: [io0, io1, {name: io2, offload: false}]
                    """.formatted(io));
            try (Vswitchd daemon = Vswitchd.start(sw, config)) {
                String[] ns = new String[3];
                for (int i = 0; i < 3; i++) {
                    ns[i] = netns.create("io-c" + i);
                    netns.plug(sw, "io" + i, ns[i], "198.18.30." + (i + 1) + "/24");
                }
                assertTrue(netns.exec(20, ns[0], "ping", "-c", "3", "-i", "0.2", "-W", "2", "-q", "198.18.30.2").ok());
                Transfer.tenMegabytes(netns, ns[0], ns[1], "198.18.30.2");
                Transfer.tenMegabytes(netns, ns[0], ns[2], "198.18.30.3"); // GSO frames cut for io2
                Transfer.tenMegabytes(netns, ns[2], ns[1], "198.18.30.2");

                JsonNode dp = daemon.json("show").path("dataplane");
                assertEquals(2, dp.path("threads").asInt());
                assertEquals("adaptive", dp.path("polling").asText());
                if (io.equals("epoll")) {
                    assertEquals("epoll", dp.path("io").asText());
                    assertEquals("configured", dp.path("ioNote").asText());
                    assertEquals(0, dp.path("ringEnters").asLong());
                } else {
                    assertEquals("io_uring", dp.path("io").asText(), "this kernel allows io_uring: " + dp);
                    long frames = dp.path("ringFramesRead").asLong() + dp.path("ringFramesWritten").asLong();
                    assertTrue(frames > 10_000, "the transfers went through the ring: " + dp);
                    assertTrue(dp.path("ringEnters").asLong() < frames,
                            "fewer kernel entries than TAP frames: " + dp);
                }
                String metrics = netns.must(10, sw, "curl", "-s", "--max-time", "5", "http://127.0.0.1:9478/metrics");
                assertTrue(metrics.contains("vswitch_dataplane_io_info{io=\"" + (io.equals("epoll") ? "epoll" : "io_uring")
                        + "\",polling=\"adaptive\"} 1"), metrics);
                assertTrue(metrics.contains("vswitch_io_uring_enters_total "), metrics);
                String text = daemon.ctl("show").out();
                assertTrue(text.contains("io " + (io.equals("epoll") ? "epoll (configured)" : "io_uring")), text);
                for (JsonNode n : daemon.json("show").path("networks")) {
                    for (JsonNode p : n.path("ports")) {
                        assertEquals(0, p.path("drops").path("tx-error").asLong(), p.toString());
                    }
                }
            }
        }
    }
}
