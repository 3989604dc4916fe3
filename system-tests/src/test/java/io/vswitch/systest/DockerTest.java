package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real Docker Engine (Debian's docker.io, started as shared/recipes/docker.md says, inside a
 * namespace of the test) uses vswitch as its network driver: {@code docker network create -d},
 * two {@code docker run --network}, names answered by Docker's embedded DNS, the gateway port,
 * and {@code docker rm -f} / {@code docker network rm} leaving nothing behind. The driver is
 * served under a name of this run's own ({@code vstestPID}), so an installed vswitch driver on
 * the host is never touched. Skipped, with the reason printed, where dockerd cannot start.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DockerTest {
    private static final String DRIVER = "vstest" + ProcessHandle.current().pid();
    private Netns netns;
    private String sw;
    private Path work;
    private Path socket;
    private Path pluginSocket;
    private Vswitchd daemon;
    private Process dockerd;
    private Path dockerdBinary;
    private List<String> docker;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        Path dockerdBin = Files.isExecutable(Path.of("/usr/sbin/dockerd")) ? Path.of("/usr/sbin/dockerd") : Path.of("/usr/bin/dockerd");
        String missing = !Files.isExecutable(dockerdBin) ? "dockerd"
                : !Files.isExecutable(Path.of("/usr/bin/docker")) ? "/usr/bin/docker"
                : !Files.isExecutable(Path.of("/bin/busybox")) ? "/bin/busybox" : null;
        skipIf(missing != null, missing + " is not installed (scripts/install-packages.sh installs docker.io and busybox-static)");
        netns = new Netns();
        sw = netns.create("docksw");
        work = Files.createTempDirectory("vswitch-docker");
        socket = work.resolve("vswitchd.sock");
        Files.createDirectories(Path.of("/run/docker/plugins"));
        pluginSocket = Path.of("/run/docker/plugins/" + DRIVER + ".sock");
        daemon = Vswitchd.start(sw, Vswitchd.writeConfig("""
                dataplane: {threads: 2, pin: false}
                metrics: {listen: off}
                docker: {plugin-socket: %s}
                """.formatted(pluginSocket)), socket);
        assertTrue(Files.exists(pluginSocket), "the driver's socket is served");

        dockerdBinary = dockerdBin;
        dockerd = dockerd(sw, work);
        docker = List.of("/usr/bin/docker", "-H", "unix://" + work.resolve("docker.sock"));
        if (!ready(docker, dockerd)) {
            String log = Files.exists(work.resolve("dockerd.log")) ? Files.readString(work.resolve("dockerd.log")) : "";
            String tail = log.lines().skip(Math.max(0, log.lines().count() - 8)).reduce("", (a, b) -> a + "\n  " + b);
            skipIf(true, "dockerd cannot start here:" + tail);
        }
        Path rootfs = Files.createDirectories(work.resolve("rootfs"));
        Sh.must(30, "sh", "-c", "cd " + rootfs + " && mkdir -p bin etc tmp proc sys dev && cp /bin/busybox bin/ && "
                + "for a in $(bin/busybox --list); do [ $a = busybox ] || ln -sf busybox bin/$a; done && tar -C "
                + rootfs + " -cf " + work.resolve("bb.tar") + " .");
        must("import", "-c", "ENV PATH=/bin", "-c", "CMD [\"/bin/sh\"]", work.resolve("bb.tar").toString(), "bb:latest");
    }

    /** A private dockerd in {@code ns}, everything of it under {@code dir}, as shared/recipes/docker.md starts it. */
    private Process dockerd(String ns, Path dir) throws Exception {
        return new ProcessBuilder("nsenter", "--net=/run/netns/" + ns, dockerdBinary.toString(),
                "--storage-driver=vfs", "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--bridge=none",
                "--userland-proxy=false", "--exec-opt", "native.cgroupdriver=cgroupfs",
                "--data-root", dir.resolve("data").toString(), "--exec-root", dir.resolve("exec").toString(),
                "--pidfile", dir.resolve("dockerd.pid").toString(), "-H", "unix://" + dir.resolve("docker.sock"))
                .redirectErrorStream(true).redirectOutput(dir.resolve("dockerd.log").toFile()).start();
    }

    private static boolean ready(List<String> client, Process dockerd) throws Exception {
        List<String> version = new ArrayList<>(client);
        version.add("version");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Sh.run(30, version).ok() && dockerd.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        return Sh.run(30, version).ok();
    }

    private static void stopDockerd(Process dockerd) throws InterruptedException {
        // dockerd is the child of nsenter, which exec'd it: the same PID.
        dockerd.destroy();
        if (!dockerd.waitFor(20, TimeUnit.SECONDS)) {
            dockerd.destroyForcibly();
            dockerd.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private void skipIf(boolean condition, String reason) {
        if (condition) {
            System.out.println("DockerTest skipped: " + reason);
            assumeTrue(false, reason);
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (docker != null && dockerd != null && dockerd.isAlive()) {
            String all = run("ps", "-aq").out().trim();
            if (!all.isEmpty()) {
                List<String> rm = new ArrayList<>(List.of("rm", "-f"));
                rm.addAll(List.of(all.split("\\s+")));
                run(rm.toArray(String[]::new));
            }
            run("network", "prune", "-f");
        }
        if (dockerd != null) {
            stopDockerd(dockerd);
        }
        if (daemon != null) {
            daemon.close();
        }
        if (work != null) {
            Sh.run(30, "rm", "-rf", work.toString());
        }
        if (netns != null) {
            netns.close();
        }
    }

    private Sh.Result run(String... args) {
        List<String> command = new ArrayList<>(docker);
        command.addAll(List.of(args));
        return Sh.run(120, command);
    }

    private String must(String... args) {
        Sh.Result r = run(args);
        assertEquals(0, r.code(), "docker " + String.join(" ", args) + ": " + r);
        return r.out().trim();
    }

    private String driverCall(String method, String body) {
        return Sh.must(10, "curl", "-s", "--max-time", "5", "--unix-socket", pluginSocket.toString(),
                "-X", "POST", "-d", body, "http://plugin/" + method);
    }

    @Test
    @Order(1)
    void twoContainersOnAVswitchNetworkPingEachOtherByNameAndTheGatewayThenLeaveNothing() throws Exception {
        must("network", "create", "-d", DRIVER, "--subnet", "198.18.72.0/24", "--gateway", "198.18.72.1",
                "-o", "vswitch.gateway=true", "n1");
        JsonNode networks = daemon.json("network", "list");
        assertEquals(1, networks.size(), networks.toString());
        String network = networks.get(0).path("name").asText();
        assertTrue(network.startsWith("dk-"), network);

        for (String name : List.of("alpha", "beta")) {
            must("run", "-d", "--name", name, "--network", "n1", "--dns", "198.18.72.1", "bb", "sleep", "600");
        }
        JsonNode endpoints = daemon.json("endpoints", network);
        assertEquals(2, endpoints.size());
        for (JsonNode e : endpoints) {
            assertEquals("eth0", e.path("ifname").asText(), "the name Docker gave it in its container: " + e);
        }
        String bIp = must("inspect", "-f", "{{.NetworkSettings.Networks.n1.IPAddress}}", "beta");
        assertTrue(bIp.startsWith("198.18.72."), bIp);
        assertTrue(run("exec", "alpha", "ping", "-c", "2", "-W", "2", bIp).ok(), "alpha pings beta by address");
        Sh.Result byName = run("exec", "alpha", "ping", "-c", "2", "-W", "2", "beta");
        assertTrue(byName.ok(), "alpha pings beta by name (Docker's embedded DNS): " + byName);
        assertTrue(run("exec", "beta", "ping", "-c", "2", "-W", "2", "alpha").ok(), "beta pings alpha by name");
        assertTrue(run("exec", "alpha", "ping", "-c", "2", "-W", "2", "198.18.72.1").ok(), "alpha reaches the gateway");
        String link = must("exec", "alpha", "ip", "link", "show", "eth0");
        assertTrue(link.contains("mtu 1500"), link);
        // Docker moved the TAP itself: the switch gives it noqueue there, as to the TAPs it places.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!must("exec", "alpha", "ip", "link", "show", "eth0").contains("qdisc noqueue") && System.nanoTime() < deadline) {
            daemon.ctl("show");
            Thread.sleep(200);
        }
        assertTrue(must("exec", "alpha", "ip", "link", "show", "eth0").contains("qdisc noqueue"));

        must("rm", "-f", "alpha", "beta");
        assertEquals(0, daemon.json("endpoints", network).size(), "no endpoint left");
        assertTrue(netns.taps(sw).stream().noneMatch(t -> t.startsWith("vs") && !t.startsWith("vs-")), "no TAP: " + netns.taps(sw));
        must("network", "rm", "n1");
        assertEquals(0, daemon.json("network", "list").size(), "the network is gone with Docker's");
        assertTrue(netns.taps(sw).isEmpty(), "its gateway port too: " + netns.taps(sw));
    }

    @Test
    @Order(2)
    void driverCallsForUnknownNetworksOrEndpointsGetAnErrAndChangeNothing() throws Exception {
        String before = daemon.json("network", "list").toString();
        String unknown = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        for (String[] call : new String[][] {
                {"NetworkDriver.CreateEndpoint", "{\"NetworkID\":\"" + unknown + "\",\"EndpointID\":\"" + unknown + "\",\"Interface\":{}}"},
                {"NetworkDriver.Join", "{\"NetworkID\":\"" + unknown + "\",\"EndpointID\":\"" + unknown + "\",\"SandboxKey\":\"/x\"}"},
                {"NetworkDriver.EndpointOperInfo", "{\"NetworkID\":\"" + unknown + "\",\"EndpointID\":\"" + unknown + "\"}"},
                {"NetworkDriver.CreateNetwork", "{\"NetworkID\":\"bad\",\"Options\":{},\"IPv4Data\":[{\"Pool\":\"198.18.73.0/99\"}]}"},
                {"NetworkDriver.CreateNetwork", "not json"}}) {
            String reply = driverCall(call[0], call[1]);
            assertTrue(reply.contains("\"Err\"") && !reply.contains("\"Err\":\"\""), call[0] + " -> " + reply);
        }
        assertEquals(before, daemon.json("network", "list").toString(), "nothing changed");
        assertTrue(driverCall("NetworkDriver.GetCapabilities", "{}").contains("\"Scope\":\"local\""));
    }

    @Test
    @Order(3)
    void aDockerdInAnotherNamespaceIsToldAtNetworkCreateToShareTheSwitchsNamespace() throws Exception {
        String elsewhere = netns.create("dockother");
        Path dir = Files.createDirectories(work.resolve("other"));
        Process other = dockerd(elsewhere, dir);
        try {
            List<String> client = List.of("/usr/bin/docker", "-H", "unix://" + dir.resolve("docker.sock"));
            assertTrue(ready(client, other), "a second dockerd starts");
            List<String> create = new ArrayList<>(client);
            create.addAll(List.of("network", "create", "-d", DRIVER, "--subnet", "198.18.74.0/24", "n2"));
            Sh.Result r = Sh.run(60, create);
            assertEquals(1, r.code(), r.toString());
            System.out.println("DockerTest: docker network create from another namespace says: " + r.err().strip());
            assertTrue(r.err().contains("runs in network namespace") && r.err().contains("Run dockerd in vswitchd's namespace"),
                    "the reason and the fix, before any container fails to start: " + r);
            assertEquals(0, daemon.json("network", "list").size(), "nothing made");
        } finally {
            stopDockerd(other);
        }
        // The same from any other client in another namespace; deleting is never refused.
        String reply = netns.must(10, elsewhere, "curl", "-s", "--max-time", "5", "--unix-socket", pluginSocket.toString(),
                "-X", "POST", "-d", "{\"NetworkID\":\"ab\",\"Options\":{},\"IPv4Data\":[]}",
                "http://plugin/NetworkDriver.CreateNetwork");
        assertTrue(reply.contains("runs in network namespace"), reply);
        String delete = netns.must(10, elsewhere, "curl", "-s", "--max-time", "5", "--unix-socket", pluginSocket.toString(),
                "-X", "POST", "-d", "{\"NetworkID\":\"ab\"}", "http://plugin/NetworkDriver.DeleteNetwork");
        assertTrue(delete.contains("\"Err\"") && !delete.contains("namespace"), "answered by the driver itself: " + delete);
    }
}
