package io.vswitch.daemon;

import io.vswitch.core.BridgeDomain;
import io.vswitch.core.EthernetFrame;
import io.vswitch.vxlan.VxlanEndpoint;
import io.vswitch.vxlan.VxlanHeader;
import io.vswitch.core.NetworkSettings;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.TapOptions;
import io.vswitch.tapio.Dataplane;
import io.vswitch.tapio.TapPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
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
    private final Map<String, BridgeDomain> networks = java.util.Collections.synchronizedMap(new LinkedHashMap<>());
    private final Map<String, Integer> vnis = new java.util.concurrent.ConcurrentHashMap<>();
    private final long startedMillis = System.currentTimeMillis();
    private VxlanEndpoint vxlan;

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

    /**
     * Checks what the configuration assumes about this host before anything is created: the
     * VXLAN local address is one of this namespace's, and every overlay network's frames fit
     * the underlay interface's MTU once encapsulated.
     */
    public static void checkHost(DaemonConfig config) throws ConfigException {
        DaemonConfig.Vxlan vx = config.vxlan();
        if (vx == null || config.networks().stream().noneMatch(DaemonConfig.Network::isOverlay)) {
            return;
        }
        NetworkInterface underlay;
        try {
            underlay = NetworkInterface.getByInetAddress(vx.local());
        } catch (SocketException e) {
            throw new ConfigException(config.source(), vx.line(), "vxlan.local", "cannot list interfaces: " + e.getMessage());
        }
        if (underlay == null) {
            throw new ConfigException(config.source(), vx.line(), "vxlan.local", vx.local().getHostAddress()
                    + " is not an address of any interface in this network namespace");
        }
        int underlayMtu;
        try {
            underlayMtu = underlay.getMTU();
        } catch (SocketException e) {
            throw new ConfigException(config.source(), vx.line(), "vxlan.local", "cannot read the MTU of "
                    + underlay.getName() + ": " + e.getMessage());
        }
        for (int i = 0; i < config.networks().size(); i++) {
            DaemonConfig.Network n = config.networks().get(i);
            if (n.isOverlay() && n.mtu() + VxlanHeader.IPV4_OVERHEAD > underlayMtu) {
                throw new ConfigException(config.source(), n.mtuLine(), "networks[" + i + "].mtu", "mtu " + n.mtu()
                        + " + " + VxlanHeader.IPV4_OVERHEAD + " bytes of VXLAN encapsulation exceeds the MTU "
                        + underlayMtu + " of underlay interface " + underlay.getName() + " ("
                        + vx.local().getHostAddress() + "); use at most " + (underlayMtu - VxlanHeader.IPV4_OVERHEAD));
            }
        }
    }

    public static Daemon start(DaemonConfig config) throws StartException {
        DaemonConfig.Dataplane dp = config.dataplane();
        Dataplane dataplane = Dataplane.start(new Dataplane.Options(dp.threads(), dp.cpus(), dp.batch(), 65535));
        Daemon daemon = new Daemon(config, dataplane);
        dataplane.setPortListener((port, reason) -> { });
        try {
            int maxOverlayFrame = config.networks().stream().filter(DaemonConfig.Network::isOverlay)
                    .mapToInt(n -> n.mtu() + EthernetFrame.MAX_OVERHEAD).max().orElse(0);
            if (maxOverlayFrame > 0) {
                DaemonConfig.Vxlan vx = config.vxlan();
                try {
                    daemon.vxlan = VxlanEndpoint.start(dataplane,
                            new VxlanEndpoint.Options(vx.local(), vx.port(), 8, maxOverlayFrame));
                } catch (Exception e) {
                    throw new StartException("cannot open the VXLAN endpoint on " + vx.local().getHostAddress() + ":"
                            + vx.port() + ": " + e.getMessage(), e);
                }
            }
            int id = 1;
            for (DaemonConfig.Network n : config.networks()) {
                BridgeDomain domain = new BridgeDomain(id++,
                        new NetworkSettings(n.name(), n.mtu(), n.macAging(), n.macLimit()), dataplane.lanes());
                daemon.networks.put(n.name(), domain);
                dataplane.addDomain(domain);
                if (n.isOverlay()) {
                    daemon.vnis.put(n.name(), n.vni());
                    daemon.vxlan.addNetwork(domain, n.vni());
                    for (InetAddress peer : n.peers()) {
                        daemon.vxlan.addPeer(n.vni(), peer);
                        LOG.info("network {}: vxlan peer {} (vni {})", n.name(), peer.getHostAddress(), n.vni());
                    }
                }
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
            daemon.close();
            throw e;
        } catch (InterruptedException e) {
            daemon.close();
            Thread.currentThread().interrupt();
            throw new StartException("interrupted while starting", e);
        } catch (RuntimeException e) {
            daemon.close();
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
        synchronized (networks) {
            return Collections.unmodifiableMap(new LinkedHashMap<>(networks));
        }
    }

    public BridgeDomain network(String name) {
        return networks.get(name);
    }

    /** The VNI of an overlay network, or 0. */
    public int vni(String network) {
        return vnis.getOrDefault(network, 0);
    }

    public long startedMillis() {
        return startedMillis;
    }

    public List<TapPort> ports() {
        return new ArrayList<>(dataplane.ports());
    }

    /** The VXLAN endpoint, or null when no network is an overlay. */
    public VxlanEndpoint vxlan() {
        return vxlan;
    }

    @Override
    public void close() {
        if (vxlan != null) {
            vxlan.close();
        }
        dataplane.close();
    }
}
