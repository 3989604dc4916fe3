package io.vswitch.cni;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.control.ControlClient;
import io.vswitch.control.ControlException;
import io.vswitch.control.Deadline;
import io.vswitch.control.Requests;
import io.vswitch.control.Views;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * {@code bin/vswitch-cni}: a CNI plugin (SPEC.md, versions 1.0.0 and 1.1.0) that attaches a
 * container to a vswitch network through the daemon's control socket: ADD, DEL, CHECK, VERSION,
 * STATUS and GC.
 *
 * <p>Configuration keys of its own: {@code network} (the vswitch network; default: the
 * configuration's {@code name}), {@code socket} (default {@code /run/vswitch/vswitchd.sock}),
 * {@code mtu}, {@code mac}. Addresses come from the network's own subnet ({@code ipam} absent or
 * of type {@code vswitch}), or from a standard IPAM plugin ({@code ipam.type} host-local, static,
 * dhcp...) run as the spec says. Requested addresses and MAC come from {@code runtimeConfig}
 * ({@code ips}, {@code mac} capabilities), else {@code args.cni}, else CNI_ARGS ({@code IP=},
 * {@code MAC=}); {@code K8S_POD_NAME} in CNI_ARGS is the name the container is known by (podman
 * passes its container name there), and the {@code aliases} capability (podman's network aliases,
 * {@code runtimeConfig.aliases[NAME]}) are other names it answers to on a network with DNS on;
 * the result then names the gateway as the container's nameserver. An
 * attachment is the endpoint {@code CNI_CONTAINERID/CNI_IFNAME} of the daemon, so DEL is
 * idempotent and GC finds the ones a runtime no longer knows.
 *
 * <p>Results and errors are the spec's JSON on stdout, errors with their well-known codes.
 */
public final class VswitchCni {
    static final List<String> SUPPORTED = CniConfig.SUPPORTED;
    /** How long a call of the plugin run on its own may take, IPAM plugins included. */
    static final Duration STANDALONE_BUDGET = Duration.ofSeconds(55);
    /** How long undoing an IPAM plugin's ADD (its DEL) may take, after the call failed. */
    static final Duration UNDO_BUDGET = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, String> env;
    private final byte[] stdin;
    private final PrintStream out;
    private final java.util.function.Function<Path, ControlClient> clients;
    private final Deadline deadline;
    private final Executor undo;
    private String version = "1.1.0";

    VswitchCni(Map<String, String> env, byte[] stdin, PrintStream out) {
        this(env, stdin, out, ControlClient::new, Deadline.in(STANDALONE_BUDGET), Runnable::run);
    }

    /**
     * One call of the plugin: the runtime's CNI_* variables, its configuration, where the result
     * goes, how the daemon named by the configuration's socket is reached ({@code clients}: over
     * that socket, or, inside the daemon, straight to its API), by when the call must be answered
     * ({@code deadline}: an IPAM plugin still running then is stopped), and where the undoing of
     * a failed call's IPAM allocation runs ({@code undo}: after the answer, inside the daemon).
     */
    public VswitchCni(Map<String, String> env, byte[] stdin, PrintStream out,
            java.util.function.Function<Path, ControlClient> clients, Deadline deadline, Executor undo) {
        this.env = env;
        this.stdin = stdin;
        this.out = out;
        this.clients = clients;
        this.deadline = deadline;
        this.undo = undo;
    }

    public static void main(String[] args) throws IOException {
        byte[] in = "VERSION".equals(System.getenv("CNI_COMMAND")) ? new byte[0] : System.in.readAllBytes();
        int code = new VswitchCni(System.getenv(), in, System.out).run();
        System.out.flush();
        System.exit(code);
    }

    /** Runs one verb; returns the exit code. */
    public int run() {
        String command = env.get("CNI_COMMAND");
        try {
            if (command == null || command.isEmpty()) {
                throw new CniException(CniException.INVALID_ENVIRONMENT, "CNI_COMMAND is not set");
            }
            switch (command) {
                case "VERSION" -> version();
                case "ADD" -> add(config());
                case "DEL" -> del(config());
                case "CHECK" -> check(config());
                case "STATUS" -> status(config());
                case "GC" -> gc(config());
                default -> throw new CniException(CniException.INVALID_ENVIRONMENT, "CNI_COMMAND \"" + command
                        + "\" is not one of ADD, DEL, CHECK, VERSION, STATUS, GC");
            }
            return 0;
        } catch (CniException e) {
            ObjectNode error = JSON.createObjectNode().put("cniVersion", version).put("code", e.code()).put("msg", e.getMessage());
            if (e.details() != null) {
                error.put("details", e.details());
            }
            print(error);
            return 1;
        }
    }

