package io.vswitch.daemon.api;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A minimal HTTP/1.1 client for the control socket (the JDK's HttpClient does not speak unix
 * sockets): one request per connection, {@code Connection: close}, the body read to the end.
 */
public final class ControlClient {
    /** A response: status and body. */
    public record Response(int status, String body) {
        public boolean ok() {
            return status >= 200 && status < 300;
        }

        /** The error message of a failed call, or the whole body. */
        public String error() {
            try {
                JsonNode node = ControlApi.JSON.readTree(body);
                return node.hasNonNull("error") ? node.get("error").asText() : body;
            } catch (IOException e) {
                return body;
            }
        }
    }

    private final Path socket;

    public ControlClient(Path socket) {
        this.socket = socket;
    }

    public Response call(String method, String path, String body) throws IOException {
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
        return java.nio.file.Files.exists(socket) ? holder(socket) : null;
    }

    static String holder(Path socket) {
        try {
            Response r = new ControlClient(socket).call("GET", "/v1/info", null);
            JsonNode info = ControlApi.JSON.readTree(r.body());
            return "pid " + info.path("pid").asText("?");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
