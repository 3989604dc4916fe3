package io.vswitch.daemon;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A named namespace's resolv.conf, in a temporary /etc: written, left alone, removed. */
class NetnsResolvConfTest {
    @TempDir
    Path etc;

    private NetnsResolvConf files(String hostResolvConf) throws Exception {
        Path host = etc.resolve("resolv.conf");
        Files.writeString(host, hostResolvConf);
        return new NetnsResolvConf(etc.resolve("netns"), host);
    }

    @Test
    void onlyNamedNamespacesHaveOne() throws Exception {
        NetnsResolvConf f = files("");
        assertEquals(etc.resolve("netns/web/resolv.conf"), f.fileFor("/var/run/netns/web"));
        assertEquals(etc.resolve("netns/web/resolv.conf"), f.fileFor("/run/netns/web"));
        assertNull(f.fileFor("/proc/42/ns/net"), "a pid's namespace has no name");
        assertNull(f.fileFor("/var/run/docker/netns/abc"), "a runtime's own path");
        assertNull(f.fileFor("/var/run/netns/.."));
        assertNull(f.fileFor("/var/run/netns/../../etc/x"));
        assertNull(f.fileFor(null));
    }

    @Test
    void aDnsNetworkNamesItsGatewayAndDetachRemovesIt() throws Exception {
        NetnsResolvConf f = files("nameserver 198.18.0.53\n");
        f.write("/var/run/netns/web", "apps", "web", List.of(InetAddress.getByName("198.18.61.1")));
        Path file = etc.resolve("netns/web/resolv.conf");
        List<String> lines = Files.readAllLines(file);
        assertTrue(lines.getFirst().startsWith("# vswitchd: endpoint web of network apps"), lines.toString());
        assertEquals(List.of("nameserver 198.18.61.1"), lines.subList(1, lines.size()));
        assertFalse(f.remove("/var/run/netns/web", "apps", "other"), "only the endpoint it was written for removes it");
        assertTrue(f.remove("/var/run/netns/web", "apps", "web"));
        assertFalse(Files.exists(file));
        assertFalse(Files.exists(file.getParent()), "the directory it made goes too when empty");
    }

    @Test
    void otherwiseTheHostsResolversWithoutLoopbackOnes() throws Exception {
        NetnsResolvConf f = files("# generated\nnameserver 127.0.0.53\nnameserver 198.18.0.53\nsearch example.test\n"
                + "options edns0\n");
        f.write("/var/run/netns/web", "plain", "web", List.of());
        List<String> lines = Files.readAllLines(etc.resolve("netns/web/resolv.conf"));
        assertEquals(List.of("nameserver 198.18.0.53", "search example.test", "options edns0"), lines.subList(1, lines.size()));

        NetnsResolvConf loopbackOnly = files("nameserver 127.0.0.53\n");
        loopbackOnly.write("/var/run/netns/db", "plain", "db", List.of());
        assertFalse(Files.exists(etc.resolve("netns/db/resolv.conf")), "nothing a container could reach: none written");
    }

    @Test
    void aFileTheSwitchDidNotWriteIsNeverTouched() throws Exception {
        NetnsResolvConf f = files("nameserver 198.18.0.53\n");
        Path file = Files.createDirectories(etc.resolve("netns/web")).resolve("resolv.conf");
        Files.writeString(file, "nameserver 198.18.9.9\n");
        f.write("/var/run/netns/web", "apps", "web", List.of(InetAddress.getByName("198.18.61.1")));
        assertEquals("nameserver 198.18.9.9\n", Files.readString(file));
        assertFalse(f.remove("/var/run/netns/web", "apps", "web"));
        assertEquals("nameserver 198.18.9.9\n", Files.readString(file));

        Files.delete(file);
        Path elsewhere = Files.writeString(etc.resolve("elsewhere"), "mine\n");
        Files.createSymbolicLink(file, elsewhere);
        f.write("/var/run/netns/web", "apps", "web", List.of(InetAddress.getByName("198.18.61.1")));
        assertEquals("mine\n", Files.readString(elsewhere), "never written through a symbolic link");
    }

    @Test
    void aSecondEndpointInTheSameNamespaceLeavesTheFirstOnesFile() throws Exception {
        NetnsResolvConf f = files("nameserver 198.18.0.53\n");
        f.write("/var/run/netns/web", "apps", "web", List.of(InetAddress.getByName("198.18.61.1")));
        f.write("/var/run/netns/web", "other", "web2", List.of(InetAddress.getByName("198.18.62.1")));
        assertTrue(Files.readString(etc.resolve("netns/web/resolv.conf")).contains("198.18.61.1"));
    }
}
