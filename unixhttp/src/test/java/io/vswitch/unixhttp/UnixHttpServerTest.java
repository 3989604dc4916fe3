package io.vswitch.unixhttp;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server on a real unix socket against clients that misbehave: slow ones (slowloris), ones
 * that pipeline, ones that hold connections open, next to a slow call. fd-level, no root.
 */
class UnixHttpServerTest {
    private static final Pattern STATUS = Pattern.compile("HTTP/1\\.1 (\\d{3}) ");

    private Path dir;
    private Path socket;
    private UnixHttpServer server;
    private final List<String> handled = new CopyOnWriteArrayList<>();
    private final CountDownLatch slowGate = new CountDownLatch(1);
    private final CountDownLatch slowStarted = new CountDownLatch(1);

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("unixhttp-test-");
        socket = dir.resolve("api.sock");
    }

    private void start(int maxConnections, Duration header, Duration body) throws Exception {
        server = UnixHttpServer.start(socket, "rw-------", "test-api", new UnixHttpServer.Limits(maxConnections, header, body),
                request -> {
                    handled.add(request.method() + " " + request.path() + " " + request.body());
                    if (request.path().equals("/slow")) {
                        slowStarted.countDown();
                        try {
                            slowGate.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    long waitedNs = System.nanoTime() - request.receivedNs();
                    return new UnixHttpServer.Reply(200, ("{\"path\":\"" + request.path() + "\",\"waitedNs\":" + waitedNs + "}")
                            .getBytes(StandardCharsets.UTF_8), "application/json");
                });
    }

    @AfterEach
    void tearDown() throws IOException {
        slowGate.countDown();
        if (server != null) {
            server.close();
        }
        Files.deleteIfExists(socket);
        Files.deleteIfExists(dir);
    }

    private SocketChannel connect() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        return ch;
    }

    private static void send(SocketChannel ch, String text) throws IOException {
        ByteBuffer out = ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1));
        while (out.hasRemaining()) {
            ch.write(out);
        }
    }

    /** Everything the server sends until it closes the connection. */
    private static String readAll(SocketChannel ch) throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        ByteBuffer in = ByteBuffer.allocate(65536);
        try {
            while (ch.read(in) >= 0) {
                received.write(in.array(), 0, in.position());
                in.clear();
            }
        } catch (IOException reset) {
            received.write(in.array(), 0, in.position());
        }
        return received.toString(StandardCharsets.ISO_8859_1);
    }

    private static List<Integer> statuses(String text) {
        List<Integer> list = new ArrayList<>();
        Matcher m = STATUS.matcher(text);
        while (m.find()) {
            list.add(Integer.parseInt(m.group(1)));
        }
        return list;
    }

    private String call(String path) throws IOException {
        try (SocketChannel ch = connect()) {
            send(ch, "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
            return readAll(ch);
        }
    }

    private CompletableFuture<String> callAsync(String path) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return call(path);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    @Test
    void answersOneRequestAndClosesTheConnection() throws Exception {
        start(16, Duration.ofSeconds(5), Duration.ofSeconds(5));
        String answer = call("/v1/show?x=1");
        assertEquals(List.of(200), statuses(answer));
        assertTrue(answer.contains("Connection: close") || answer.contains("connection: close"), answer);
        assertTrue(answer.contains("{\"path\":\"/v1/show\""), "the query is not part of the path: " + answer);
    }

    @Test
    void aSlowCallHoldsUpNoOtherCall() throws Exception {
        start(16, Duration.ofSeconds(5), Duration.ofSeconds(5));
        CompletableFuture<String> slow = callAsync("/slow");
        assertTrue(slowStarted.await(10, TimeUnit.SECONDS));
        for (int i = 0; i < 20; i++) {
            assertEquals(List.of(200), statuses(call("/fast")), "answered while /slow runs");
        }
        assertTrue(!slow.isDone(), "the slow call is still running");
        slowGate.countDown();
        assertEquals(List.of(200), statuses(slow.get(10, TimeUnit.SECONDS)));
    }

    @Test
    void pipelinedRequestsAreNeverExecutedAndAreAnsweredInOrderAfterTheFirst() throws Exception {
        start(16, Duration.ofSeconds(5), Duration.ofSeconds(5));
        try (SocketChannel ch = connect()) {
            send(ch, "POST /one HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na"
                    + "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nb"
                    + "POST /three HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nc");
            String answer = readAll(ch);
            List<Integer> statuses = statuses(answer);
            assertEquals(200, statuses.getFirst(), answer);
            assertTrue(statuses.subList(1, statuses.size()).stream().allMatch(s -> s == 503), answer);
            assertTrue(statuses.size() == 1 || answer.contains("not executed"), answer);
        }
        assertEquals(List.of("POST /one a"), handled, "only the first request was executed");
    }

    @Test
    void headersThatTrickleInPastTheirDeadlineAre408AndClosed() throws Exception {
        start(16, Duration.ofMillis(300), Duration.ofSeconds(5));
        try (SocketChannel ch = connect()) {
            String request = "GET /v1/show HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(400) + "\r\n\r\n";
            ch.configureBlocking(false);
            StringBuilder got = new StringBuilder();
            ByteBuffer in = ByteBuffer.allocate(4096);
            int sent = 0;
            // One byte every 10 ms: a client that never goes idle, and is still not let through.
            while (sent < request.length()) {
                try {
                    send(ch, request.substring(sent, sent + 1));
                } catch (IOException closed) {
                    break;
                }
                sent++;
                int n = ch.read(in);
                if (n < 0) {
                    break;
                }
                Thread.sleep(10);
            }
            ch.configureBlocking(true);
            got.append(new String(in.array(), 0, in.position(), StandardCharsets.ISO_8859_1)).append(readAll(ch));
            assertTrue(sent < request.length(), "closed before the headers were all sent");
            assertEquals(List.of(408), statuses(got.toString()), got.toString());
            assertTrue(got.toString().contains("did not arrive within 300 ms"), got.toString());
        }
        assertTrue(handled.isEmpty(), "nothing reached the handler: " + handled);
    }

    @Test
    void aConnectionThatSaysNothingIsClosedWithoutAnAnswer() throws Exception {
        start(16, Duration.ofMillis(300), Duration.ofSeconds(5));
        try (SocketChannel ch = connect()) {
            assertEquals("", readAll(ch), "closed at the header deadline, nothing to answer");
        }
    }

    @Test
    void aBodyThatDoesNotArriveInTimeIs408() throws Exception {
        start(16, Duration.ofSeconds(5), Duration.ofMillis(300));
        try (SocketChannel ch = connect()) {
            send(ch, "POST /v1/networks HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"na");
            String answer = readAll(ch);
            assertEquals(List.of(408), statuses(answer), answer);
            assertTrue(answer.contains("body did not arrive within 300 ms"), answer);
        }
        assertTrue(handled.isEmpty(), "nothing reached the handler: " + handled);
    }

    @Test
    void atTheCapTheConnectionWaitingLongestMakesRoomForANewOne() throws Exception {
        start(4, Duration.ofSeconds(30), Duration.ofSeconds(30));
        List<SocketChannel> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                SocketChannel ch = connect();
                send(ch, "GET /idle" + i + " HTTP/1.1\r\n"); // headers begun, never ended
                idle.add(ch);
            }
            assertEquals(List.of(200), statuses(call("/operator")), "the operator gets in at the cap");
            String oldest = readAll(idle.getFirst());
            assertEquals(List.of(503), statuses(oldest), oldest);
            assertTrue(oldest.contains("waited longest"), oldest);
            SocketChannel late = connect(); // the cap is full again
            send(late, "GET /late HTTP/1.1\r\n");
            idle.add(late);
            assertEquals(List.of(200), statuses(call("/operator")), "and again");
            String second = readAll(idle.get(1));
            assertEquals(List.of(503), statuses(second), "the next oldest made room the second time: " + second);
        } finally {
            for (SocketChannel ch : idle) {
                ch.close();
            }
        }
    }

    @Test
    void connectionsWhoseCallsRunAreNeverClosedForAnother() throws Exception {
        start(1, Duration.ofSeconds(30), Duration.ofSeconds(30));
        CompletableFuture<String> slow = callAsync("/slow");
        assertTrue(slowStarted.await(10, TimeUnit.SECONDS));
        String refused = call("/another");
        assertEquals(List.of(503), statuses(refused), refused);
        assertTrue(refused.contains("each with a request being handled"), refused);
        slowGate.countDown();
        assertEquals(List.of(200), statuses(slow.get(10, TimeUnit.SECONDS)), "the running call was answered");
        assertEquals(List.of(200), statuses(call("/after")), "and the room is there again");
    }

    @Test
    void malformedAndOversizedRequestsAreAnsweredAtOnce() throws Exception {
        start(16, Duration.ofSeconds(5), Duration.ofSeconds(5));
        try (SocketChannel ch = connect()) {
            send(ch, "POST /v1/networks HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n");
            assertEquals(List.of(413), statuses(readAll(ch)));
        }
        try (SocketChannel ch = connect()) {
            send(ch, "POST /v1/networks HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n{}");
            assertEquals(List.of(400), statuses(readAll(ch)));
        }
        assertTrue(handled.isEmpty(), handled.toString());
    }
}
