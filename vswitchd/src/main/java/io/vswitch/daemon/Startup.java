package io.vswitch.daemon;

import io.vswitch.cluster.EtcdStore;
import io.vswitch.control.ControlClient;
import io.vswitch.control.NetworkSpec;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.daemon.api.ControlApi;
import io.vswitch.daemon.api.ControlServer;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.dataplane.Lane;
import io.vswitch.docker.DockerPlugin;
import io.vswitch.hostnet.SwitchTable;
import io.vswitch.metrics.MetricsServer;
import io.vswitch.metrics.SwitchMetrics;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.resolver.ResolvConf;
import io.vswitch.resolver.UpstreamResolver;
import io.vswitch.vxlan.VxlanEndpoint;
import io.vswitch.vxlan.VxlanHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * Start-up wiring, in one place: what a running vswitchd is made of, in the order it is made,
 * and closed in reverse. {@link #open} makes the switch (the data plane, the port factory, the
 * DNS forwarder, the VXLAN endpoint, the conductor with the registry's jobs, the networks
 * restored); {@link #start} makes the rest of the process around it (the state file's lock,
 * the cluster session, the control API, the Docker driver, the metrics endpoint).
 */
public final class Startup implements AutoCloseable {
    static final Logger LOG = LoggerFactory.getLogger(Startup.class);

    private final StateFile state;
    private final Daemon daemon;
    private final ClusterSync cluster;
    private final ControlServer api;
    private final DockerPlugin docker;
    private final MetricsServer metrics;

    private Startup(StateFile state, Daemon daemon, ClusterSync cluster, ControlServer api, DockerPlugin docker,
            MetricsServer metrics) {
        this.state = state;
        this.daemon = daemon;
        this.cluster = cluster;
        this.api = api;
        this.docker = docker;
        this.metrics = metrics;
    }

    public Daemon daemon() {
        return daemon;
    }

    /**
     * Starts the whole daemon: refuses a control socket another vswitchd answers on, locks the
     * state file, opens the switch, joins the cluster, serves the control API, the Docker driver
     * and the metrics. A failure undoes what was started and says what failed.
     */
    public static Startup start(DaemonConfig cfg, Path controlSocket, Path stateFile) throws Daemon.StartException {
        String holder = ControlClient.holderOf(controlSocket);
        if (holder != null) {
            throw new Daemon.StartException("control socket " + controlSocket + " is held by another vswitchd (" + holder
                    + "); stop it or choose another --control-socket", null);
        }
        StateFile state;
        try {
            state = StateFile.lock(stateFile);
        } catch (IOException e) {
            throw new Daemon.StartException(e.getMessage(), e);
        }
        Daemon daemon = null;
        ClusterSync cluster = null;
        ControlServer api = null;
        try {
            daemon = open(cfg, state, dp -> new TapPortFactory(dp, cfg.dataplane().multiQueue()));
            if (cfg.cluster() != null) {
                try {
                    cluster = ClusterSync.start(daemon, cfg.cluster(), cfg.vxlan().local(), cfg.vxlan().port());
                } catch (EtcdStore.StoreException e) {
                    throw new Daemon.StartException(e.getMessage(), e);
                }
            }
            try {
                api = ControlServer.start(controlSocket, new ControlApi(daemon));
            } catch (IOException | InterruptedException e) {
                throw new Daemon.StartException("cannot serve the control API: " + e.getMessage(), e);
            }
            DockerPlugin docker = null;
            if (cfg.docker() != null) {
                try {
                    docker = DockerPlugin.start(cfg.docker().pluginSocket(), new DockerBackend(daemon));
                } catch (IOException | InterruptedException e) {
                    throw new Daemon.StartException("cannot serve the Docker driver on " + cfg.docker().pluginSocket() + ": "
                            + e.getMessage(), e);
                }
            }
            MetricsServer metrics = cfg.metrics().listen() == null ? null : metrics(cfg.metrics().listen(), daemon, cluster);
            return new Startup(state, daemon, cluster, api, docker, metrics);
        } catch (Daemon.StartException | RuntimeException e) {
            if (api != null) {
                api.close();
            }
            if (cluster != null) {
                cluster.close(true);
            }
            if (daemon != null) {
                daemon.close();
            }
            closeQuietly(state);
            throw e;
        }
    }

    private static MetricsServer metrics(InetSocketAddress listen, Daemon daemon, ClusterSync cluster) {
        SwitchMetrics meters = new SwitchMetrics(daemon.dataplane(), daemon.vxlan(), daemon::domains, ControlApi.VERSION);
        if (cluster != null) {
            cluster.meters(meters);
        }
        return MetricsServer.start(listen, meters);
    }

