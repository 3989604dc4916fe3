package io.vswitch.daemon;

import io.vswitch.core.BridgeDomain;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.MacAddress;
import io.vswitch.core.MacTable;
import io.vswitch.core.NetworkSettings;
import io.vswitch.core.Port;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.TapDevice;
import io.vswitch.nativetap.TapOptions;
import io.vswitch.tapio.Dataplane;
import io.vswitch.tapio.TapPort;
import io.vswitch.vxlan.TunnelPort;
import io.vswitch.vxlan.VxlanEndpoint;
import io.vswitch.vxlan.VxlanHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * A running switch: the data plane, the VXLAN endpoint, and the networks with their ports and
 * static MAC entries.
 *
 * <p>Changes (from start-up or the control API) are serialised by this object's monitor. Each
 * one is checked completely before anything is touched, and undone if a device refuses it half
 * way, so a refused change leaves the switch as it was: {@link IllegalArgumentException} means
 * a bad request, {@link NoSuchElementException} an unknown name, {@link IllegalStateException}
 * a conflict. Changes reach the data plane only through structures built for it: ports are
 * registered with their loop by a task run on that loop, port sets are republished
 * copy-on-write, and MAC tables are lock-free. After every change the state file is rewritten.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);

    /** One network and what the operator asked for it. */
    private static final class Network {
        final BridgeDomain domain;
        final int vni;
        final List<InetAddress> peers;
        final boolean persist;
        final boolean offload;
        final Map<String, Boolean> tapPersist = new LinkedHashMap<>();
        final Map<String, Boolean> tapOffload = new LinkedHashMap<>();
        final Map<Long, String> statics = new LinkedHashMap<>();

        Network(BridgeDomain domain, int vni, List<InetAddress> peers, boolean persist, boolean offload) {
            this.domain = domain;
            this.offload = offload;
            this.vni = vni;
            this.peers = List.copyOf(peers);
            this.persist = persist;
        }
    }

    /** A device or kernel refused what the configuration asks for. */
    public static final class StartException extends Exception {
        StartException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final DaemonConfig config;
    private final Dataplane dataplane;
    private final StateFile state;
    private final Map<String, Network> networks = new LinkedHashMap<>();
    private final long startedMillis = System.currentTimeMillis();
    private final int underlayMtu;
    private VxlanEndpoint vxlan;
    private int nextDomainId = 1;

    private Daemon(DaemonConfig config, Dataplane dataplane, StateFile state, int underlayMtu) {
        this.config = config;
        this.dataplane = dataplane;
        this.state = state;
        this.underlayMtu = underlayMtu;
    }

    /**
     * Checks what the configuration assumes about this host before anything is created: the
     * VXLAN local address is one of this namespace's, and every overlay network's frames fit
     * the underlay interface's MTU once encapsulated. Returns the underlay MTU (0 without VXLAN).
     */
    public static int checkHost(DaemonConfig config) throws ConfigException {
        DaemonConfig.Vxlan vx = config.vxlan();
        if (vx == null) {
            return 0;
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
        return underlayMtu;
    }

    /**
     * Starts the switch. Networks come from the state file when it exists (it holds every change
     * made since the config was first loaded), else from the config.
     */
    public static Daemon start(DaemonConfig config, StateFile state) throws StartException {
        int underlayMtu;
        try {
            underlayMtu = checkHost(config);
        } catch (ConfigException e) {
            throw new StartException(e.getMessage(), e);
        }
        List<NetworkSpec> specs;
        if (state != null && state.exists()) {
            try {
                specs = state.read();
            } catch (IOException e) {
                throw new StartException("cannot read state file " + state.path() + ": " + e.getMessage()
                        + " (move it away to start from the config alone)", e);
            }
            LOG.info("restoring {} networks from state file {}", specs.size(), state.path());
        } else {
            specs = config.networks().stream().map(NetworkSpec::of).toList();
        }
        DaemonConfig.Dataplane dp = config.dataplane();
        Dataplane dataplane = Dataplane.start(new Dataplane.Options(dp.threads(), dp.cpus(), dp.batch(),
                io.vswitch.core.VirtioNetHeader.MAX_GSO_FRAME, dp.busyPoll().toNanos(), dp.pin()));
        Daemon daemon = new Daemon(config, dataplane, state, underlayMtu);
        try {
            if (config.vxlan() != null) {
                DaemonConfig.Vxlan vx = config.vxlan();
                int maxFrame = underlayMtu - VxlanHeader.IPV4_OVERHEAD + EthernetFrame.MAX_OVERHEAD;
                try {
                    daemon.vxlan = VxlanEndpoint.start(dataplane,
                            new VxlanEndpoint.Options(vx.local(), vx.port(), 8, maxFrame));
                } catch (Exception e) {
                    throw new StartException("cannot open the VXLAN endpoint on " + vx.local().getHostAddress() + ":"
                            + vx.port() + ": " + e.getMessage(), e);
                }
            }
            for (NetworkSpec spec : specs) {
                try {
                    daemon.addNetwork(spec, false);
                } catch (RuntimeException e) {
                    throw new StartException("network " + spec.name() + ": " + e.getMessage(), e);
                }
            }
            daemon.saveState();
        } catch (StartException e) {
            daemon.close();
            throw e;
        }
        return daemon;
    }

    public DaemonConfig config() {
        return config;
    }

    public Dataplane dataplane() {
        return dataplane;
    }

    /** The VXLAN endpoint, or null when the config has no {@code vxlan:} section. */
    public VxlanEndpoint vxlan() {
        return vxlan;
    }

    public long startedMillis() {
        return startedMillis;
    }

    public synchronized Map<String, BridgeDomain> networks() {
        Map<String, BridgeDomain> copy = new LinkedHashMap<>();
        networks.forEach((name, n) -> copy.put(name, n.domain));
        return copy;
    }

    public synchronized BridgeDomain network(String name) {
        Network n = networks.get(name);
        return n == null ? null : n.domain;
    }

    /** The VNI of an overlay network, or 0. */
    public synchronized int vni(String network) {
        Network n = networks.get(network);
        return n == null ? 0 : n.vni;
    }

    public synchronized boolean isPersistent(String network, String port) {
        Network n = networks.get(network);
        return n != null && Boolean.TRUE.equals(n.tapPersist.get(port));
    }

    // ---- changes ---------------------------------------------------------------------------

    /** Adds a network with its peers, ports and static entries; all or nothing. */
    public synchronized void addNetwork(NetworkSpec spec) {
        addNetwork(spec, true);
    }

    private void addNetwork(NetworkSpec spec, boolean save) {
        if (spec.name() == null || !ConfigReader.NETWORK_NAME_PATTERN.matcher(spec.name()).matches()) {
            throw new IllegalArgumentException("network name must be 1-15 characters [a-z0-9-], got \"" + spec.name() + "\"");
        }
        if (networks.containsKey(spec.name())) {
            throw new IllegalStateException("network \"" + spec.name() + "\" exists already");
        }
        int mtu = spec.mtu() == 0 ? (spec.vni() != 0 ? underlayOrDefault() - VxlanHeader.IPV4_OVERHEAD : 1500) : spec.mtu();
        if (mtu < 68 || mtu > 65517) {
            throw new IllegalArgumentException("mtu must be 68..65517, got " + mtu);
        }
        List<InetAddress> peers = new ArrayList<>();
        if (spec.vni() != 0) {
            if (spec.vni() < 1 || spec.vni() > VxlanHeader.MAX_VNI) {
                throw new IllegalArgumentException("vni must be 1..16777215, got " + spec.vni());
            }
            if (vxlan == null) {
                throw new IllegalArgumentException("this daemon has no vxlan: section in its config, so it cannot have overlay networks");
            }
            for (Network other : networks.values()) {
                if (other.vni == spec.vni()) {
                    throw new IllegalStateException("vni " + spec.vni() + " is already used by network " + other.domain.name());
                }
            }
            if (mtu + VxlanHeader.IPV4_OVERHEAD > underlayMtu) {
                throw new IllegalArgumentException("mtu " + mtu + " + 50 bytes of VXLAN encapsulation exceeds the underlay MTU "
                        + underlayMtu + "; use at most " + (underlayMtu - VxlanHeader.IPV4_OVERHEAD));
            }
            for (String peer : spec.peers()) {
                InetAddress address = parsePeer(peer);
                if (address.equals(vxlan.local())) {
                    throw new IllegalArgumentException("a peer cannot be the local address " + peer);
                }
                if (peers.contains(address)) {
                    throw new IllegalArgumentException("duplicate peer " + peer);
                }
                peers.add(address);
            }
        } else if (!spec.peers().isEmpty()) {
            throw new IllegalArgumentException("peers need a vni: only an overlay network has remote VTEPs");
        }
        // Offloads pass 64 KB frames through to the TAPs that have them unchanged; towards a
        // VXLAN peer (or a TAP without them) they are segmented in software, once.
        boolean offload = spec.offload() == null || spec.offload();
        NetworkSettings settings;
        try {
            settings = new NetworkSettings(spec.name(), mtu,
                    Duration.ofSeconds(spec.macAgingSeconds() == 0 ? 300 : spec.macAgingSeconds()),
                    spec.macLimit() == 0 ? NetworkSettings.DEFAULT_MAC_LIMIT : spec.macLimit(), offload);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        for (NetworkSpec.PortSpec p : spec.ports()) {
            checkNewPortName(p.name());
        }
        for (NetworkSpec.StaticEntry s : spec.statics()) {
            MacAddress.parse(s.mac());
        }

        BridgeDomain domain = new BridgeDomain(nextDomainId++, settings, dataplane.lanes());
        Network network = new Network(domain, spec.vni(), peers, spec.persist(), offload);
        networks.put(spec.name(), network);
        dataplane.addDomain(domain);
        try {
            if (spec.vni() != 0) {
                vxlan.addNetwork(domain, spec.vni());
                for (InetAddress peer : peers) {
                    vxlan.addPeer(spec.vni(), peer);
                }
            }
            for (NetworkSpec.PortSpec p : spec.ports()) {
                attachTap(network, p.name(), p.persist() || spec.persist(), p.offload());
            }
            for (NetworkSpec.StaticEntry s : spec.statics()) {
                putStatic(network, MacAddress.parse(s.mac()), s.port());
            }
        } catch (RuntimeException e) {
            dropNetwork(network, false);
            throw e;
        }
        LOG.info("network {} added: mtu {}{}, {} ports, mac-aging {}s, mac-limit {}{}", spec.name(), mtu,
                spec.vni() != 0 ? ", vni " + spec.vni() + ", peers " + spec.peers() : "", spec.ports().size(),
                settings.macAging().toSeconds(), settings.macLimit(), spec.persist() ? ", persistent" : "");
        if (save) {
            saveState();
        }
    }

    private int underlayOrDefault() {
        return underlayMtu > 0 ? underlayMtu : 1500;
    }

    private static InetAddress parsePeer(String peer) {
        if (peer == null || !peer.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new IllegalArgumentException("peer must be an IPv4 address such as 198.19.0.2, got \"" + peer + "\"");
        }
        try {
            return InetAddress.ofLiteral(peer);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("peer must be an IPv4 address such as 198.19.0.2, got \"" + peer + "\"");
        }
    }

    private void checkNewPortName(String name) {
        if (name == null || !ConfigReader.DEVICE_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("port name must be a device name of 1-15 characters [A-Za-z0-9_.-], got \"" + name + "\"");
        }
        for (Network n : networks.values()) {
            if (n.domain.port(name) != null) {
                throw new IllegalStateException("port " + name + " already belongs to network " + n.domain.name());
            }
        }
    }

    public synchronized void removeNetwork(String name) {
        Network network = require(name);
        dropNetwork(network, true);
        LOG.info("network {} removed", name);
        saveState();
    }

    private void dropNetwork(Network network, boolean removeDevices) {
        for (Port p : network.domain.ports()) {
            if (p instanceof TapPort tap) {
                detachTap(network, tap, removeDevices);
            }
        }
        if (network.vni != 0 && vxlan != null) {
            vxlan.removeNetwork(network.vni);
        }
        dataplane.removeDomain(network.domain);
        networks.remove(network.domain.name());
    }

    public synchronized void addPort(String net, String port, boolean persist) {
        addPort(net, port, persist, null);
    }

    /** {@code offload} false adds a port without offloads to an offload network; null follows the network. */
    public synchronized void addPort(String net, String port, boolean persist, Boolean offload) {
        Network network = require(net);
        checkNewPortName(port);
        if (Boolean.TRUE.equals(offload) && !network.offload) {
            throw new IllegalArgumentException("network " + net + " has offloads off; a port cannot turn them on alone");
        }
        attachTap(network, port, persist || network.persist, offload);
        saveState();
    }

    public synchronized void removePort(String net, String port) {
        Network network = require(net);
        Port p = network.domain.port(port);
        if (!(p instanceof TapPort tap)) {
            throw new NoSuchElementException(p == null ? "network " + net + " has no port \"" + port + "\""
                    : "port " + port + " is a tunnel: change the network's peers instead");
        }
        detachTap(network, tap, true);
        network.statics.values().removeIf(port::equals);
        LOG.info("port {} removed from network {}", port, net);
        saveState();
    }

    /** Adds or replaces a static entry. */
    public synchronized void addStatic(String net, String mac, String port) {
        Network network = require(net);
        long address = parseMac(mac);
        if (!MacAddress.isValidSource(address)) {
            throw new IllegalArgumentException("a static entry needs a unicast, non-zero MAC, got " + mac);
        }
        putStatic(network, address, port);
        saveState();
    }

    private void putStatic(Network network, long mac, String port) {
        Port p = network.domain.port(port);
        if (p == null) {
            throw new NoSuchElementException("network " + network.domain.name() + " has no port \"" + port + "\"");
        }
        network.domain.table().putStatic(mac, p.id(), p.generation());
        network.statics.put(mac, port);
    }

    /** Removes one MAC (dynamic or static); returns whether it was there. */
    public synchronized boolean removeMac(String net, String mac) {
        Network network = require(net);
        long address = parseMac(mac);
        boolean removed = network.domain.table().remove(address);
        if (network.statics.remove(address) != null) {
            saveState();
        }
        if (!removed) {
            throw new NoSuchElementException("network " + net + " has no entry for " + MacAddress.toString(address));
        }
        return true;
    }

    /** Flushes dynamic entries, of one port or all; returns how many. */
    public synchronized int flush(String net, String port) {
        Network network = require(net);
        if (port == null) {
            return network.domain.table().flush();
        }
        Port p = network.domain.port(port);
        if (p == null) {
            throw new NoSuchElementException("network " + net + " has no port \"" + port + "\"");
        }
        int id = p.id();
        return network.domain.table().removeIf((mac, v) -> !MacTable.isStatic(v) && MacTable.portId(v) == id);
    }

    private static long parseMac(String mac) {
        if (mac == null) {
            throw new IllegalArgumentException("a MAC address is required");
        }
        return MacAddress.parse(mac);
    }

    private Network require(String name) {
        Network n = networks.get(name);
        if (n == null) {
            throw new NoSuchElementException("no network named \"" + name + "\"");
        }
        return n;
    }

    private void attachTap(Network network, String name, boolean persist, Boolean offloadOverride) {
        boolean offload = network.offload && !Boolean.FALSE.equals(offloadOverride);
        TapPort port;
        try {
            port = openTap(name, network.domain.mtu(), persist, offload);
        } catch (NativeCallException e) {
            throw new IllegalStateException("cannot open port " + name + ": " + e.getMessage(), e);
        }
        try {
            dataplane.attach(network.domain, port);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            port.close();
            throw new IllegalStateException("interrupted while attaching " + name);
        }
        network.tapPersist.put(name, persist);
        if (offload != network.offload) {
            network.tapOffload.put(name, offload);
        }
        String where = port.device().namespace() != null ? "re-attached in " + port.device().namespace()
                : port.device().created() ? "created" : "existing device";
        LOG.info("port {} up in network {} ({}, {}{}{})", name, network.domain.name(),
                port.queueCount() == 1 ? "lane " + port.lane().index() : port.queueCount() + " queues, one per loop", where,
                persist ? ", persistent" : "", offload ? ", offloads on" : network.offload ? ", offloads off (segmented in software)" : "");
    }

    private TapPort openTap(String name, int mtu, boolean persist, boolean offload) throws NativeCallException {
        TapOptions options = dataplane.tapOptions(offload);
        int count = dataplane.queuesPerPort(options);
        if (persist) {
            List<TapDevice> queues = TapDevice.openQueues(name, options, count, true);
            if (!queues.isEmpty()) {
                try {
                    TapDevice first = queues.get(0);
                    if (first.namespace() == null) {
                        first.setMtu(mtu);
                        first.setUp(true);
                    }
                    if (offload) {
                        for (TapDevice q : queues) {
                            q.enableOffloads();
                        }
                    }
                    first.setPersistent(true);
                } catch (NativeCallException e) {
                    queues.forEach(TapDevice::close);
                    throw e;
                }
                return dataplane.adopt(queues);
            }
        }
        TapPort port = dataplane.openTap(name, mtu, options);
        try {
            if (offload) {
                for (int i = 0; i < port.queueCount(); i++) {
                    port.queueDevice(i).enableOffloads();
                }
            }
            if (persist) {
                port.device().setPersistent(true);
            }
        } catch (NativeCallException e) {
            port.close();
            throw e;
        }
        return port;
    }

    private void detachTap(Network network, TapPort tap, boolean removeDevice) {
        if (removeDevice && Boolean.TRUE.equals(network.tapPersist.get(tap.name())) && !tap.hasFailed()) {
            try {
                tap.device().setPersistent(false);
            } catch (NativeCallException e) {
                LOG.warn("port {}: cannot clear persistence, the device stays: {}", tap.name(), e.getMessage());
            }
        }
        dataplane.detach(tap);
        network.tapPersist.remove(tap.name());
        network.tapOffload.remove(tap.name());
    }

    // ---- state ------------------------------------------------------------------------------

    /** What a restart must rebuild. */
    public synchronized List<NetworkSpec> specs() {
        List<NetworkSpec> specs = new ArrayList<>();
        for (Network n : networks.values()) {
            List<NetworkSpec.PortSpec> ports = new ArrayList<>();
            n.tapPersist.forEach((name, persist) -> ports.add(new NetworkSpec.PortSpec(name, persist, n.tapOffload.get(name))));
            List<NetworkSpec.StaticEntry> statics = new ArrayList<>();
            n.statics.forEach((mac, port) -> statics.add(new NetworkSpec.StaticEntry(MacAddress.toString(mac), port)));
            specs.add(new NetworkSpec(n.domain.name(), n.domain.mtu(), n.domain.settings().macAging().toSeconds(),
                    n.domain.settings().macLimit(), n.vni, n.peers.stream().map(InetAddress::getHostAddress).toList(),
                    n.persist, n.offload, ports, statics));
        }
        return specs;
    }

    private void saveState() {
        if (state == null) {
            return;
        }
        try {
            state.write(specs());
        } catch (IOException e) {
            LOG.error("cannot write state file {}: {} (the running switch is unaffected)", state.path(), e.getMessage());
        }
    }

    /** Tunnel ports of an overlay network. */
    public synchronized List<TunnelPort> tunnels(String network) {
        Network n = networks.get(network);
        return n == null || vxlan == null || n.vni == 0 ? List.of() : vxlan.peers(n.vni);
    }

    @Override
    public void close() {
        if (vxlan != null) {
            vxlan.close();
        }
        dataplane.close();
    }
}
