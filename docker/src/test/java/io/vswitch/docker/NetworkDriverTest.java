package io.vswitch.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The remote driver protocol's shapes, as Docker 20.10 reads them, against a backend that records calls. */
class NetworkDriverTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Networks and endpoints in maps; refuses what it does not know, as the daemon's backend does. */
    static final class Recording implements DriverBackend {
        final List<String> calls = new ArrayList<>();
        final Map<String, NetworkRequest> networks = new HashMap<>();
        final Map<String, String> endpoints = new HashMap<>();

        @Override
        public void createNetwork(NetworkRequest r) throws DriverException {
            if (r.options().containsKey("vswitch.bogus")) {
                throw new DriverException("unknown driver option vswitch.bogus");
            }
            calls.add("createNetwork " + r.subnet4() + " " + r.gateway4() + " " + r.options() + " " + r.internal());
            networks.put(r.networkId(), r);
        }

        @Override
        public void deleteNetwork(String networkId) throws DriverException {
            known(networkId);
            networks.remove(networkId);
        }

        @Override
        public String createEndpoint(String networkId, String endpointId, String address4, String address6, String mac)
                throws DriverException {
            known(networkId);
            calls.add("createEndpoint " + address4 + " " + address6 + " " + mac);
            endpoints.put(endpointId, networkId);
            return mac != null ? mac : "02:00:00:00:00:01";
        }

        @Override
        public void deleteEndpoint(String networkId, String endpointId) throws DriverException {
            endpoint(networkId, endpointId);
            endpoints.remove(endpointId);
        }

        @Override
        public Map<String, String> endpointInfo(String networkId, String endpointId) throws DriverException {
            endpoint(networkId, endpointId);
            return Map.of("port", "vs12345678");
        }

        @Override
        public JoinInfo join(String networkId, String endpointId, String sandboxKey) throws DriverException {
            endpoint(networkId, endpointId);
            calls.add("join " + sandboxKey);
            return new JoinInfo("vs12345678", "198.18.72.1", null);
        }

        @Override
        public void leave(String networkId, String endpointId) throws DriverException {
            endpoint(networkId, endpointId);
        }

        private void known(String networkId) throws DriverException {
            if (!networks.containsKey(networkId)) {
                throw new DriverException("no network " + networkId);
            }
        }

        private void endpoint(String networkId, String endpointId) throws DriverException {
            known(networkId);
            if (!networkId.equals(endpoints.get(endpointId))) {
                throw new DriverException("no endpoint " + endpointId);
            }
        }
    }

    private final Recording backend = new Recording();
    private final NetworkDriver driver = new NetworkDriver(backend);

    private JsonNode call(String path, String body, int status) throws Exception {
        NetworkDriver.Reply r = driver.handle("POST", path, body);
        assertEquals(status, r.status(), path + " -> " + r.body());
        return JSON.readTree(r.body());
    }

    private JsonNode ok(String path, String body) throws Exception {
        JsonNode reply = call(path, body, 200);
        assertTrue(reply.isObject() && !reply.has("Err"), path + " -> " + reply);
        return reply;
    }

    @Test
    void activationAndCapabilitiesSayANetworkDriverOfLocalScope() throws Exception {
        assertEquals("NetworkDriver", ok("/Plugin.Activate", "").path("Implements").path(0).asText());
        JsonNode caps = ok("/NetworkDriver.GetCapabilities", null);
        assertEquals("local", caps.path("Scope").asText());
        assertEquals("local", caps.path("ConnectivityScope").asText());
    }

    @Test
    void aContainersWholeLifeAsDockerDrivesIt() throws Exception {
        ok("/NetworkDriver.CreateNetwork", """
                {"NetworkID":"n1","Options":{"com.docker.network.enable_ipv6":false,"com.docker.network.generic":
                {"vswitch.gateway":"true","com.docker.network.driver.mtu":"1400"}},
                "IPv4Data":[{"AddressSpace":"LocalDefault","Gateway":"198.18.72.1/24","Pool":"198.18.72.0/24"}],"IPv6Data":[]}""");
        assertEquals("createNetwork 198.18.72.0/24 198.18.72.1 {vswitch.gateway=true, com.docker.network.driver.mtu=1400} false",
                backend.calls.get(0), "the gateway without its prefix, the generic options as given");

        JsonNode created = ok("/NetworkDriver.CreateEndpoint", """
                {"NetworkID":"n1","EndpointID":"e1","Interface":{"Address":"198.18.72.2/24","AddressIPv6":"","MacAddress":""},
                "Options":{"com.docker.network.endpoint.exposedports":[]}}""");
        assertEquals("createEndpoint 198.18.72.2/24 null null", backend.calls.get(1));
        assertFalse(created.path("Interface").has("Address"), "never the address back: Docker would roll back");
        assertEquals("02:00:00:00:00:01", created.path("Interface").path("MacAddress").asText(), "a MAC Docker did not give");

        ok("/NetworkDriver.CreateEndpoint", """
                {"NetworkID":"n1","EndpointID":"e2","Interface":{"Address":"198.18.72.3/24","MacAddress":"02:42:c6:12:48:03"}}""");
        assertEquals(0, ok("/NetworkDriver.CreateEndpoint", """
                {"NetworkID":"n1","EndpointID":"e3","Interface":{"Address":"198.18.72.4/24","MacAddress":"02:42:c6:12:48:04"}}""")
                .path("Interface").size(), "nothing Docker gave comes back");

        assertEquals("vs12345678", ok("/NetworkDriver.EndpointOperInfo", "{\"NetworkID\":\"n1\",\"EndpointID\":\"e1\"}")
                .path("Value").path("port").asText());
        JsonNode join = ok("/NetworkDriver.Join", "{\"NetworkID\":\"n1\",\"EndpointID\":\"e1\",\"SandboxKey\":\"/var/run/docker/netns/abc\",\"Options\":{}}");
        assertEquals("vs12345678", join.path("InterfaceName").path("SrcName").asText());
        assertEquals("eth", join.path("InterfaceName").path("DstPrefix").asText());
        assertEquals("198.18.72.1", join.path("Gateway").asText());
        assertTrue(join.path("DisableGatewayService").asBoolean(), "no docker_gwbridge");
        assertFalse(join.has("GatewayIPv6"));

        for (String path : List.of("/NetworkDriver.DiscoverNew", "/NetworkDriver.DiscoverDelete",
                "/NetworkDriver.ProgramExternalConnectivity", "/NetworkDriver.RevokeExternalConnectivity")) {
            ok(path, "{\"NetworkID\":\"n1\",\"EndpointID\":\"e1\",\"DiscoveryType\":1,\"DiscoveryData\":{}}");
        }
        ok("/NetworkDriver.Leave", "{\"NetworkID\":\"n1\",\"EndpointID\":\"e1\"}");
        ok("/NetworkDriver.DeleteEndpoint", "{\"NetworkID\":\"n1\",\"EndpointID\":\"e1\"}");
        ok("/NetworkDriver.DeleteNetwork", "{\"NetworkID\":\"n1\"}");
        assertTrue(backend.networks.isEmpty());
    }

    @Test
    void refusalsAreErrWithAReasonAndChangeNothing() throws Exception {
        assertTrue(call("/NetworkDriver.CreateEndpoint", "{\"NetworkID\":\"nope\",\"EndpointID\":\"e\",\"Interface\":{}}", 500)
                .path("Err").asText().contains("no network nope"));
        assertTrue(call("/NetworkDriver.Join", "{\"NetworkID\":\"nope\",\"EndpointID\":\"e\",\"SandboxKey\":\"/x\"}", 500)
                .path("Err").asText().contains("no network"));
        assertTrue(call("/NetworkDriver.EndpointOperInfo", "{\"NetworkID\":\"nope\",\"EndpointID\":\"e\"}", 500)
                .path("Err").asText().contains("no network"));
        assertTrue(call("/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"n9\",\"Options\":{\"com.docker.network.generic\":"
                + "{\"vswitch.bogus\":\"1\"}},\"IPv4Data\":[{\"Pool\":\"198.18.73.0/24\"}]}", 500)
                .path("Err").asText().contains("vswitch.bogus"));
        assertTrue(backend.networks.isEmpty(), "nothing made");
        assertTrue(call("/NetworkDriver.Join", "{\"NetworkID\":\"n1\"}", 500).path("Err").asText().contains("EndpointID is required"));
        assertTrue(call("/NetworkDriver.CreateNetwork", "not json", 400).path("Err").asText().startsWith("invalid JSON"));
        assertTrue(call("/NetworkDriver.CreateNetwork", "[1]", 400).path("Err").asText().contains("expected an object"));
        assertTrue(call("/NetworkDriver.Nope", "{}", 404).path("Err").asText().contains("no such call"));
        assertEquals(405, driver.handle("GET", "/Plugin.Activate", "").status());
        assertTrue(backend.calls.isEmpty(), "the backend was asked nothing it could act on: " + backend.calls);
    }
}
