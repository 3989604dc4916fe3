package io.vswitch.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.DropReason;
import io.vswitch.core.NetworkCounter;
import io.vswitch.core.Port;
import io.vswitch.core.PortCounter;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.dataplane.Lane;
import io.vswitch.vxlan.TunnelCounter;
import io.vswitch.vxlan.VxlanEndpoint;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Micrometer views over the switch's own counters. The data path only adds to plain per-lane
 * counter stripes; every meter here is a FunctionCounter or Gauge that sums those stripes when
 * Prometheus scrapes, so metrics cost the data path nothing. Ports and networks come and go at
 * run time: each scrape first registers meters for new ones and removes those of the gone.
 *
 * <pre>
 *   vswitch_port_{rx,tx}_{frames,bytes}_total{network,port,kind}
 *   vswitch_port_drops_total{network,port,reason}       vswitch_port_up{network,port}
 *   vswitch_network_mac_entries{network}                vswitch_network_{learned,moved,aged,limit_hit,forwarded,flooded}_total{network}
 *   vswitch_loop_busy_ratio{loop}                       vswitch_uptime_seconds, vswitch_build_info{version}
 *   vswitch_vxlan_{rx,tx}_{datagrams,bytes}_total       vswitch_vxlan_drops_total{reason}
 *   vswitch_dataplane_io_info{io,polling}               vswitch_io_uring_enters_total
 *   vswitch_io_uring_frames_total{direction}            (enters / frames: kernel entries per TAP frame)
 * </pre>
 */
