package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * vswitchd on host 1; on host 2 the Linux kernel's own vxlan device (dstport 4789, head-end
 * replication to host 1) in a bridge with a veth to a container. The kernel side's underlay
 * veth has tx checksumming off, as a real NIC finishes checksums (see DESIGN.md).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KernelInteropTest {
    private Netns netns;
    private Underlay underlay;
    private Vswitchd daemon;
    private String ours;
    private String theirs;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        underlay = new Underlay(netns, "ki");
        daemon = Vswitchd.start(underlay.h1, Vswitchd.writeConfig("""
                dataplane:
                  threads: 2
                vxlan:
                  local: 198.19.0.1
                networks:
                  - name: blue
                    vni: 42
                    peers: [198.19.0.2]
                    ports: [kb1]
                """));
        ours = netns.create("k-ours");
        netns.plug(underlay.h1, "kb1", ours, "198.18.0.1/24");

        String h2 = underlay.h2;
        theirs = netns.create("k-theirs");
        Sh.must(10, "ip", "-n", h2, "link", "add", "vx42", "type", "vxlan", "id", "42", "dstport", "4789",
                "local", "198.19.0.2", "dev", "u2");
        Sh.must(10, "ip", "netns", "exec", h2, "bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "vx42",
                "dst", "198.19.0.1");
        Sh.must(10, "ip", "-n", h2, "link", "add", "br0", "type", "bridge");
        Sh.must(10, "ip", "-n", h2, "link", "set", "vx42", "master", "br0", "up");
        Sh.must(10, "ip", "-n", h2, "link", "add", "kv", "mtu", "1450", "type", "veth", "peer", "name", "eth0",
                "netns", theirs, "mtu", "1450");
        Sh.must(10, "ip", "-n", h2, "link", "set", "kv", "master", "br0", "up");
        Sh.must(10, "ip", "-n", h2, "link", "set", "br0", "up");
        Sh.must(10, "ip", "-n", theirs, "addr", "add", "198.18.0.2/24", "dev", "eth0");
        Sh.must(10, "ip", "-n", theirs, "link", "set", "eth0", "up");
        Sh.must(10, "ip", "netns", "exec", h2, "ethtool", "-K", "u2", "tx", "off");
    }

    @AfterAll
    void stop() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        if (netns != null) {
            netns.close();
        }
    }

    @Test
    void pingWorksInBothDirections() {
        assertTrue(netns.exec(20, ours, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-q", "198.18.0.2").ok());
        assertTrue(netns.exec(20, theirs, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-q", "198.18.0.1").ok());
    }

    @Test
    void tcpWorksInBothDirections() throws Exception {
        Transfer.tenMegabytes(netns, ours, theirs, "198.18.0.2");
        Transfer.tenMegabytes(netns, theirs, ours, "198.18.0.1");
    }

    @Test
    void iperf3CompletesInBothDirections() throws Exception {
        Iperf3.tcp(netns, ours, theirs, "198.18.0.2");
        Iperf3.tcp(netns, theirs, ours, "198.18.0.1");
    }

    @Test
    void eachSideLearnsTheOthersMacs() throws Exception {
        assertTrue(netns.exec(20, ours, "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", "198.18.0.2").ok());
        String ourMac = netns.must(10, ours, "cat", "/sys/class/net/kb1/address").trim();
        String theirMac = netns.must(10, theirs, "cat", "/sys/class/net/eth0/address").trim();

        String kernelFdb = netns.must(10, underlay.h2, "bridge", "fdb", "show", "dev", "vx42");
        assertTrue(kernelFdb.contains(ourMac + " dst 198.19.0.1"), "kernel learned our MAC behind us:\n" + kernelFdb);

        JsonNode fdb = daemon.json("fdb", "show", "blue");
        boolean found = false;
        for (JsonNode e : fdb) {
            if (e.path("mac").asText().equals(theirMac)) {
                assertEquals("198.19.0.2", e.path("vtep").asText());
                found = true;
            }
        }
        assertTrue(found, "we learned the kernel container's MAC: " + fdb);
    }
}
