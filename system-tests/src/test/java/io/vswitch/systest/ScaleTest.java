package io.vswitch.systest;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * 1,024 ports: ready within 10 s, stopped within 2 s (each TAP is deleted, in one batch), and
 * the kernel memory they cost, printed (the limits are for 4,096 ports; see the README).
 */
@Tag("hostile")
class ScaleTest {
    private static long kernelKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("SUnreclaim:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return 0;
    }

    @Test
    void aThousandPortsStartWithinTenSecondsAndStopWithinTwo() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        int ports = 1024;
        try (Netns netns = new Netns()) {
            String sw = netns.create("scale");
            String list = IntStream.range(0, ports).mapToObj(i -> "s" + i).collect(Collectors.joining(", "));
            Path config = Vswitchd.writeConfig("dataplane: {threads: 2, pin: false}\nmetrics: {listen: off}\n"
                    + "networks:\n  - name: big\n    ports: [" + list + "]\n");
            long memoryBefore = kernelKb();
            long started = System.nanoTime();
            Vswitchd d = Vswitchd.start(sw, config);
            double readySeconds = (System.nanoTime() - started) / 1e9;
            try {
                assertEquals(ports, netns.taps(sw).size());
                long perPortKb = (kernelKb() - memoryBefore) / ports;
                System.out.printf("scale: %d ports ready in %.2f s, kernel memory about %d KB per port%n", ports,
                        readySeconds, perPortKb);
                assertTrue(readySeconds < 10, "ready in " + readySeconds + " s");
                long stopping = System.nanoTime();
                assertEquals(0, d.terminate(10), d.log());
                double stopSeconds = (System.nanoTime() - stopping) / 1e9;
                System.out.printf("scale: %d ports stopped in %.2f s%n", ports, stopSeconds);
                assertTrue(stopSeconds < 2, "stopped in " + stopSeconds + " s");
                assertEquals(0, netns.taps(sw).size(), "every TAP was deleted");
            } finally {
                d.close();
            }
        }
    }
}
