package io.vswitch.systest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A trunk between vswitchd and another switch's 802.1Q: Open vSwitch's userspace datapath
 * (Debian's openvswitch-switch, datapath_type=netdev, so no kernel module is needed) in a
 * namespace of its own, whose port lan0 (the far end of our uplink eth1) is a trunk of vlans 10
 * and 20 with vlan 30 native, and whose access ports hold one host per VLAN. This machine's
 * kernel has no 8021q and no bridge VLAN filtering, so OVS stands in for Linux VLAN devices.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrunkOvsTest {
    private static final String RED = "198.18.63.1";
    private static final String GREEN = "198.18.63.2";
    private static final String PLAIN = "198.18.64.1";
    private static final String H10 = "198.18.63.110";
    private static final String H20 = "198.18.63.120";
    private static final String H30 = "198.18.64.130";
    private static final String H11 = "198.18.63.111";
    private static final String H21 = "198.18.63.121";

    private Netns netns;
    private String sw;
    private String ovs;
    private final List<String> hosts = new ArrayList<>();
    private String red;
    private String green;
    private String plain;
    private Vswitchd daemon;
    private Path dir;
    private final List<Long> pids = new ArrayList<>();

    private void vsctl(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ovs-vsctl", "--db=unix:" + dir.resolve("db.sock"), "--timeout=20"));
        cmd.addAll(List.of(args));
        Sh.must(30, cmd.toArray(String[]::new));
    }

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/ovs-vswitchd")), "needs openvswitch-switch");
        netns = new Netns();
        dir = Files.createTempDirectory("ovs-");
        sw = netns.create("osw");
        ovs = netns.createQuiet("oovs");
        Sh.must(10, "ip", "-n", sw, "link", "add", "eth1", "type", "veth", "peer", "name", "lan0", "netns", ovs);
        Sh.must(10, "ip", "-n", sw, "link", "set", "eth1", "up");
        Sh.must(10, "ip", "-n", ovs, "link", "set", "lan0", "up");
        Sh.must(20, "ovsdb-tool", "create", dir.resolve("conf.db").toString(), "/usr/share/openvswitch/vswitch.ovsschema");
        Sh.must(20, "ip", "netns", "exec", ovs, "ovsdb-server", dir.resolve("conf.db").toString(),
                "--remote=punix:" + dir.resolve("db.sock"), "--pidfile=" + dir.resolve("ovsdb.pid"),
                "--unixctl=" + dir.resolve("ovsdb.ctl"), "--log-file=" + dir.resolve("ovsdb.log"), "--detach");
        pids.add(Long.parseLong(Files.readString(dir.resolve("ovsdb.pid")).trim()));
        vsctl("--no-wait", "init");
        Sh.must(20, "ip", "netns", "exec", ovs, "ovs-vswitchd", "unix:" + dir.resolve("db.sock"),
                "--pidfile=" + dir.resolve("vswitchd.pid"), "--unixctl=" + dir.resolve("vswitchd.ctl"),
                "--log-file=" + dir.resolve("vswitchd.log"), "--detach");
        pids.add(Long.parseLong(Files.readString(dir.resolve("vswitchd.pid")).trim()));
        vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev");
        vsctl("add-port", "br0", "lan0", "--", "set", "port", "lan0", "trunks=10,20,30", "tag=30",
                "vlan_mode=native-untagged");
        accessHost("br0", "h10", 10, H10);
        accessHost("br0", "h20", 20, H20);
        accessHost("br0", "h30", 30, H30);
        daemon = Vswitchd.start(sw, Vswitchd.writeConfig("""
                dataplane: {threads: 2, pin: false}
                metrics: {listen: off}
                dns: {upstream: []}
                networks:
                  - {name: red,   vlan: 10, ports: [or1, {name: eth1, type: uplink, trunk: true}, {name: ttr, trunk: true}]}
                  - {name: green, vlan: 20, ports: [og1, {name: eth1, type: uplink, trunk: true}, {name: ttr, trunk: true}]}
                  - {name: plain, ports: [on1, {name: eth1, type: uplink, trunk: true}]}
                """));
        // The TAP trunk goes to a second OVS bridge (a loop through br0 otherwise) as its trunk port.
        Sh.must(10, "ip", "-n", sw, "link", "set", "ttr", "netns", ovs);
        Sh.must(10, "ip", "-n", ovs, "link", "set", "ttr", "up");
        vsctl("add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=netdev");
        vsctl("add-port", "br1", "ttr", "--", "set", "port", "ttr", "trunks=10,20");
        accessHost("br1", "h11", 10, H11);
        accessHost("br1", "h21", 20, H21);
        red = netns.createQuiet("o-red");
        green = netns.createQuiet("o-green");
        plain = netns.createQuiet("o-plain");
        netns.plug(sw, "or1", red, RED + "/24");
        netns.plug(sw, "og1", green, GREEN + "/24");
        netns.plug(sw, "on1", plain, PLAIN + "/24");
    }

    /** A host in a namespace of its own on an access port of OVS bridge {@code bridge} in {@code vlan}. */
    private void accessHost(String bridge, String name, int vlan, String ip) {
        String h = netns.createQuiet("o" + name);
        hosts.add(h);
        Sh.must(10, "ip", "-n", ovs, "link", "add", name, "type", "veth", "peer", "name", "eth0", "netns", h);
        Sh.must(10, "ip", "-n", ovs, "link", "set", name, "up");
        vsctl("add-port", bridge, name, "--", "set", "port", name, "tag=" + vlan);
        Sh.must(10, "ip", "-n", h, "addr", "add", ip + "/24", "dev", "eth0");
        Sh.must(10, "ip", "-n", h, "link", "set", "eth0", "up");
        // OVS's userspace datapath does not complete checksums for others (its documentation says so).
        Sh.run(10, "ip", "netns", "exec", h, "ethtool", "-K", "eth0", "tx", "off");
    }

    @AfterAll
    void stop() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        for (long pid : pids) {
            ProcessHandle.of(pid).ifPresent(p -> {
                p.destroy();
                p.onExit().orTimeout(5, TimeUnit.SECONDS).exceptionally(t -> null).join();
            });
        }
        if (netns != null) {
            netns.close();
        }
    }

    private boolean ping(String from, String to) {
        return netns.exec(30, from, "ping", "-c", "3", "-i", "0.3", "-W", "3", "-q", to).ok();
    }

    @Test
    void eachVlanReachesItsHostBehindOpenVswitchBothWays() {
        assertTrue(ping(red, H10), "red -> OVS vlan 10");
        assertTrue(ping(hosts.get(0), RED), "OVS vlan 10 -> red");
        assertTrue(ping(green, H20), "green -> OVS vlan 20");
        assertTrue(ping(hosts.get(1), GREEN), "OVS vlan 20 -> green");
        assertTrue(ping(plain, H30), "native: plain -> OVS native vlan 30");
        assertTrue(ping(hosts.get(2), PLAIN), "OVS native vlan 30 -> plain");
    }

    @Test
    void aTapTrunkCarriesBothVlansToOpenVswitchToo() {
        assertTrue(ping(red, H11), "red -> OVS br1 vlan 10 through the TAP trunk");
        assertTrue(ping(hosts.get(4), GREEN), "OVS br1 vlan 20 -> green through the TAP trunk");
        assertTrue(!netns.exec(20, red, "ping", "-c", "2", "-i", "0.2", "-W", "1", "-q", H21).ok(), "red reached vlan 20");
        String show = daemon.ctl("show").out();
        assertTrue(show.contains("tap-trunk"), show);
    }

    @Test
    void vlansStayApartAcrossTheTrunk() {
        assertTrue(!netns.exec(20, red, "ping", "-c", "2", "-i", "0.2", "-W", "1", "-q", H20).ok(), "red reached vlan 20");
        assertTrue(!netns.exec(20, green, "ping", "-c", "2", "-i", "0.2", "-W", "1", "-q", H10).ok(), "green reached vlan 10");
    }
}
