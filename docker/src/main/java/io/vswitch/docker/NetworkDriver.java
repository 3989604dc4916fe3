package io.vswitch.docker;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * libnetwork's remote network driver protocol (moby/libnetwork docs/remote.md and
 * drivers/remote/api/api.go), as Docker Engine 20.10 speaks it: every call an HTTP POST to
 * {@code /Plugin.Activate} or {@code /NetworkDriver.NAME} with a JSON body (empty for Activate
 * and GetCapabilities), every success a 200 with a JSON object (at least {@code {}}), every
 * refusal {@code {"Err": "..."}}.
 *
 * <p>What Docker does and the driver must not: Docker's IPAM picks the addresses, and Docker
 * moves the interface named by {@code SrcName} into the container, renames it eth0, sets its
 * address, MAC and routes. So CreateEndpoint only makes the interface (a TAP of the network) and
 * never answers with the Address Docker sent (Docker would roll the endpoint back: "driver
 * modified interface address"); Join names it and gives the gateway, with
 * {@code DisableGatewayService} so Docker adds no gateway bridge of its own. The device goes in
 * DeleteEndpoint, after Docker has moved it back, not in Leave. Container names never reach a
 * driver (moby/moby#52870): Docker's embedded DNS answers them.
 */
public final class NetworkDriver {
    private static final Logger LOG = LoggerFactory.getLogger(NetworkDriver.class);
    /** What libnetwork's plugin client expects of a reply's type (it does not check it, but says so). */
    public static final String CONTENT_TYPE = "application/vnd.docker.plugins.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** A reply: 200 with a body, or an error status with {"Err"}. */
    public record Reply(int status, String body) {
    }

    private final DriverBackend backend;

    public NetworkDriver(DriverBackend backend) {
        this.backend = backend;
    }

    /** Answers one call. */
    public Reply handle(String method, String path, String body) {
        if (!method.equals("POST")) {
            return error(405, "the plugin protocol is POST only");
        }
        JsonNode req;
        try {
            req = body == null || body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (IOException e) {
            return error(400, "invalid JSON: " + e.getMessage());
        }
        if (req == null || !req.isObject()) {
            return error(400, "invalid JSON: expected an object");
        }
        try {
            return switch (path) {
                case "/Plugin.Activate" -> ok(JSON.createObjectNode().set("Implements",
                        JSON.createArrayNode().add("NetworkDriver")));
                case "/NetworkDriver.GetCapabilities" -> ok(JSON.createObjectNode().put("Scope", "local")
                        .put("ConnectivityScope", "local"));
                case "/NetworkDriver.CreateNetwork" -> createNetwork(req);
                case "/NetworkDriver.DeleteNetwork" -> {
                    backend.deleteNetwork(text(req, "NetworkID"));
                    yield ok(JSON.createObjectNode());
                }
                case "/NetworkDriver.CreateEndpoint" -> createEndpoint(req);
                case "/NetworkDriver.EndpointOperInfo" -> {
                    ObjectNode value = JSON.createObjectNode();
                    backend.endpointInfo(text(req, "NetworkID"), text(req, "EndpointID")).forEach(value::put);
                    yield ok(JSON.createObjectNode().set("Value", value));
                }
                case "/NetworkDriver.DeleteEndpoint" -> {
                    backend.deleteEndpoint(text(req, "NetworkID"), text(req, "EndpointID"));
                    yield ok(JSON.createObjectNode());
                }
                case "/NetworkDriver.Join" -> join(req);
                case "/NetworkDriver.Leave" -> {
                    backend.leave(text(req, "NetworkID"), text(req, "EndpointID"));
                    yield ok(JSON.createObjectNode());
                }
                case "/NetworkDriver.DiscoverNew", "/NetworkDriver.DiscoverDelete",
                        "/NetworkDriver.ProgramExternalConnectivity", "/NetworkDriver.RevokeExternalConnectivity" ->
                        ok(JSON.createObjectNode());
                default -> error(404, "no such call: " + path);
            };
        } catch (DriverException e) {
            LOG.info("docker: {} refused: {}", path, e.getMessage());
            return error(500, e.getMessage());
        }
    }

    private Reply createNetwork(JsonNode req) throws DriverException {
        String id = text(req, "NetworkID");
        JsonNode options = req.path("Options");
        Map<String, String> generic = new LinkedHashMap<>();
        options.path("com.docker.network.generic").fields().forEachRemaining(e -> generic.put(e.getKey(), e.getValue().asText()));
        boolean internal = options.path("com.docker.network.internal").asBoolean(false);
        JsonNode v4 = req.path("IPv4Data").path(0);
        JsonNode v6 = req.path("IPv6Data").path(0);
        backend.createNetwork(new DriverBackend.NetworkRequest(id, v4.path("Pool").asText(null),
                plain(v4.path("Gateway").asText(null)), v6.path("Pool").asText(null), plain(v6.path("Gateway").asText(null)),
                generic, internal));
        return ok(JSON.createObjectNode());
    }

    private Reply createEndpoint(JsonNode req) throws DriverException {
        JsonNode iface = req.path("Interface");
        String address = blank(iface.path("Address").asText(null));
        String address6 = blank(iface.path("AddressIPv6").asText(null));
        String mac = blank(iface.path("MacAddress").asText(null));
        String chosen = backend.createEndpoint(text(req, "NetworkID"), text(req, "EndpointID"), address, address6, mac);
        ObjectNode answer = JSON.createObjectNode();
        ObjectNode out = answer.putObject("Interface");
        if (mac == null && chosen != null) {
            out.put("MacAddress", chosen); // only what Docker did not give
        }
        return ok(answer);
    }

    private Reply join(JsonNode req) throws DriverException {
        DriverBackend.JoinInfo info = backend.join(text(req, "NetworkID"), text(req, "EndpointID"), text(req, "SandboxKey"));
        ObjectNode answer = JSON.createObjectNode();
        answer.putObject("InterfaceName").put("SrcName", info.srcName()).put("DstPrefix", "eth");
        if (info.gateway4() != null) {
            answer.put("Gateway", info.gateway4());
        }
        if (info.gateway6() != null) {
            answer.put("GatewayIPv6", info.gateway6());
        }
        answer.put("DisableGatewayService", true);
        return ok(answer);
    }

    private static String text(JsonNode req, String field) throws DriverException {
        JsonNode v = req.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new DriverException(field + " is required");
        }
        return v.asText();
    }

    private static String blank(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /** A gateway without its prefix: "198.18.72.1/24" -> "198.18.72.1". */
    private static String plain(String cidr) {
        if (cidr == null || cidr.isBlank()) {
            return null;
        }
        int slash = cidr.indexOf('/');
        return slash < 0 ? cidr : cidr.substring(0, slash);
    }

    private static Reply ok(JsonNode body) {
        return new Reply(200, body.toString());
    }

    /** A call refused before the driver sees it ({@link CallerNamespace}), logged as the driver's refusals are. */
    static Reply refuse(String path, String why) {
        LOG.info("docker: {} refused: {}", path, why);
        return error(500, why);
    }

    private static Reply error(int status, String message) {
        return new Reply(status, JSON.createObjectNode().put("Err", message).toString());
    }

    /** The body as bytes, for the transport. */
    static byte[] bytes(Reply r) {
        return r.body().getBytes(StandardCharsets.UTF_8);
    }
}
