package io.vswitch.metrics;

import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The Prometheus scrape endpoint: {@code GET /metrics} in the text exposition format, on its
 * own thread, never on a data-plane loop. Metrics are not worth stopping the switch for: when
 * the address cannot be bound (another process holds the port) that is logged and the bind is
 * tried again every few seconds while the data plane runs.
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);
    private static final long RETRY_SECONDS = 5;

    private final InetSocketAddress address;
    private final SwitchMetrics metrics;
    private final ScheduledExecutorService retries;
    private final ExecutorService handler;
    private volatile HttpServer server;
    private volatile boolean closed;
    private boolean warned;

    private MetricsServer(InetSocketAddress address, SwitchMetrics metrics) {
        this.address = address;
        this.metrics = metrics;
        this.retries = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon()
                .name("vswitch-metrics-bind").unstarted(r));
        this.handler = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon()
                .name("vswitch-metrics").unstarted(r));
    }

    /** Serves {@code metrics} on {@code address}, now or as soon as the address can be bound. */
    public static MetricsServer start(InetSocketAddress address, SwitchMetrics metrics) {
        MetricsServer m = new MetricsServer(address, metrics);
        if (!m.tryBind()) {
            m.retries.scheduleWithFixedDelay(() -> {
                if (m.server == null && !m.closed && m.tryBind()) {
                    m.retries.shutdown();
                }
            }, RETRY_SECONDS, RETRY_SECONDS, TimeUnit.SECONDS);
        }
        return m;
    }

    private synchronized boolean tryBind() {
        if (closed) {
            return true;
        }
        HttpServer s;
        try {
            s = HttpServer.create(address, 16);
        } catch (IOException e) {
            if (!warned) {
                warned = true;
                LOG.warn("metrics: cannot listen on {}: {}; the switch runs on, binding is tried again every {} s",
                        address, e.getMessage(), RETRY_SECONDS);
            }
            return false;
        }
        s.createContext("/metrics", exchange -> {
            try (exchange) {
                if (!exchange.getRequestMethod().equals("GET")) {
                    exchange.sendResponseHeaders(405, -1);
                    return;
                }
                byte[] body = metrics.scrape().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        });
        s.setExecutor(handler);
        s.start();
        server = s;
        if (warned) {
            LOG.info("metrics: listening on {} now", address);
        }
        return true;
    }

    /** Where it listens, or null while it could not bind yet. */
    public InetSocketAddress address() {
        HttpServer s = server;
        return s == null ? null : s.getAddress();
    }

    @Override
    public synchronized void close() {
        closed = true;
        retries.shutdownNow();
        HttpServer s = server;
        if (s != null) {
            s.stop(0);
        }
        handler.shutdownNow();
    }
}