    private CniConfig config() throws CniException {
        return CniConfig.parse(stdin, cniArgs(), v -> version = v);
    }

    private Map<String, String> cniArgs() {
        return CniConfig.cniArgs(env);
    }

    private static List<String> strings(JsonNode array) {
        return CniConfig.strings(array);
    }

    private String require(String variable) throws CniException {
        String v = env.get(variable);
        if (v == null || v.isEmpty()) {
            throw new CniException(CniException.INVALID_ENVIRONMENT, variable + " is not set");
        }
        return v;
    }

    private String attachmentId() throws CniException {
        return require("CNI_CONTAINERID") + "/" + require("CNI_IFNAME");
    }

    // ---- verbs ------------------------------------------------------------------------------

    private void version() {
        ArrayNode versions = JSON.createArrayNode();
        SUPPORTED.forEach(versions::add);
        print(JSON.createObjectNode().put("cniVersion", version).set("supportedVersions", versions));
    }

    private void add(CniConfig c) throws CniException {
        String id = attachmentId();
        String netns = require("CNI_NETNS");
        String ifname = require("CNI_IFNAME");
        if (!Files.exists(Path.of(netns))) {
            throw new CniException(CniException.INVALID_ENVIRONMENT, "CNI_NETNS " + netns + " does not exist");
        }
        String ip4 = null;
        String ip6 = null;
        String gw4 = null;
        String gw6 = null;
        boolean noRoute = false;
        JsonNode ipamResult = null;
        IpamDelegate delegate = null;
        if (c.delegatedIpam()) {
            delegate = IpamDelegate.find(c.ipam().path("type").asText(), env);
            try {
                ipamResult = delegate.run("ADD", stdin, deadline);
            } catch (CniException e) {
                if (e.code() == CniException.TRY_AGAIN_LATER) {
                    undoIpam(delegate); // stopped at the deadline: what it may have allocated goes again
                }
                throw e;
            }
            if (ipamResult == null || !ipamResult.path("ips").isArray() || ipamResult.path("ips").isEmpty()) {
                undoIpam(delegate);
                throw new CniException(CniException.INVALID_CONFIG, "IPAM plugin returned no IP configuration");
            }
            for (JsonNode ip : ipamResult.path("ips")) {
                String address = ip.path("address").asText();
                if (address.contains(":") && ip6 == null) {
                    ip6 = address;
                    gw6 = ip.path("gateway").asText(null);
                } else if (!address.contains(":") && ip4 == null) {
                    ip4 = address;
                    gw4 = ip.path("gateway").asText(null);
                }
            }
            boolean hasDefault = false;
            for (JsonNode route : ipamResult.path("routes")) {
                String dst = route.path("dst").asText();
                hasDefault |= dst.equals("0.0.0.0/0") || dst.equals("::/0");
            }
            noRoute = !hasDefault;
        } else {
            for (String ip : c.ips()) {
                if (ip.contains(":") && ip6 == null) {
                    ip6 = ip;
                } else if (!ip.contains(":") && ip4 == null) {
                    ip4 = ip;
                }
            }
        }
        Views.Endpoint e;
        try {
            Requests.Attach request = new Requests.Attach(netns, null, id, cniArgs().get("K8S_POD_NAME"), ifname, ip4, ip6,
                    c.mac(), gw4, gw6, noRoute ? true : null, c.mtu(), "cni", c.aliases());
            e = call(c, client -> client.attach(c.network(), request));
        } catch (CniException ex) {
            if (delegate != null) {
                undoIpam(delegate);
            }
            throw ex;
        }
        print(result(c, e, ipamResult));
    }

    /**
     * Gives back what the IPAM plugin allocated for a call that failed: its DEL, with a budget of
     * its own, where {@code undo} runs it (after the answer, inside the daemon). Its own failure
     * is not the call's: the original error is the one reported.
     */
    private void undoIpam(IpamDelegate delegate) {
        undo.execute(() -> {
            try {
                delegate.run("DEL", stdin, Deadline.in(UNDO_BUDGET));
            } catch (CniException ignored) {
                // best effort; its stderr went to the log
            }
        });
    }

