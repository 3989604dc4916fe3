package io.vswitch.metrics;

import io.vswitch.core.BridgeDomain;
import io.vswitch.core.ChannelPort;
import io.vswitch.core.DropReason;
import io.vswitch.core.NetworkSettings;
import io.vswitch.core.PortCounter;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.dataplane.Dataplane;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Prometheus endpoint on loopback over a real data plane with in-memory ports: the counters
 * as the data path bumps them, ports and networks that come and go, a port taken by another
 * process. fd-level, no root.
 */
class MetricsServerTest {
    private Dataplane dataplane;
    private final Map<String, BridgeDomain> networks = new ConcurrentHashMap<>();
    private SwitchMetrics metrics;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() {
        dataplane = Dataplane.start(new Dataplane.Options(1, List.of(), 16, VirtioNetHeader.MAX_GSO_FRAME, 0, false,
                Dataplane.Io.EPOLL), (port, domain, reason) -> { });
        metrics = new SwitchMetrics(dataplane, null, () -> new LinkedHashMap<>(networks), "9.9.9");
    }

    @AfterEach
    void stop() {
        dataplane.stopLoops();
        dataplane.close();
    }

    private String scrape(MetricsServer server) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        return r.body();
    }

    private static InetSocketAddress anyPort() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }

    @Test
    void portsAndNetworksAreCountedAsTheDataPathCountsThem() throws Exception {
        BridgeDomain blue = new BridgeDomain(1, NetworkSettings.defaults("blue"), dataplane.lanes());
        ChannelPort b0 = new ChannelPort("b0", dataplane.lanes(), false, false);
        blue.addPort(b0);
        networks.put("blue", blue);
        b0.counters().add(0, PortCounter.RX_FRAMES.ordinal(), 7);
        b0.countDrop(0, DropReason.RUNT);
        try (MetricsServer server = MetricsServer.start(anyPort(), metrics)) {
            String text = scrape(server);
            assertTrue(text.contains("vswitch_port_rx_frames_total{kind=\"channel\",network=\"blue\",port=\"b0\"} 7.0"), text);
            assertTrue(text.contains("vswitch_port_drops_total{network=\"blue\",port=\"b0\",reason=\"runt\"} 1.0"), text);
            assertTrue(text.contains("vswitch_network_mac_entries{network=\"blue\"} 0.0"), text);
            assertTrue(text.contains("vswitch_build_info{version=\"9.9.9\"} 1"), text);
            assertTrue(text.contains("vswitch_loop_busy_ratio{loop=\"0\"}"), text);

            networks.remove("blue");
            BridgeDomain green = new BridgeDomain(2, NetworkSettings.defaults("green"), dataplane.lanes());
            green.addPort(new ChannelPort("b0", dataplane.lanes(), false, false));
            networks.put("green", green);
            text = scrape(server);
            assertFalse(text.contains("network=\"blue\""), "a gone network's meters go with it");
            assertTrue(text.contains("vswitch_port_rx_frames_total{kind=\"channel\",network=\"green\",port=\"b0\"} 0.0"),
                    "a new port of the same name starts from zero: " + text);
        }
    }

    @Test
    void othersGaugesAndCountersAreScrapedToo() throws Exception {
        metrics.gauge("vswitch.cluster.connected", "1 while connected", () -> 1);
        metrics.counter("vswitch.cluster.writes", "writes", () -> 42);
        try (MetricsServer server = MetricsServer.start(anyPort(), metrics)) {
            String text = scrape(server);
            assertTrue(text.contains("vswitch_cluster_connected 1.0"), text);
            assertTrue(text.contains("vswitch_cluster_writes_total 42.0"), text);
        }
    }

    @Test
    void onlyGetIsAnswered() throws Exception {
        try (MetricsServer server = MetricsServer.start(anyPort(), metrics)) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.address().getPort() + "/metrics")).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(405, r.statusCode());
        }
    }

    @Test
    void anAddressAnotherProcessHoldsIsNotBoundAndTheSwitchRunsOn() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             MetricsServer server = MetricsServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                     taken.getLocalPort()), metrics)) {
            assertNull(server.address(), "not listening while the port is taken; binding is tried again later");
        }
    }
}
