package io.vswitch.daemon;

import io.vswitch.control.Deadline;
import io.vswitch.control.NetworkSpec;
import io.vswitch.control.Requests;
import io.vswitch.docker.DriverBackend;
import io.vswitch.docker.DriverException;

import java.util.Map;
import java.util.Set;

/**
 * The Docker driver's calls on the registry. A Docker network is a vswitch network named
 * {@code dk-} and the first 12 hex digits of its NetworkID, with the subnet and gateway Docker's
 * IPAM chose (the switch takes addresses from Docker, it does not choose them), and the driver
 * options {@code -o vswitch.vni=N}, {@code vswitch.gateway=true} (a gateway port holds Docker's
 * gateway address), {@code vswitch.masquerade=true}, {@code vswitch.icc=false},
 * {@code vswitch.dns=true} (the switch answers DNS on the gateway: what Docker's embedded DNS
 * forwards to with {@code docker run --dns GATEWAY}), {@code com.docker.network.driver.mtu=N}. Each Docker endpoint is an endpoint of the network,
 * its TAP made at CreateEndpoint and handed to Docker, which moves and configures it.
 */
final class DockerBackend implements DriverBackend {
    /** How long one of Docker's calls may take, from when it starts (-Dvswitch.docker.callSeconds). */
    static final java.time.Duration BUDGET = java.time.Duration.ofSeconds(Integer.getInteger("vswitch.docker.callSeconds", 30));

    private static final Set<String> OPTIONS = Set.of("vswitch.vni", "vswitch.gateway", "vswitch.masquerade", "vswitch.icc",
            "vswitch.dns", "com.docker.network.driver.mtu");

    private final Daemon daemon;

    DockerBackend(Daemon daemon) {
        this.daemon = daemon;
    }

    /** The vswitch network of a Docker network. */
    static String name(String networkId) {
        return "dk-" + networkId.substring(0, Math.min(12, networkId.length())).toLowerCase();
    }

    @Override
    public void createNetwork(NetworkRequest r) throws DriverException {
        Map<String, String> o = r.options();
        for (String key : o.keySet()) {
            if (key.startsWith("vswitch.") && !OPTIONS.contains(key)) {
                throw new DriverException("unknown driver option " + key + "; vswitch takes " + OPTIONS);
            }
        }
        try {
            Integer vni = o.containsKey("vswitch.vni") ? Integer.valueOf(o.get("vswitch.vni")) : null;
            Integer mtu = o.containsKey("com.docker.network.driver.mtu") ? Integer.valueOf(o.get("com.docker.network.driver.mtu")) : null;
            boolean gateway = bool(o, "vswitch.gateway", false);
            boolean masquerade = bool(o, "vswitch.masquerade", false);
            if (masquerade && r.internal()) {
                throw new DriverException("an internal network has no way out: vswitch.masquerade cannot be true");
            }
            NetworkSpec spec = new NetworkSpec(name(r.networkId()), mtu, null, null, vni, null, null, null, null, null,
                    r.subnet4(), r.gateway4(), r.subnet6(), r.gateway6(), gateway ? true : null, masquerade ? true : null,
                    bool(o, "vswitch.icc", true) ? null : false, null, bool(o, "vswitch.dns", false) ? true : null);
            daemon.addNetwork(spec, Deadline.in(BUDGET));
        } catch (NumberFormatException e) {
            throw new DriverException("driver option is not a number: " + e.getMessage());
        } catch (SpecException e) {
            throw new DriverException(e.field() + ": " + e.getMessage());
        } catch (PortFactory.OpenException | Daemon.PersistException | Daemon.UnavailableException | Deadline.Exceeded e) {
            throw new DriverException(e.getMessage());
        }
    }

    private static boolean bool(Map<String, String> o, String key, boolean fallback) throws DriverException {
        String v = o.get(key);
        if (v == null) {
            return fallback;
        }
        if (!v.equals("true") && !v.equals("false")) {
            throw new DriverException(key + " must be true or false, got \"" + v + "\"");
        }
        return Boolean.parseBoolean(v);
    }

    @Override
    public void deleteNetwork(String networkId) throws DriverException {
        String name = name(networkId);
        if (!daemon.hasNetwork(name)) {
            throw new DriverException("no network " + networkId);
        }
        try {
            daemon.removeNetwork(name, Deadline.in(BUDGET));
        } catch (SpecException | PortFactory.OpenException | Daemon.PersistException | Daemon.UnavailableException
                | Deadline.Exceeded e) {
            throw new DriverException(e.getMessage());
        }
    }

    @Override
    public String createEndpoint(String networkId, String endpointId, String address4, String address6, String mac)
            throws DriverException {
        try {
            return daemon.createEndpoint(network(networkId), endpointId, address4, address6, mac, "docker",
                    Deadline.in(BUDGET)).spec().mac();
        } catch (SpecException | PortFactory.OpenException | Daemon.PersistException | Deadline.Exceeded e) {
            throw new DriverException(e.getMessage());
        }
    }

    @Override
    public void deleteEndpoint(String networkId, String endpointId) throws DriverException {
        try {
            daemon.detach(network(networkId), new Requests.Detach(endpointId, null, null, null), Deadline.in(BUDGET));
        } catch (SpecException | PortFactory.OpenException | Daemon.PersistException | Deadline.Exceeded e) {
            throw new DriverException(e.getMessage());
        }
    }

    @Override
    public java.util.Map<String, String> endpointInfo(String networkId, String endpointId) throws DriverException {
        String net = network(networkId);
        for (Attachments.Endpoint e : daemon.endpoints(net)) {
            if (e.spec().id().equals(endpointId)) {
                java.util.Map<String, String> info = new java.util.LinkedHashMap<>();
                info.put("port", e.spec().port());
                info.put("mac", e.spec().mac());
                if (e.spec().ipv4() != null) {
                    info.put("ipv4", e.spec().ipv4());
                }
                if (e.spec().ipv6() != null) {
                    info.put("ipv6", e.spec().ipv6());
                }
                return info;
            }
        }
        throw new DriverException("network " + networkId + " has no endpoint " + endpointId);
    }

    @Override
    public JoinInfo join(String networkId, String endpointId, String sandboxKey) throws DriverException {
        String net = network(networkId);
        try {
            Attachments.Endpoint e = daemon.endpointMoved(net, endpointId, sandboxKey, Deadline.in(BUDGET));
            boolean gateway = daemon.hasGatewayPort(net);
            return new JoinInfo(e.spec().port(), gateway ? e.spec().gateway() : null, gateway ? e.spec().gateway6() : null);
        } catch (SpecException | PortFactory.OpenException | Daemon.PersistException | Deadline.Exceeded e) {
            throw new DriverException(e.getMessage());
        }
    }

    @Override
    public void leave(String networkId, String endpointId) throws DriverException {
        try {
            daemon.endpointMoved(network(networkId), endpointId, null, Deadline.in(BUDGET));
        } catch (SpecException | PortFactory.OpenException | Daemon.PersistException | Deadline.Exceeded e) {
            throw new DriverException(e.getMessage());
        }
    }

    private String network(String networkId) throws DriverException {
        String name = name(networkId);
        if (!daemon.hasNetwork(name)) {
            throw new DriverException("no network " + networkId + " (vswitch network " + name + ")");
        }
        return name;
    }
}