    /** The Success result: this plugin's interface, its addresses and routes, after what came before. */
    private ObjectNode result(CniConfig c, Views.Endpoint e, JsonNode ipamResult) {
        ObjectNode result = c.prevResult() != null && c.prevResult().isObject()
                ? ((ObjectNode) c.prevResult()).deepCopy() : JSON.createObjectNode();
        result.put("cniVersion", c.cniVersion());
        ArrayNode interfaces = result.withArray("interfaces");
        int index = interfaces.size();
        ObjectNode iface = interfaces.addObject().put("name", e.ifname()).put("mac", e.mac()).put("sandbox", e.netns());
        if (c.cniVersion().equals("1.1.0")) {
            iface.put("mtu", e.mtu());
        }
        ArrayNode ips = result.withArray("ips");
        ArrayNode routes = result.withArray("routes");
        if (e.ipv4() != null) {
            ObjectNode ip = ips.addObject().put("address", e.ipv4()).put("interface", index);
            if (e.gateway() != null) {
                ip.put("gateway", e.gateway());
            }
        }
        if (e.ipv6() != null) {
            ObjectNode ip = ips.addObject().put("address", e.ipv6()).put("interface", index);
            if (e.gateway6() != null) {
                ip.put("gateway", e.gateway6());
            }
        }
        if (ipamResult != null && ipamResult.path("routes").isArray()) {
            ipamResult.path("routes").forEach(r -> routes.add(r.deepCopy()));
        } else {
            if (e.ipv4() != null && e.gateway() != null) {
                routes.addObject().put("dst", "0.0.0.0/0").put("gw", e.gateway());
            }
            if (e.ipv6() != null && e.gateway6() != null) {
                routes.addObject().put("dst", "::/0").put("gw", e.gateway6());
            }
        }
        JsonNode dns = c.dns() != null ? c.dns() : ipamResult != null ? ipamResult.get("dns") : null;
        if (dns != null && dns.isObject()) {
            result.set("dns", dns.deepCopy());
        }
        if (e.nameservers() != null && (dns == null || !dns.has("nameservers"))) {
            // The network answers names on its gateway: the container's resolver asks there first.
            ArrayNode servers = ((ObjectNode) (result.get("dns") instanceof ObjectNode o ? o : result.putObject("dns")))
                    .putArray("nameservers");
            e.nameservers().forEach(servers::add);
        }
        return result;
    }

    private void del(CniConfig c) throws CniException {
        String id = attachmentId();
        try {
            call(c, client -> client.detach(c.network(), new Requests.Detach(id, null, null, null)));
        } catch (CniException e) {
            if (e.code() != CniException.UNKNOWN_CONTAINER) {
                throw e;
            }
            // Already gone (or never made): DEL succeeds, as often as it is asked.
        }
        if (c.delegatedIpam()) {
            IpamDelegate.find(c.ipam().path("type").asText(), env).run("DEL", stdin, deadline);
        }
    }

    private void check(CniConfig c) throws CniException {
        String id = attachmentId();
        if (c.prevResult() == null || !c.prevResult().isObject()) {
            throw new CniException(CniException.INVALID_CONFIG, "CHECK needs the prevResult of the ADD");
        }
        List<Views.Endpoint> endpoints = call(c, client -> client.endpoints(c.network()));
        Views.Endpoint e = endpoints.stream().filter(x -> x.id().equals(id)).findFirst().orElse(null);
        if (e == null) {
            throw new CniException(CniException.UNKNOWN_CONTAINER, "network " + c.network() + " has no attachment " + id);
        }
        boolean found = false;
        for (JsonNode iface : c.prevResult().path("interfaces")) {
            if (iface.path("name").asText().equals(e.ifname())) {
                found = true;
                if (iface.has("mac") && !iface.path("mac").asText().equalsIgnoreCase(e.mac())) {
                    throw new CniException(100, "interface " + e.ifname() + " has MAC " + e.mac() + ", the ADD said "
                            + iface.path("mac").asText());
                }
            }
        }
        if (!found) {
            throw new CniException(100, "the prevResult has no interface " + e.ifname());
        }
        Set<String> addresses = new HashSet<>();
        c.prevResult().path("ips").forEach(ip -> addresses.add(ip.path("address").asText()));
        for (String mine : new String[] {e.ipv4(), e.ipv6()}) {
            if (mine != null && !addresses.contains(mine)) {
                throw new CniException(100, "attachment " + id + " has address " + mine + ", which the prevResult lacks");
            }
        }
        if (c.delegatedIpam()) {
            IpamDelegate.find(c.ipam().path("type").asText(), env).run("CHECK", stdin, deadline);
        }
    }

