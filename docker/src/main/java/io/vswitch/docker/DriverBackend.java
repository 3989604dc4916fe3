package io.vswitch.docker;

import java.util.Map;

/**
 * What the driver asks of the switch. Every call either does all it says or refuses with a
 * {@link DriverException} and changes nothing.
 */
public interface DriverBackend {
    /**
     * A network Docker creates: its id, the pools Docker's IPAM chose ({@code subnet4} such as
     * 198.18.72.0/24 and {@code gateway4} a plain address; IPv6 the same, or null), the driver
     * options ({@code -o key=value}) and whether it is internal (no way out).
     */
    record NetworkRequest(String networkId, String subnet4, String gateway4, String subnet6, String gateway6,
            Map<String, String> options, boolean internal) {
    }

    /** The interface Docker moves into the container (its name here) and the gateways for its routes. */
    record JoinInfo(String srcName, String gateway4, String gateway6) {
    }

    void createNetwork(NetworkRequest request) throws DriverException;

    void deleteNetwork(String networkId) throws DriverException;

    /**
     * Makes the endpoint's interface with the address Docker's IPAM gave it (CIDR, or null) and
     * the MAC Docker asks for (or null); returns the MAC it has.
     */
    String createEndpoint(String networkId, String endpointId, String address4, String address6, String mac)
            throws DriverException;

    void deleteEndpoint(String networkId, String endpointId) throws DriverException;

    /** What {@code docker network inspect} may show of an endpoint (its port, MAC, addresses). */
    Map<String, String> endpointInfo(String networkId, String endpointId) throws DriverException;

    /** The container's sandbox ({@code SandboxKey}) takes the endpoint: what Docker needs to plumb it. */
    JoinInfo join(String networkId, String endpointId, String sandboxKey) throws DriverException;

    void leave(String networkId, String endpointId) throws DriverException;
}