public final class SwitchMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Supplier<Map<String, BridgeDomain>> networks;
    private final Map<Port, List<Meter>> portMeters = new IdentityHashMap<>();
    private final Map<BridgeDomain, List<Meter>> networkMeters = new IdentityHashMap<>();
    /** Micrometer holds a gauge's object weakly: these must live as long as the registry. */
    private final List<BusyRatio> busyRatios = new ArrayList<>();
    private final List<Object> held = new ArrayList<>();

    public SwitchMetrics(Dataplane dataplane, VxlanEndpoint vxlan, Supplier<Map<String, BridgeDomain>> networks,
            String version) {
        this.networks = networks;
        Gauge.builder("vswitch.uptime", dataplane, d -> d.uptimeNs() / 1e9).baseUnit("seconds")
                .description("seconds since the daemon started").register(registry);
        Gauge.builder("vswitch.build.info", () -> 1).tag("version", version)
                .description("the running build").register(registry);
        FunctionCounter.builder("vswitch.port.failures", dataplane, Dataplane::portFailures)
                .description("ports that went down by themselves (device gone)").register(registry);
        long spin = dataplane.options().busyPollNs();
        Gauge.builder("vswitch.dataplane.io.info", () -> 1).tag("io", dataplane.io().label())
                .tag("polling", spin == Dataplane.ADAPTIVE_POLL ? "adaptive" : spin == 0 ? "off" : spin + "ns")
                .description("how the loops read and write TAP frames, and how they wait").register(registry);
        FunctionCounter.builder("vswitch.io.uring.enters", dataplane, d -> d.ringCounts()[0])
                .description("io_uring_enter calls made for TAP reads and writes").register(registry);
        FunctionCounter.builder("vswitch.io.uring.frames", dataplane, d -> d.ringCounts()[1]).tag("direction", "rx")
                .description("TAP frames read or written through io_uring").register(registry);
        FunctionCounter.builder("vswitch.io.uring.frames", dataplane, d -> d.ringCounts()[2]).tag("direction", "tx")
                .description("TAP frames read or written through io_uring").register(registry);
        for (int i = 0; i < dataplane.threads(); i++) {
            BusyRatio ratio = new BusyRatio(dataplane.lane(i));
            busyRatios.add(ratio);
            Gauge.builder("vswitch.loop.busy.ratio", ratio, BusyRatio::sample).strongReference(true)
                    .tag("loop", Integer.toString(i))
                    .description("share of time the loop spent forwarding since the previous scrape").register(registry);
        }
        if (vxlan != null) {
            for (TunnelCounter c : TunnelCounter.values()) {
                String label = c.label();
                if (label.startsWith("drop_")) {
                    FunctionCounter.builder("vswitch.vxlan.drops", vxlan, v -> v.count(c))
                            .tag("reason", label.substring(5).replace('_', '-')).description(c.description()).register(registry);
                } else {
                    FunctionCounter.builder("vswitch.vxlan." + label.replace('_', '.'), vxlan, v -> v.count(c))
                            .description(c.description()).register(registry);
                }
            }
        }
    }

    /** A gauge of another part of the daemon (such as its cluster session), held strongly. */
    public synchronized void gauge(String name, String description, java.util.function.DoubleSupplier value) {
        Gauge.builder(name, value, java.util.function.DoubleSupplier::getAsDouble).strongReference(true)
                .description(description).register(registry);
    }

    /** A counter of another part of the daemon, read when scraped. */
    public synchronized void counter(String name, String description, java.util.function.LongSupplier value) {
        held.add(value); // Micrometer holds a function counter's object weakly
        FunctionCounter.builder(name, value, v -> v.getAsLong()).description(description).register(registry);
    }

    /** A counter of another part of the daemon with one tag (such as a reason), read when scraped. */
    public synchronized void counter(String name, String description, String tag, String value,
            java.util.function.LongSupplier count) {
        held.add(count);
        FunctionCounter.builder(name, count, v -> v.getAsLong()).description(description).tag(tag, value).register(registry);
    }

    /** Busy time between two samples over the wall time between them. */
    private static final class BusyRatio {
        private final Lane lane;
        private long lastBusy;
        private long lastWall = System.nanoTime();

        BusyRatio(Lane lane) {
            this.lane = lane;
            this.lastBusy = lane.busyNanos();
        }

        synchronized double sample() {
            long busy = lane.busyNanos();
            long wall = System.nanoTime();
            double ratio = wall > lastWall ? (double) (busy - lastBusy) / (wall - lastWall) : 0;
            lastBusy = busy;
            lastWall = wall;
            return Math.min(1.0, Math.max(0.0, ratio));
        }
    }

    /** The Prometheus text exposition of every meter, after bringing ports and networks up to date. */
    public synchronized String scrape() {
        sync();
        return registry.scrape();
    }

    /**
     * Brings the meters up to date: those of gone ports and networks are removed first, then new
     * ones registered. In that order a port removed and added again under the same name gets
     * meters of its own; the other way round Micrometer would hand back the old port's meters,
     * and removing those would leave the new port with none.
     */
    private void sync() {
        Map<BridgeDomain, Boolean> liveDomains = new IdentityHashMap<>();
        Map<Port, BridgeDomain> livePorts = new IdentityHashMap<>();
        for (BridgeDomain d : networks.get().values()) {
            liveDomains.put(d, true);
            for (Port p : d.ports()) {
                livePorts.put(p, d);
            }
        }
        networkMeters.entrySet().removeIf(e -> !liveDomains.containsKey(e.getKey()) && remove(e.getValue()));
        portMeters.entrySet().removeIf(e -> !livePorts.containsKey(e.getKey()) && remove(e.getValue()));
        for (BridgeDomain d : liveDomains.keySet()) {
            networkMeters.computeIfAbsent(d, this::networkMeters);
        }
        livePorts.forEach((p, d) -> portMeters.computeIfAbsent(p, port -> portMeters(d, port)));
    }

    private boolean remove(List<Meter> meters) {
        meters.forEach(registry::remove);
        return true;
    }

    private List<Meter> networkMeters(BridgeDomain d) {
        List<Meter> meters = new ArrayList<>();
        Tags tags = Tags.of("network", d.name());
        meters.add(Gauge.builder("vswitch.network.mac.entries", d, x -> x.table().size()).tags(tags)
                .description("entries in the network's MAC table").register(registry));
        for (NetworkCounter c : NetworkCounter.values()) {
            meters.add(FunctionCounter.builder("vswitch.network." + c.label().replace('_', '.'), d, x -> x.count(c))
                    .tags(tags).description(c.description()).register(registry));
        }
        return meters;
    }

    private List<Meter> portMeters(BridgeDomain d, Port p) {
        List<Meter> meters = new ArrayList<>();
        Tags tags = Tags.of("network", d.name(), "port", p.name(), "kind", p.kind());
        meters.add(FunctionCounter.builder("vswitch.port.rx.frames", p, x -> x.count(PortCounter.RX_FRAMES)).tags(tags)
                .description("frames received").register(registry));
        meters.add(FunctionCounter.builder("vswitch.port.rx.bytes", p, x -> x.count(PortCounter.RX_BYTES)).tags(tags)
                .description("bytes received").register(registry));
        meters.add(FunctionCounter.builder("vswitch.port.tx.frames", p, x -> x.count(PortCounter.TX_FRAMES)).tags(tags)
                .description("frames sent").register(registry));
        meters.add(FunctionCounter.builder("vswitch.port.tx.bytes", p, x -> x.count(PortCounter.TX_BYTES)).tags(tags)
                .description("bytes sent").register(registry));
        meters.add(Gauge.builder("vswitch.port.up", p, x -> x.isUp() && x.linkUp() ? 1 : 0).tags("network", d.name(), "port", p.name())
                .description("1 when the port is up").register(registry));
        for (DropReason r : DropReason.values()) {
            meters.add(FunctionCounter.builder("vswitch.port.drops", p, x -> x.drops(r))
                    .tags("network", d.name(), "port", p.name(), "reason", r.label())
                    .description("frames dropped, by reason").register(registry));
        }
        return meters;
    }
}
