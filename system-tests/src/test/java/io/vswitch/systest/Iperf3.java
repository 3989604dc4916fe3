package io.vswitch.systest;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** One iperf3 TCP run between two namespaces; the server serves that one test and exits. */
final class Iperf3 {
    private Iperf3() {
    }

    /** Runs a 2-second TCP test from {@code clientNs} to {@code ip} in {@code serverNs}; asserts it completed. */
    static Sh.Result tcp(Netns netns, String clientNs, String serverNs, String ip) throws Exception {
        Process server = new ProcessBuilder("ip", "netns", "exec", serverNs, "iperf3", "-s", "-1", "-B", ip)
                .redirectErrorStream(true).start();
        try {
            Sh.Result client = Sh.run(1, "true");
            for (int attempt = 0; attempt < 50; attempt++) {
                client = netns.exec(30, clientNs, "iperf3", "-c", ip, "-t", "2", "-J");
                if (client.ok() || !client.out().contains("Connection refused")) {
                    break;
                }
                Thread.sleep(100); // the server is not listening yet
            }
            assertTrue(client.ok(), client.toString());
            assertTrue(client.out().contains("\"sum_received\""), client.out());
            return client;
        } finally {
            server.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
