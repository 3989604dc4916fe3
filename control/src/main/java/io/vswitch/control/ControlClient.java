package io.vswitch.control;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JavaType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The control API's client: typed calls over HTTP/1.1 on the daemon's unix socket (the JDK's
 * HttpClient does not speak unix sockets), one request per connection with
 * {@code Connection: close}. A refusal comes back as a {@link ControlException} with the
 * daemon's reason; a daemon that cannot be reached as an {@link IOException}. Inside the daemon
 * the same calls go straight to its API ({@link Transport}), for the CNI verbs it runs itself.
 */
public final class ControlClient {
    /** A raw response: status and body. */
    public record Response(int status, String body) {
        public boolean ok() {
            return status >= 200 && status < 300;
        }

        /** The error message of a failed call, or the whole body. */
        public String error() {
            try {
                Views.Error e = Json.LENIENT.readValue(body, Views.Error.class);
                return e.error() != null ? e.error() : body;
            } catch (IOException e) {
                return body;
            }
        }
    }

    /** How a request reaches the daemon: its unix socket, or its API in the same process. */
    @FunctionalInterface
    public interface Transport {
        Response exchange(String method, String path, String body) throws IOException;
    }

    private final Path socket;
    private final Transport transport;

    public ControlClient(Path socket) {
        this.socket = socket;
        this.transport = this::overSocket;
    }

    /** A client whose requests go through {@code transport}; {@code socket} only names the daemon. */
    public ControlClient(Path socket, Transport transport) {
        this.socket = socket;
        this.transport = transport;
    }

    public Path socket() {
        return socket;
    }

    // ---- typed calls ------------------------------------------------------------------------

    public Views.Info info() throws IOException, ControlException {
        return call("GET", "/v1/info", null, Views.Info.class);
    }

    public Views.Show show() throws IOException, ControlException {
        return call("GET", "/v1/show", null, Views.Show.class);
    }

    /** Starts a capture writing pcap to {@code request.output()}. */
    public Views.Capture capture(String network, Requests.Capture request) throws IOException, ControlException {
        return call("POST", "/v1/networks/" + enc(network) + "/capture", request, Views.Capture.class);
    }

    public List<Views.Capture> captures() throws IOException, ControlException {
        return call("GET", "/v1/captures", null, new TypeReference<List<Views.Capture>>() { });
    }

    public void stopCapture(long id) throws IOException, ControlException {
        call("DELETE", "/v1/captures/" + id, null, Views.Removed.class);
    }

    /** Replaces a network's mirrors. */
    public Views.Network setMirrors(String network, List<MirrorSpec> mirrors) throws IOException, ControlException {
        return call("PUT", "/v1/networks/" + enc(network) + "/mirrors", new Requests.Mirrors(mirrors), Views.Network.class);
    }

    /** The cluster this daemon is in: hosts, their VTEPs and leases, networks. */
    public Views.Cluster cluster() throws IOException, ControlException {
        return call("GET", "/v1/cluster", null, Views.Cluster.class);
    }

    public Views.Stats stats() throws IOException, ControlException {
        return call("GET", "/v1/stats", null, Views.Stats.class);
    }

    public Views.Network network(String network) throws IOException, ControlException {
        return call("GET", "/v1/networks/" + enc(network), null, Views.Network.class);
    }

    public List<Views.Network> networks() throws IOException, ControlException {
        return call("GET", "/v1/networks", null, new TypeReference<List<Views.Network>>() { });
    }

    public Views.Network addNetwork(NetworkSpec spec) throws IOException, ControlException {
        return call("POST", "/v1/networks", spec, Views.Network.class);
    }

    public Views.Removed removeNetwork(String network) throws IOException, ControlException {
        return call("DELETE", "/v1/networks/" + enc(network), null, Views.Removed.class);
    }

    public Views.Network setPeers(String network, List<String> peers) throws IOException, ControlException {
        return call("PUT", "/v1/networks/" + enc(network) + "/peers", new Requests.Peers(peers), Views.Network.class);
    }

    public Views.Port addPort(String network, PortSpec port) throws IOException, ControlException {
        return call("POST", "/v1/networks/" + enc(network) + "/ports", port, Views.Port.class);
    }

    public Views.Removed removePort(String network, String port) throws IOException, ControlException {
        return call("DELETE", "/v1/networks/" + enc(network) + "/ports/" + enc(port), null, Views.Removed.class);
    }

