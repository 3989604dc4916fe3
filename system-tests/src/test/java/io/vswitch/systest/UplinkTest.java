package io.vswitch.systest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An uplink: a veth stands for the host's NIC (eth1 in the daemon's namespace), its peer sits in
 * a "lan" namespace with a host on the containers' subnet. The switch reads and writes eth1
 * through AF_PACKET; containers and the LAN host reach each other both ways.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UplinkTest {
    private static final String C1 = "198.18.50.1";
    private static final String LAN = "198.18.50.100";
    private static final String HOST = "198.18.50.200";

    private Netns netns;
    private String sw;
    private String lan;
    private String c1;
    private Vswitchd daemon;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        sw = netns.create("usw");
        lan = netns.createQuiet("ulan");
        Sh.must(10, "ip", "-n", sw, "link", "add", "eth1", "type", "veth", "peer", "name", "lan0", "netns", lan);
        Sh.must(10, "ip", "-n", sw, "link", "set", "eth1", "up");
        Sh.must(10, "ip", "-n", lan, "addr", "add", LAN + "/24", "dev", "lan0");
        Sh.must(10, "ip", "-n", lan, "link", "set", "lan0", "up");
        daemon = Vswitchd.start(sw, Vswitchd.writeConfig("""
                dataplane: {threads: 2, pin: false}
                metrics: {listen: off}
                dns: {upstream: []}
                networks:
                  - name: bridged
                    ports: [uc1, {name: eth1, type: uplink}]
                """));
        c1 = netns.createQuiet("u-c1");
        netns.plug(sw, "uc1", c1, C1 + "/24");
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

    private int promiscuity() {
        String out = Sh.must(10, "ip", "-n", sw, "-d", "link", "show", "eth1");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("promiscuity (\\d+)").matcher(out);
        assertTrue(m.find(), out);
        return Integer.parseInt(m.group(1));
    }

    @Test
    @Order(1)
    void aContainerAndAHostOnTheLanReachEachOtherBothWays() {
        assertTrue(netns.exec(20, c1, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-q", LAN).ok(), "container -> lan");
        assertTrue(netns.exec(20, lan, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-q", C1).ok(), "lan -> container");
        assertTrue(promiscuity() > 0, "promiscuous while attached (a membership per socket: one per loop)");
        String show = daemon.ctl("show").out();
        assertTrue(show.contains("eth1") && show.contains("uplink"), show);
    }

    @Test
    @Order(2)
    void tcpAndATenMegabyteTransferCrossTheUplinkWhole() throws Exception {
        Transfer.tenMegabytes(netns, c1, lan, LAN);
        Transfer.tenMegabytes(netns, lan, c1, C1);
    }

    @Test
    @Order(3)
    void framesTheHostItselfSendsOutOfTheNicNeverEnterTheSwitch() throws Exception {
        Sh.must(10, "ip", "-n", sw, "addr", "add", HOST + "/24", "dev", "eth1");
        try (Capture seen = Capture.start(c1, "uc1", "(icmp or arp) and host " + HOST)) {
            assertTrue(netns.exec(20, sw, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-q", LAN).ok(),
                    "the host still uses its NIC");
            List<String> lines = seen.stop();
            assertEquals(List.of(), lines, "the host's own traffic reached a container");
        } finally {
            Sh.run(10, "ip", "-n", sw, "addr", "del", HOST + "/24", "dev", "eth1");
        }
        assertTrue(daemon.ctl("stats").out().contains("to-host"), "replies to the host's MAC were left to the host");
    }

    @Test
    @Order(4)
    void removingTheUplinkRestoresTheInterface() {
        assertEquals(0, daemon.ctl("port", "del", "bridged", "eth1").code());
        assertEquals(0, promiscuity(), "promiscuous mode restored on detach");
        assertTrue(Sh.run(10, "ip", "-n", sw, "link", "show", "eth1").ok(), "the host's interface is never deleted");
        assertFalse(netns.exec(10, c1, "ping", "-c", "1", "-W", "1", "-q", LAN).ok());
        assertEquals(0, daemon.ctl("port", "add", "bridged", "eth1", "--uplink").code());
        assertTrue(netns.exec(20, c1, "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", LAN).ok(), "and back");
    }
}
