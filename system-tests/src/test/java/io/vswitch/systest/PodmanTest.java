package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real runtime: Debian's podman over its CNI backend runs busybox containers on a vswitch
 * network (vswitch-cni, then Debian's portmap and tuning in the chain), which find each other by
 * container name and network alias through the switch's DNS. podman runs in a
 * namespace of the test (nsenter, as shared/recipes/podman-cni.md says), so the plugins' host
 * side (the daemon, iptables for the published port) is the test's, never the host's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PodmanTest {
    private Netns netns;
    private String sw;
    private Path work;
    private Path socket;
    private Vswitchd daemon;
    private List<String> podman;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        Sh.Result version = Sh.run(30, "podman", "--version");
        if (!version.ok() || !Files.isExecutable(Path.of("/usr/sbin/runc")) && !Files.isExecutable(Path.of("/usr/bin/runc"))) {
            System.out.println("PodmanTest skipped: podman or runc cannot run here: " + version);
            assumeTrue(false, "podman or runc cannot run here: " + version);
        }
        netns = new Netns();
        sw = netns.create("podsw");
        String wan = netns.createQuiet("pod-wan");
        Sh.must(10, "ip", "-n", sw, "link", "add", "up0", "type", "veth", "peer", "name", "wan0", "netns", wan);
        Sh.must(10, "ip", "-n", sw, "addr", "add", "198.19.71.1/24", "dev", "up0");
        Sh.must(10, "ip", "-n", sw, "link", "set", "up0", "up");
        Sh.must(10, "ip", "-n", wan, "addr", "add", "198.19.71.2/24", "dev", "wan0");
        Sh.must(10, "ip", "-n", wan, "link", "set", "wan0", "up");
        work = Files.createTempDirectory("vswitch-podman");
        socket = work.resolve("vswitchd.sock");
        daemon = Vswitchd.start(sw, Vswitchd.writeConfig("""
                dataplane: {threads: 2, pin: false}
                metrics: {listen: off}
                networks:
                  - name: pod
                    subnet: 198.18.71.0/24
                    gateway-port: true
                    masquerade: true
                    dns: true
                dns: {upstream: []}
                """), socket);
        Path cni = Files.createDirectories(work.resolve("cni"));
        Files.writeString(cni.resolve("vsnet.conflist"), """
                {"cniVersion": "1.0.0", "name": "vsnet", "plugins": [
                  {"type": "vswitch-cni", "network": "pod", "socket": "%s", "capabilities": {"aliases": true}},
                  {"type": "portmap", "capabilities": {"portMappings": true}},
                  {"type": "tuning"}]}
                """.formatted(socket));
        Files.writeString(work.resolve("containers.conf"), """
                [network]
                network_backend = "cni"
                cni_plugin_dirs = ["%s", "/usr/lib/cni"]
                network_config_dir = "%s"
                [engine]
                cgroup_manager = "cgroupfs"
                runtime = "runc"
                events_logger = "file"
                """.formatted(Vswitchd.ROOT.resolve("bin"), cni));
        podman = List.of("env", "CONTAINERS_CONF=" + work.resolve("containers.conf"), "nsenter", "--net=/run/netns/" + sw,
                "podman", "--root", work.resolve("root").toString(), "--runroot", work.resolve("runroot").toString(),
                "--storage-driver", "vfs", "--tmpdir", work.resolve("tmp").toString());
        Path rootfs = Files.createDirectories(work.resolve("rootfs"));
        Sh.must(30, "sh", "-c", "cd " + rootfs + " && mkdir -p bin etc tmp proc sys dev www && cp /bin/busybox bin/ && "
                + "for a in $(bin/busybox --list); do [ $a = busybox ] || ln -sf busybox bin/$a; done && echo hello > www/index.html");
        Sh.must(120, "sh", "-c", "tar -C " + rootfs + " -c . | " + String.join(" ", podman) + " import - localhost/bb:latest");
    }

    @AfterAll
    void stop() throws Exception {
        if (podman != null) {
            pod("rm", "-f", "-t", "0", "-a");
        }
        if (daemon != null) {
            daemon.close();
        }
        if (netns != null) {
            netns.close();
        }
    }

    private Sh.Result pod(String... args) {
        List<String> command = new ArrayList<>(podman);
        command.addAll(List.of(args));
        return Sh.run(120, command);
    }

    private String must(String... args) {
        Sh.Result r = pod(args);
        assertEquals(0, r.code(), "podman " + String.join(" ", args) + ": " + r);
        return r.out().trim();
    }

    @Test
    void twoContainersPingEachOtherReachTheGatewayAndTheWanPublishAPortAndLeaveNothingBehind() throws Exception {
        List<String> common = List.of("--network", "vsnet", "--cap-add", "NET_RAW", "--ulimit", "nofile=1024:1024",
                "--ulimit", "nproc=1024:1024");
        List<String> web = new ArrayList<>(List.of("run", "-d", "--name", "web", "-p", "18082:8080", "--network-alias", "www"));
        web.addAll(common);
        web.addAll(List.of("localhost/bb", "httpd", "-f", "-p", "8080", "-h", "/www"));
        must(web.toArray(String[]::new));
        List<String> client = new ArrayList<>(List.of("run", "-d", "--name", "client"));
        client.addAll(common);
        client.addAll(List.of("localhost/bb", "sleep", "600"));
        must(client.toArray(String[]::new));

        JsonNode endpoints = daemon.json("endpoints", "pod");
        assertEquals(2, endpoints.size(), endpoints.toString());
        String webIp = must("inspect", "-f", "{{.NetworkSettings.Networks.vsnet.IPAddress}}", "web");
        assertTrue(webIp.startsWith("198.18.71."), webIp);
        assertTrue(pod("exec", "client", "ping", "-c", "2", "-W", "2", webIp).ok(), "client pings web");
        // Names through the switch: podman wrote the result's nameserver (the gateway) first in resolv.conf.
        String resolv = must("exec", "client", "cat", "/etc/resolv.conf");
        assertTrue(resolv.lines().filter(l -> l.startsWith("nameserver")).findFirst().orElse("").contains("198.18.71.1"), resolv);
        Sh.Result byName = pod("exec", "client", "ping", "-c", "2", "-W", "2", "web");
        assertTrue(byName.ok() && byName.out().contains(webIp), "client pings web by its container name: " + byName);
        assertTrue(pod("exec", "client", "ping", "-c", "1", "-W", "2", "www").ok(), "and by its network alias");
        assertTrue(pod("exec", "web", "nslookup", "client", "198.18.71.1").out().contains("198.18.71."), "web finds client");
        assertTrue(pod("exec", "client", "ping", "-c", "2", "-W", "2", "198.18.71.1").ok(), "and the gateway");
        assertTrue(pod("exec", "client", "ping", "-c", "2", "-W", "2", "198.19.71.2").ok(), "and the wan, masqueraded");
        String page = netns.must(20, sw, "curl", "-s", "--max-time", "5", "http://198.18.71.1:18082/index.html").trim();
        assertEquals("hello", page, "the published port answers from the daemon's namespace");

        List<String> containerNamespaces = new ArrayList<>();
        endpoints.forEach(e -> containerNamespaces.add(e.path("netns").asText()));
        must("rm", "-f", "-t", "0", "web", "client");
        assertEquals(0, daemon.json("endpoints", "pod").size(), "no endpoint, no address held");
        assertTrue(netns.taps(sw).stream().noneMatch(t -> t.startsWith("vs") && !t.startsWith("vs-")), "no TAP: " + netns.taps(sw));
        for (String ns : containerNamespaces) {
            assertFalse(Files.exists(Path.of(ns)), "the container's namespace is gone: " + ns);
        }
        String nat = netns.must(10, sw, "iptables-save", "-t", "nat");
        assertFalse(nat.contains("18082"), "no port-forwarding rule left:\n" + nat);
        JsonNode again = daemon.json("network", "list");
        assertEquals(1, again.size());
    }
}
