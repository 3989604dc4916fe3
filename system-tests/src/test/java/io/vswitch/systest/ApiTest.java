package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The control API against slow and hostile clients, on the real daemon: a CNI call whose IPAM
 * plugin (a real executable in CNI_PATH, run by the daemon as host-local would be) hangs holds
 * up no other call and, refused at its deadline, leaves nothing behind; pipelined requests are
 * never executed behind the first; slowloris connections are closed; a flood of connections
 * costs the daemon no more than its cap of file descriptors and never keeps the operator out.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern STATUS = Pattern.compile("HTTP/1\\.1 (\\d{3}) ");
    private static final int CAP = 64;

    private Netns netns;
    private String sw;
    private Path work;
    private Path socket;
    private Vswitchd daemon;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        sw = netns.create("apisw");
        work = Files.createTempDirectory("vswitch-api");
        Path config = Vswitchd.writeConfig("""
                dataplane: {threads: 1, pin: false}
                metrics: {listen: off}
                networks:
                  - name: apps
                    subnet: 198.18.67.0/24
                  - name: cnet
                """);
        socket = work.resolve("vswitchd.sock");
        daemon = Vswitchd.start(sw, config, socket, Map.of("VSWITCHD_JAVA_OPTS", "-Dvswitch.api.callMillis=10000"
                + " -Dvswitch.api.headerMillis=2000 -Dvswitch.api.bodyMillis=2000 -Dvswitch.api.maxConnections=" + CAP));
    }

    @AfterAll
    void stop() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        if (netns != null) {
            netns.close();
        }
        if (work != null) {
            try (Stream<Path> files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void await(String what, int seconds, java.util.function.BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what + " within " + seconds + " s");
            Thread.sleep(20);
        }
    }

    private SocketChannel connect() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        return ch;
    }

    private static void send(SocketChannel ch, String text) throws IOException {
        ByteBuffer out = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) {
            ch.write(out);
        }
    }

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
        return received.toString(StandardCharsets.UTF_8);
    }

    private static List<Integer> statuses(String text) {
        List<Integer> list = new ArrayList<>();
        Matcher m = STATUS.matcher(text);
        while (m.find()) {
            list.add(Integer.parseInt(m.group(1)));
        }
        return list;
    }

    private long daemonFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + daemon.pid() + "/fd"))) {
            return fds.count();
        }
    }

    private String[] names(JsonNode networks) {
        List<String> names = new ArrayList<>();
        networks.forEach(n -> names.add(n.path("name").asText()));
        return names.toArray(String[]::new);
    }

    @Test
    void aHangingIpamPluginHoldsUpNoOtherCallAndItsRefusedCallLeavesNothingBehind() throws Exception {
        String container = netns.create("hang");
        String other = netns.create("fine");
        Path cniDir = Files.createDirectories(work.resolve("cni"));
        Path plugin = cniDir.resolve("hang-ipam");
        Files.writeString(plugin, """
                #!/bin/sh
                cat >/dev/null
                case "$CNI_COMMAND" in
                  ADD) echo $$ > %1$s/add.pid; sleep 3600 ;;
                  DEL) echo del >> %1$s/del.log ;;
                  VERSION) printf '{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]}\\n' ;;
                esac
                """.formatted(cniDir));
        plugin.toFile().setExecutable(true);
        String tapsBefore = netns.must(10, sw, "ip", "-o", "link", "show", "type", "tun");

        ProcessBuilder pb = new ProcessBuilder("ip", "netns", "exec", sw, Vswitchd.ROOT.resolve("bin/vswitch-cni").toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().putAll(Map.of("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "hung", "CNI_NETNS", "/var/run/netns/" + container,
                "CNI_IFNAME", "eth0", "CNI_PATH", cniDir + ":" + Vswitchd.ROOT.resolve("bin")));
        Process add = pb.start();
        add.getOutputStream().write(("{\"cniVersion\":\"1.0.0\",\"name\":\"cnet\",\"type\":\"vswitch-cni\",\"socket\":\"" + socket
                + "\",\"ipam\":{\"type\":\"hang-ipam\"}}").getBytes(StandardCharsets.UTF_8));
        add.getOutputStream().close();
        CompletableFuture<String> answer = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(add.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Path pidFile = cniDir.resolve("add.pid");
        await("the IPAM plugin runs", 10, () -> Files.exists(pidFile));
        long ipamPid = Long.parseLong(Files.readString(pidFile).trim());

        // While it hangs (its process still there after each answer): reads answer, other changes are made.
        Path hanging = Path.of("/proc/" + ipamPid);
        for (int i = 0; i < 3; i++) {
            assertEquals(0, daemon.ctl("show").code(), "show answers while the IPAM plugin hangs");
            assertTrue(Files.exists(hanging) && !answer.isDone(), "answered while the plugin hung");
        }
        assertEquals(0, daemon.ctl("endpoints").code());
        Sh.Result attached = daemon.ctl("attach", "apps", "--netns", "/var/run/netns/" + other, "--name", "fine");
        assertEquals(0, attached.code(), "an attach goes through meanwhile: " + attached);
        assertTrue(Files.exists(hanging) && !answer.isDone(), "attached while the plugin hung");

        JsonNode refused = JSON.readTree(answer.get(30, TimeUnit.SECONDS));
        assertTrue(add.waitFor(10, TimeUnit.SECONDS));
        assertEquals(1, add.exitValue());
        assertEquals(11, refused.path("code").asInt(), refused.toString());
        assertTrue(refused.path("msg").asText().contains("did not finish ADD within 10 s"), refused.toString());

        await("the hanging plugin was stopped", 10, () -> !Files.exists(Path.of("/proc/" + ipamPid)));
        await("its allocation was given back (DEL)", 15, () -> Files.exists(cniDir.resolve("del.log")));
        JsonNode endpoints = daemon.json("endpoints");
        for (JsonNode e : endpoints) {
            assertFalse(e.path("id").asText().startsWith("hung/"), "no endpoint of the refused call: " + endpoints);
        }
        assertEquals(1, endpoints.size(), "only the other attach's: " + endpoints);
        assertEquals(1, netns.must(10, container, "ip", "-o", "link").lines().count(), "no interface in the container");
        assertTrue(netns.must(10, container, "ip", "-o", "addr").lines().allMatch(l -> l.contains(" lo ")),
                "no address in the container");
        String tapsAfter = netns.must(10, sw, "ip", "-o", "link", "show", "type", "tun");
        assertEquals(tapsBefore.lines().count(), tapsAfter.lines().count(), "no TAP of the refused call in the switch");
        assertEquals(0, daemon.ctl("detach", "apps", "--name", "fine").code());
    }

    @Test
    void pipelinedRequestsAreNeverExecutedBehindTheFirst() throws Exception {
        String body1 = "{\"name\":\"pipe1\"}";
        String body2 = "{\"name\":\"pipe2\"}";
        try (SocketChannel ch = connect()) {
            send(ch, "POST /v1/networks HTTP/1.1\r\nHost: x\r\nContent-Length: " + body1.length() + "\r\n\r\n" + body1
                    + "POST /v1/networks HTTP/1.1\r\nHost: x\r\nContent-Length: " + body2.length() + "\r\n\r\n" + body2
                    + "DELETE /v1/networks/apps HTTP/1.1\r\nHost: x\r\n\r\n");
            String answer = readAll(ch);
            List<Integer> statuses = statuses(answer);
            assertEquals(201, statuses.getFirst(), answer);
            assertTrue(statuses.subList(1, statuses.size()).stream().allMatch(s -> s == 503), "the rest refused: " + answer);
        }
        List<String> networks = List.of(names(daemon.json("network", "list")));
        assertTrue(networks.contains("pipe1"), networks.toString());
        assertFalse(networks.contains("pipe2"), "the second request was not executed: " + networks);
        assertTrue(networks.contains("apps"), "nor the third: " + networks);
        assertEquals(0, daemon.ctl("network", "del", "pipe1").code());
    }

    @Test
    void slowlorisConnectionsAreClosedAndTheOperatorIsServedMeanwhile() throws Exception {
        List<SocketChannel> slow = new ArrayList<>();
        List<StringBuilder> got = new ArrayList<>();
        try {
            for (int i = 0; i < 3 * CAP; i++) {
                SocketChannel ch = connect();
                send(ch, "POST /v1/networks HTTP/1.1\r\n");
                ch.configureBlocking(false);
                slow.add(ch);
                got.add(new StringBuilder());
            }
            assertEquals(0, daemon.ctl("show").code(), "the operator is served while they trickle");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            int open = slow.size();
            ByteBuffer in = ByteBuffer.allocate(4096);
            boolean[] closed = new boolean[slow.size()];
            while (open > 0) {
                assertTrue(System.nanoTime() < deadline, open + " slowloris connections still open after 30 s");
                for (int i = 0; i < slow.size(); i++) {
                    if (closed[i]) {
                        continue;
                    }
                    SocketChannel ch = slow.get(i);
                    try {
                        send(ch, "X"); // a byte of a header now and then: never idle, never done
                    } catch (IOException closedByTheDaemon) {
                        // what it answered before closing is still to be read
                    }
                    try {
                        in.clear();
                        int n = ch.read(in);
                        if (n > 0) {
                            got.get(i).append(new String(in.array(), 0, n, StandardCharsets.UTF_8));
                        }
                        if (n < 0) {
                            closed[i] = true;
                            open--;
                        }
                    } catch (IOException e) {
                        closed[i] = true;
                        open--;
                    }
                }
                Thread.sleep(100);
            }
            int timedOut = 0;
            for (StringBuilder answer : got) {
                List<Integer> s = statuses(answer.toString());
                assertTrue(s.isEmpty() || s.equals(List.of(408)) || s.equals(List.of(503)), answer.toString());
                timedOut += s.equals(List.of(408)) ? 1 : 0;
            }
            assertTrue(timedOut > 0, "the ones within the cap were closed by the header deadline (408)");
            assertEquals(0, daemon.ctl("show").code());
        } finally {
            for (SocketChannel ch : slow) {
                ch.close();
            }
        }
    }

    @Test
    void aFloodOfConnectionsCostsNoMoreThanTheCapAndNeverKeepsTheOperatorOut() throws Exception {
        long before = daemonFds();
        List<SocketChannel> flood = new ArrayList<>();
        try {
            for (int i = 0; i < 2000; i++) {
                flood.add(connect());
            }
            Sh.Result show = daemon.ctl("show");
            assertEquals(0, show.code(), "the operator gets in: " + show);
            long during = daemonFds();
            System.out.printf("daemon fds: %d before, %d with 2000 connections held by a client (cap %d)%n", before, during,
                    CAP);
            assertTrue(during <= before + CAP + 16, "fds " + during + " with the cap at " + CAP + " over " + before);
            String evicted = readAll(flood.getFirst()); // returns once the daemon closed it
            assertTrue(statuses(evicted).equals(List.of(503)) || evicted.isEmpty(),
                    "the oldest was closed to make room (503), or at its header deadline: " + evicted);
        } finally {
            for (SocketChannel ch : flood) {
                ch.close();
            }
        }
        assertEquals(0, daemon.ctl("show").code());
        assertTrue(daemon.isAlive());
    }
}
