package io.vswitch.daemon;

import io.vswitch.core.BridgeDomain;
import io.vswitch.core.NetworkSettings;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.TapOptions;
import io.vswitch.tapio.Dataplane;
import io.vswitch.tapio.TapPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A running switch: the data plane and the networks of one configuration. {@link #start}
 * creates everything or nothing: when one port cannot be opened, what was opened is closed
 * again and the error says which device and why.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);

    private final DaemonConfig config;
    private final Dataplane dataplane;
    private final Map<String, BridgeDomain> networks = new LinkedHashMap<>();

    private Daemon(DaemonConfig config, Dataplane dataplane) {
        this.config = config;
        this.dataplane = dataplane;
    }

    /** A device or kernel refused what the configuration asks for. */
    public static final class StartException extends Exception {
        StartException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public static Daemon start(DaemonConfig config) throws StartException {
        DaemonConfig.Dataplane dp = config.dataplane();
        Dataplane dataplane = Dataplane.start(new Dataplane.Options(dp.threads(), dp.cpus(), dp.batch(), 65535));
        Daemon daemon = new Daemon(config, dataplane);
        dataplane.setPortListener((port, reason) -> { });
        try {
            int id = 1;
            for (DaemonConfig.Network n : config.networks()) {
                BridgeDomain domain = new BridgeDomain(id++,
                        new NetworkSettings(n.name(), n.mtu(), n.macAging(), n.macLimit()), dataplane.lanes());
                daemon.networks.put(n.name(), domain);
                dataplane.addDomain(domain);
                for (String name : n.ports()) {
                    TapPort port;
                    try {
                        port = dataplane.openTap(name, n.mtu(), TapOptions.PLAIN);
                    } catch (NativeCallException e) {
                        throw new StartException("network " + n.name() + ": cannot open port " + name + ": "
                                + e.getMessage(), e);
                    }
                    dataplane.attach(domain, port);
                    LOG.info("port {} up in network {} (lane {}, {})", name, n.name(), port.lane().index(),
                            port.device().created() ? "created" : "existing device");
                }
                LOG.info("network {} ready: {} ports, mtu {}, mac-aging {}s, mac-limit {}", n.name(), n.ports().size(),
                        n.mtu(), n.macAging().toSeconds(), n.macLimit());
            }
        } catch (StartException e) {
            dataplane.close();
            throw e;
        } catch (InterruptedException e) {
            dataplane.close();
            Thread.currentThread().interrupt();
            throw new StartException("interrupted while starting", e);
        } catch (RuntimeException e) {
            dataplane.close();
            throw new StartException("start failed: " + e, e);
        }
        return daemon;
    }

    public DaemonConfig config() {
        return config;
    }

    public Dataplane dataplane() {
        return dataplane;
    }

    public Map<String, BridgeDomain> networks() {
        return Collections.unmodifiableMap(networks);
    }

    public List<TapPort> ports() {
        return new ArrayList<>(dataplane.ports());
    }

    @Override
    public void close() {
        dataplane.close();
    }
}
