package io.vswitch.systest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An 802.1Q trunk on an uplink. Networks red (vlan 10) and green (vlan 20) share one IPv4
 * subnet, so a leak between VLANs would show; plain is the trunk's native (untagged) network.
 * eth1 leads to a "wire" namespace where the test reads with tcpdump (libpcap shows the tag the
 * kernel took out of the frame, as on a real NIC) and writes tagged frames with an AF_PACKET
 * socket.
 *
 * <p>This machine's kernel has neither 8021q (VLAN subinterfaces) nor bridge VLAN filtering
 * ({@code ip link add ... type vlan} answers "Unknown device type"), so the far end is the
 * kernel's own VLAN handling on the veth (it moves a received tag into the frame's metadata) and
 * the containers' own ARP: a tagged ARP request sent on the wire is answered by the container of
 * that VLAN only, and its reply arrives tagged.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrunkTest {
    private static final String RED = "198.18.60.1";
    private static final String GREEN = "198.18.60.2";
    private static final String PLAIN = "198.18.62.1";
    private static final String WIRE_MAC = "02:5e:00:00:00:aa";

    private Netns netns;
    private String sw;
    private String wire;
    private String red;
    private String green;
    private String plain;
    private Vswitchd daemon;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        netns = new Netns();
        sw = netns.create("tsw");
        wire = netns.createQuiet("twire");
        Sh.must(10, "ip", "-n", sw, "link", "add", "eth1", "type", "veth", "peer", "name", "lan0", "netns", wire);
        Sh.must(10, "ip", "-n", wire, "link", "set", "lan0", "up");
        Sh.must(10, "ip", "-n", sw, "link", "set", "eth1", "up");
        daemon = Vswitchd.start(sw, Vswitchd.writeConfig("""
                dataplane: {threads: 2, pin: false}
                metrics: {listen: off}
                dns: {upstream: []}
                networks:
                  - {name: red,   vlan: 10, ports: [tr1, {name: eth1, type: uplink, trunk: true}]}
                  - {name: green, vlan: 20, ports: [tg1, {name: eth1, type: uplink, trunk: true}]}
                  - {name: plain, ports: [tn1, {name: eth1, type: uplink, trunk: true}]}
                """));
        red = netns.createQuiet("t-red");
        green = netns.createQuiet("t-green");
        plain = netns.createQuiet("t-plain");
        netns.plug(sw, "tr1", red, RED + "/24");
        netns.plug(sw, "tg1", green, GREEN + "/24");
        netns.plug(sw, "tn1", plain, PLAIN + "/24");
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

    /** Sends from the wire an ARP request "who has {@code target}, tell {@code sender}", tagged {@code vlan} (0: untagged). */
    private void arpRequest(int vlan, String sender, String target, String srcMac) {
        netns.must(20, wire, "python3", "-c", """
                import socket, sys
                vlan, sender, target, src = int(sys.argv[1]), sys.argv[2], sys.argv[3], bytes.fromhex(sys.argv[4].replace(':', ''))
                arp = bytes.fromhex('0001080006040001') + src + socket.inet_aton(sender) + bytes(6) + socket.inet_aton(target)
                tag = (b'\\x81\\x00' + vlan.to_bytes(2, 'big')) if vlan else b''
                frame = b'\\xff' * 6 + src + tag + b'\\x08\\x06' + arp
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
                s.bind(('lan0', 0))
                for i in range(3):
                    s.send(frame + bytes(max(0, 60 - len(frame))))
                """, String.valueOf(vlan), sender, target, srcMac);
    }

    @Test
    void eachNetworksFramesLeaveTaggedWithItsVlanAndTheNativeOneUntagged() throws Exception {
        try (Capture w = Capture.start(wire, "lan0", "arp or (vlan and arp)", true)) {
            // Addresses nobody has: each container asks for them with ARP, on its own network.
            netns.exec(10, red, "ping", "-c", "1", "-W", "1", "198.18.60.200");
            netns.exec(10, green, "ping", "-c", "1", "-W", "1", "198.18.60.201");
            netns.exec(10, plain, "ping", "-c", "1", "-W", "1", "198.18.62.200");
            List<String> lines = w.stop();
            assertTrue(lines.stream().anyMatch(l -> l.contains("vlan 10") && l.contains("who-has 198.18.60.200 tell " + RED)),
                    String.join("\n", lines));
            assertTrue(lines.stream().anyMatch(l -> l.contains("vlan 20") && l.contains("who-has 198.18.60.201 tell " + GREEN)),
                    String.join("\n", lines));
            assertTrue(lines.stream().anyMatch(l -> !l.contains("vlan") && l.contains("who-has 198.18.62.200 tell " + PLAIN)),
                    String.join("\n", lines));
            assertTrue(lines.stream().noneMatch(l -> l.contains("vlan 10") && l.contains(GREEN + ",")), "green in vlan 10");
        }
    }

    @Test
    void aTaggedRequestFromTheWireReachesOnlyItsVlanAndTheAnswerGoesBackTagged() throws Exception {
        try (Capture w = Capture.start(wire, "lan0", "vlan and arp", true);
             Capture g = Capture.start(green, "tg1", "arp")) {
            arpRequest(10, "198.18.60.100", RED, WIRE_MAC);
            List<String> onWire = w.stop();
            List<String> inGreen = g.stop();
            assertTrue(onWire.stream().anyMatch(l -> l.contains("vlan 10") && l.contains("Reply " + RED + " is-at")),
                    "red answered, tagged 10: " + String.join("\n", onWire));
            assertEquals(List.of(), inGreen, "green saw vlan 10's request");
        }
        try (Capture w = Capture.start(wire, "lan0", "vlan and arp", true);
             Capture r = Capture.start(red, "tr1", "arp")) {
            arpRequest(20, "198.18.60.101", GREEN, WIRE_MAC);
            List<String> onWire = w.stop();
            assertTrue(onWire.stream().anyMatch(l -> l.contains("vlan 20") && l.contains("Reply " + GREEN + " is-at")),
                    "green answered, tagged 20: " + String.join("\n", onWire));
            assertEquals(List.of(), r.stop(), "red saw vlan 20's request");
        }
        try (Capture w = Capture.start(wire, "lan0", "arp", true)) {
            arpRequest(0, "198.18.62.100", PLAIN, WIRE_MAC);
            List<String> onWire = w.stop();
            assertTrue(onWire.stream().anyMatch(l -> !l.contains("vlan") && l.contains("Reply " + PLAIN + " is-at")),
                    "the native network answered untagged: " + String.join("\n", onWire));
        }
        // A VLAN no network carries is dropped and counted.
        arpRequest(30, "198.18.60.100", RED, WIRE_MAC);
        assertTrue(daemon.ctl("stats").out().contains("vlan-unknown"), daemon.ctl("stats").out());
    }

    @Test
    void oneMacLivesInTwoVlansAtOnce() {
        String mac = "02:5e:00:00:00:bb";
        arpRequest(10, "198.18.60.100", RED, mac);
        arpRequest(20, "198.18.60.101", GREEN, mac);
        String redFdb = daemon.ctl("fdb", "show", "red").out();
        String greenFdb = daemon.ctl("fdb", "show", "green").out();
        assertTrue(redFdb.contains(mac) && redFdb.lines().anyMatch(l -> l.contains(mac) && l.contains("eth1")), redFdb);
        assertTrue(greenFdb.contains(mac) && greenFdb.lines().anyMatch(l -> l.contains(mac) && l.contains("eth1")), greenFdb);
    }
}
