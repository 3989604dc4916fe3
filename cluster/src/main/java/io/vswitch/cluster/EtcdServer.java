package io.vswitch.cluster;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A single-member etcd of its own (Debian's {@code etcd-server}) for tests and benchmarks: its
 * own data directory, client and peer URLs on one address (loopback, or an address of a test's
 * namespace, with {@code netns} to run it there), stopped by PID and its directory removed on
 * {@link #close}. It can be stopped and started again on the same data ({@link #stop}, {@link #start}).
 */
public final class EtcdServer implements AutoCloseable {
    public static final Path BINARY = Path.of("/usr/bin/etcd");

    private final String netns;
    private final String address;
    private final int clientPort;
    private final int peerPort;
    private final Path dir;
    private Process process;

    private EtcdServer(String netns, String address, int clientPort, int peerPort, Path dir) {
        this.netns = netns;
        this.address = address;
        this.clientPort = clientPort;
        this.peerPort = peerPort;
        this.dir = dir;
    }

    public static boolean available() {
        return Files.isExecutable(BINARY);
    }

    /** Starts etcd on 127.0.0.1 with free ports. */
    public static EtcdServer loopback() throws IOException, InterruptedException {
        EtcdServer s = new EtcdServer(null, "127.0.0.1", freePort(), freePort(), Files.createTempDirectory("etcd-"));
        s.start();
        return s;
    }

    /** Starts etcd inside network namespace {@code netns} on {@code address} (ports 2379 and 2380). */
    public static EtcdServer in(String netns, String address) throws IOException, InterruptedException {
        EtcdServer s = new EtcdServer(netns, address, 2379, 2380, Files.createTempDirectory("etcd-"));
        s.start();
        return s;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public URI url() {
        return URI.create("http://" + address + ":" + clientPort);
    }

    /** Starts (again) on the same data; returns when it accepts connections. */
    public synchronized void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            return;
        }
        String peer = "http://" + address + ":" + peerPort;
        List<String> cmd = new ArrayList<>();
        if (netns != null) {
            cmd.addAll(List.of("ip", "netns", "exec", netns));
        }
        cmd.addAll(List.of(BINARY.toString(), "--name", "vswitch-test", "--data-dir", dir.resolve("data").toString(),
                "--listen-client-urls", url().toString(), "--advertise-client-urls", url().toString(),
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "vswitch-test=" + peer, "--log-level", "error"));
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("etcd.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("etcd exited " + process.exitValue() + ": " + Files.readString(dir.resolve("etcd.log")));
            }
            if (netns != null ? probeIn() : probe()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IOException("etcd did not listen on " + url() + " in 20 s");
    }

    private boolean probe() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, clientPort), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private boolean probeIn() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ip", "netns", "exec", netns, "bash", "-c",
                "exec 3<>/dev/tcp/" + address + "/" + clientPort).redirectErrorStream(true).start();
        return p.waitFor(2, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    /** Stops etcd (SIGTERM, then SIGKILL), keeping its data. */
    public synchronized void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    public synchronized long pid() {
        return process == null ? -1 : process.pid();
    }

    @Override
    public void close() throws InterruptedException {
        stop();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp directory left behind
        }
    }
}