    private void status(CniConfig c) throws CniException {
        try {
            List<Views.Network> networks = clients.apply(c.socket()).networks();
            if (networks.stream().noneMatch(n -> n.name().equals(c.network()))) {
                throw new CniException(CniException.NOT_AVAILABLE, "vswitchd has no network \"" + c.network() + "\"");
            }
        } catch (IOException e) {
            throw new CniException(CniException.NOT_AVAILABLE, "vswitchd is not running at " + c.socket() + ": " + e.getMessage());
        } catch (ControlException e) {
            throw new CniException(CniException.NOT_AVAILABLE, "vswitchd: " + e.getMessage());
        }
        if (c.delegatedIpam()) {
            IpamDelegate delegate = IpamDelegate.find(c.ipam().path("type").asText(), env);
            if (knowsVersion(delegate, "1.1.0")) {
                delegate.run("STATUS", stdin, deadline);
            }
        }
    }

    /** GC: every attachment of this network made by CNI that the runtime no longer lists goes. */
    private void gc(CniConfig c) throws CniException {
        JsonNode list = c.raw().has("cni.dev/valid-attachments") ? c.raw().get("cni.dev/valid-attachments")
                : c.raw().get("cni.dev/attachments");
        if (list != null && !list.isArray()) {
            throw new CniException(CniException.INVALID_CONFIG, "cni.dev/valid-attachments must be a list");
        }
        Set<String> valid = new HashSet<>();
        if (list != null) {
            list.forEach(a -> valid.add(a.path("containerID").asText() + "/" + a.path("ifname").asText()));
        }
        List<Views.Endpoint> endpoints = call(c, client -> client.endpoints(c.network()));
        List<String> failed = new ArrayList<>();
        for (Views.Endpoint e : endpoints) {
            if ("cni".equals(e.owner()) && !valid.contains(e.id())) {
                try {
                    call(c, client -> client.detach(c.network(), new Requests.Detach(e.id(), null, null, null)));
                } catch (CniException ex) {
                    failed.add(e.id() + ": " + ex.getMessage());
                }
            }
        }
        if (c.delegatedIpam()) {
            IpamDelegate delegate = IpamDelegate.find(c.ipam().path("type").asText(), env);
            if (knowsVersion(delegate, "1.1.0")) {
                delegate.run("GC", stdin, deadline);
            }
        }
        if (!failed.isEmpty()) {
            throw new CniException(CniException.IO_FAILURE, "some stale attachments could not be removed", String.join("; ", failed));
        }
    }

    /** Whether the delegate speaks {@code v} (a plugin older than 1.1.0 knows no STATUS and no GC). */
    private boolean knowsVersion(IpamDelegate delegate, String v) throws CniException {
        JsonNode answer = delegate.run("VERSION", ("{\"cniVersion\":\"" + v + "\"}").getBytes(StandardCharsets.UTF_8), deadline);
        return answer != null && strings(answer.path("supportedVersions")).contains(v);
    }

    // ---- the daemon -------------------------------------------------------------------------

    @FunctionalInterface
    private interface Call<T> {
        T run(ControlClient client) throws IOException, ControlException;
    }

    /** One call to the daemon; its refusals in the spec's codes. */
    private <T> T call(CniConfig c, Call<T> call) throws CniException {
        try {
            return call.run(clients.apply(c.socket()));
        } catch (IOException e) {
            throw new CniException(CniException.TRY_AGAIN_LATER, "vswitchd is not running at " + c.socket()
                    + " (" + e.getMessage() + ")");
        } catch (ControlException e) {
            int code = switch (e.status()) {
                case 404 -> e.getMessage().startsWith("no network named") ? CniException.INVALID_CONFIG
                        : CniException.UNKNOWN_CONTAINER;
                case 400, 409 -> e.getMessage().startsWith("netns") ? CniException.INVALID_ENVIRONMENT : CniException.INVALID_CONFIG;
                case 503 -> CniException.TRY_AGAIN_LATER;
                default -> CniException.IO_FAILURE;
            };
            throw new CniException(code, "vswitchd: " + e.getMessage());
        }
    }

    private void print(JsonNode node) {
        try {
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
        } catch (IOException e) {
            out.println("{\"code\":5,\"msg\":\"cannot write the result\"}");
        }
    }

    /** For tests: the JSON the plugin printed, as a map. */
    static Map<String, Object> parse(String text) throws IOException {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = JSON.readValue(text, LinkedHashMap.class);
        return m;
    }
}