    public Views.Endpoint attach(String network, Requests.Attach request) throws IOException, ControlException {
        return call("POST", "/v1/networks/" + enc(network) + "/endpoints", request, Views.Endpoint.class);
    }

    public Views.Endpoint detach(String network, Requests.Detach request) throws IOException, ControlException {
        return call("POST", "/v1/networks/" + enc(network) + "/endpoints/detach", request, Views.Endpoint.class);
    }

    public List<Views.Endpoint> endpoints(String network) throws IOException, ControlException {
        return call("GET", "/v1/networks/" + enc(network) + "/endpoints", null, new TypeReference<List<Views.Endpoint>>() { });
    }

    /** Every endpoint of every network. */
    public List<Views.Endpoint> endpoints() throws IOException, ControlException {
        return call("GET", "/v1/endpoints", null, new TypeReference<List<Views.Endpoint>>() { });
    }

    public List<Views.FdbEntry> fdb(String network) throws IOException, ControlException {
        return call("GET", "/v1/networks/" + enc(network) + "/fdb", null, new TypeReference<List<Views.FdbEntry>>() { });
    }

    public Views.Added addStatic(String network, StaticEntry entry) throws IOException, ControlException {
        return call("POST", "/v1/networks/" + enc(network) + "/fdb", entry, Views.Added.class);
    }

    public Views.Removed removeMac(String network, String mac) throws IOException, ControlException {
        return call("DELETE", "/v1/networks/" + enc(network) + "/fdb/" + enc(mac), null, Views.Removed.class);
    }

    public Views.Flushed flush(String network, String port) throws IOException, ControlException {
        return call("POST", "/v1/networks/" + enc(network) + "/fdb/flush", new Requests.Flush(port), Views.Flushed.class);
    }

    public Views.Trace trace(String network, Requests.Trace request) throws IOException, ControlException {
        return call("POST", "/v1/networks/" + enc(network) + "/trace", request, Views.Trace.class);
    }

    // ---- transport --------------------------------------------------------------------------

    private <T> T call(String method, String path, Object body, Class<T> type) throws IOException, ControlException {
        return call(method, path, body, Json.LENIENT.constructType(type));
    }

    private <T> T call(String method, String path, Object body, TypeReference<T> type) throws IOException, ControlException {
        return call(method, path, body, Json.LENIENT.constructType(type));
    }

    private <T> T call(String method, String path, Object body, JavaType type) throws IOException, ControlException {
        Response r = exchange(method, path, body == null ? null : Json.LENIENT.writeValueAsString(body));
        if (!r.ok()) {
            throw new ControlException(r.status(), r.error());
        }
        try {
            return Json.LENIENT.readValue(r.body(), type);
        } catch (IOException e) {
            throw new IOException("bad response from vswitchd to " + method + " " + path + ": " + e.getMessage(), e);
        }
    }

    /** One request with a raw body, as sent; the response as received. */
    public Response exchange(String method, String path, String body) throws IOException {
        return transport.exchange(method, path, body);
    }

    private Response overSocket(String method, String path, String body) throws IOException {
        byte[] payload = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            String head = method + " " + path + " HTTP/1.1\r\nHost: vswitchd\r\nConnection: close\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + payload.length + "\r\n\r\n";
            ByteBuffer out = ByteBuffer.allocate(head.length() + payload.length);
            out.put(head.getBytes(StandardCharsets.US_ASCII)).put(payload).flip();
            while (out.hasRemaining()) {
                ch.write(out);
            }
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(64 * 1024);
            while (ch.read(in) >= 0) {
                in.flip();
                received.write(in.array(), 0, in.limit());
                in.clear();
            }
            String text = received.toString(StandardCharsets.UTF_8);
            int split = text.indexOf("\r\n\r\n");
            if (!text.startsWith("HTTP/1.1 ") || split < 0) {
                throw new IOException("not an HTTP response from " + socket);
            }
            int status = Integer.parseInt(text.substring(9, 12));
            return new Response(status, text.substring(split + 4));
        }
    }

    /** Who answers on {@code socket}: "pid N", or null when nobody does (absent or stale). */
    public static String holderOf(Path socket) {
        if (!Files.exists(socket)) {
            return null;
        }
        try {
            return "pid " + new ControlClient(socket).info().pid();
        } catch (IOException | ControlException | RuntimeException e) {
            return null;
        }
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