    /**
     * Opens the switch with the ports {@code factory} makes. Networks come from the state file
     * when it exists (it holds every change made since the config was first loaded), else from
     * the config; either way they pass the same rules.
     */
    static Daemon open(DaemonConfig config, StateFile state, Function<Dataplane, PortFactory> factory)
            throws Daemon.StartException {
        List<NetworkSpec> specs;
        if (state != null && state.exists()) {
            try {
                specs = state.read();
            } catch (IOException e) {
                throw new Daemon.StartException("cannot read state file " + state.path() + ": " + e.getMessage()
                        + " (move it away to start from the config alone)", e);
            }
            LOG.info("restoring {} networks from state file {}", specs.size(), state.path());
        } else {
            specs = config.networks().stream().map(NetworkRules.Network::spec).toList();
        }
        AtomicReference<Daemon> made = new AtomicReference<>();
        DaemonConfig.Dataplane dp = config.dataplane();
        Dataplane dataplane = Dataplane.start(new Dataplane.Options(dp.threads(), dp.cpus(), dp.batch(),
                VirtioNetHeader.MAX_GSO_FRAME, dp.adaptivePoll() ? Dataplane.ADAPTIVE_POLL : dp.busyPoll().toNanos(), dp.pin(),
                dp.io()), (port, domain, reason) -> {
                    Daemon d = made.get();
                    if (d != null) {
                        d.portFailed(port, domain, reason);
                    } else {
                        LOG.warn("port {} down: {}", port.name(), reason);
                    }
                });
        if (dataplane.io() == Dataplane.Io.EPOLL && dp.io() == Dataplane.Io.AUTO) {
            LOG.warn("TAP I/O falls back to epoll, one system call per frame: {}", dataplane.ioNote());
        }
        PortFactory ports = null;
        UpstreamResolver resolver = null;
        VxlanEndpoint vxlan = null;
        Daemon daemon = null;
        try {
            ports = factory.apply(dataplane);
            resolver = startResolver(config, dataplane);
            if (config.vxlan() != null) {
                vxlan = openVxlan(config, dataplane);
            }
            daemon = new Daemon(config, new Conductor(), dataplane, ports, vxlan, resolver,
                    new Attachments(dataplane, ports, new SwitchTable(), resolver), state);
            made.set(daemon);
            daemon.restore(specs, state);
            return daemon;
        } catch (Daemon.StartException | RuntimeException e) {
            if (daemon != null) {
                daemon.close();
            } else {
                dataplane.stopLoops();
                if (ports != null) {
                    ports.stop(dataplane.ports());
                }
                if (vxlan != null) {
                    vxlan.close();
                }
                if (resolver != null) {
                    resolver.close();
                }
                dataplane.close();
            }
            throw e;
        }
    }

    /**
     * The DNS forwarder for names no network knows: the config's {@code dns.upstream}, else the
     * host's resolvers; none (an empty list, or no resolv.conf) refuses them in the data path.
     */
    private static UpstreamResolver startResolver(DaemonConfig config, Dataplane dataplane) throws Daemon.StartException {
        List<InetSocketAddress> servers = config.dns().upstream();
        try {
            if (servers == null) {
                servers = ResolvConf.nameservers(ResolvConf.DEFAULT);
            }
            if (servers.isEmpty()) {
                LOG.info("dns: no upstream resolvers; names a network does not know are refused");
                return null;
            }
            LOG.info("dns: names a network does not know go to {}", servers);
            return UpstreamResolver.start(servers, (lane, write, done) -> {
                Lane l = dataplane.lane(lane);
                l.loop().execute(() -> {
                    try {
                        write.run();
                        l.afterWork();
                    } finally {
                        done.run();
                    }
                });
            }, Duration.ofMillis(1500), config.dns().pendingPerPort(), config.dns().ratePerPort());
        } catch (IOException e) {
            throw new Daemon.StartException("dns: cannot start the forwarder: " + e.getMessage(), e);
        }
    }

    private static VxlanEndpoint openVxlan(DaemonConfig config, Dataplane dataplane) throws Daemon.StartException {
        DaemonConfig.Vxlan vx = config.vxlan();
        int maxFrame = config.host().underlayMtu() - VxlanHeader.IPV4_OVERHEAD + EthernetFrame.MAX_OVERHEAD;
        try {
            return VxlanEndpoint.start(dataplane, new VxlanEndpoint.Options(vx.local(), vx.port(), 8, maxFrame));
        } catch (NativeCallException | InterruptedException e) {
            throw new Daemon.StartException("cannot open the VXLAN endpoint on " + vx.local().getHostAddress() + ":"
                    + vx.port() + ": " + e.getMessage(), e);
        }
    }

    private static void closeQuietly(StateFile state) {
        try {
            state.close();
        } catch (IOException e) {
            LOG.warn("cannot release the state file's lock: {}", e.getMessage());
        }
    }

    /** Stops what {@link #start} started, in reverse: the servers first, so no call arrives while the switch stops. */
    @Override
    public void close() {
        if (docker != null) {
            docker.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        api.close();
        if (cluster != null) {
            cluster.close(true);
        }
        daemon.close();
        closeQuietly(state);
    }
}
