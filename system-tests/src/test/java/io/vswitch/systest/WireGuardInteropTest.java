package io.vswitch.systest;

import io.vswitch.wireguard.DeviceCounter;
import io.vswitch.wireguard.DropReason;
import io.vswitch.wireguard.Keys;
import io.vswitch.wireguard.Peer;
import io.vswitch.wireguard.Protocol;
import java.io.File;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Our WireGuard core against Debian's wireguard-go (the reference's wire format). h1 runs our
 * core on a UDP socket at 198.19.0.1:51820 with tunnel address 198.18.254.1; h2 runs
 * wireguard-go (wg0, 198.18.254.2/24) with our key as its peer. ICMP echoes travel through the
 * tunnel both ways: ours answered by h2's kernel behind wg0, h2's ping answered by our core.
 * The tests run in order: each builds on the session the one before left.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WireGuardInteropTest {
    private static final int OUR_TUNNEL = 0xC612_FE01;
    private static final int THEIR_TUNNEL = 0xC612_FE02;
    private final String wg = "wg" + (ProcessHandle.current().pid() % 100000);
    private Netns netns;
    private Underlay underlay;
    private WireGuardPeer ours;
    private Peer them;
    private Process wireguardGo;
    private Path theirKeyFile;
    private byte[] theirPublic;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(Netns.available(), "system tests need root and iproute2");
        assumeTrue(Sh.run(5, "which", "wireguard-go", "wg").ok(), "needs wireguard-go and wireguard-tools (scripts/install-packages.sh)");
        netns = new Netns();
        underlay = new Underlay(netns, "wg");
        byte[] theirPrivate = Keys.generatePrivate();
        theirPublic = Keys.publicKey(theirPrivate);
        theirKeyFile = Files.createTempFile("wg-their-", ".key");
        Files.writeString(theirKeyFile, Keys.encode(theirPrivate));
        byte[] ourPrivate = Keys.generatePrivate();
        ours = new WireGuardPeer(underlay.h1, new InetSocketAddress("198.19.0.1", 51820), ourPrivate, OUR_TUNNEL);
        them = ours.device.addPeer(theirPublic, null, io.vswitch.wireguard.Endpoint.parse("198.19.0.2:51820"), 0);
        ours.device.allowedIps().add("198.18.254.2/32", them);
        startWireguardGo(Keys.encode(ours.device.publicKey()));
    }

    private void startWireguardGo(String ourPublic) throws Exception {
        File log = Files.createTempFile("wireguard-go-", ".log").toFile();
        wireguardGo = new ProcessBuilder("ip", "netns", "exec", underlay.h2, "env",
                "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1", "wireguard-go", "-f", wg)
                .redirectErrorStream(true).redirectOutput(log).start();
        await("wireguard-go's " + wg + " to come up (log " + log + ")",
                () -> Sh.run(5, "ip", "netns", "exec", underlay.h2, "wg", "show", wg).ok());
        netns.must(10, underlay.h2, "wg", "set", wg, "private-key", theirKeyFile.toString(), "listen-port", "51820",
                "peer", ourPublic, "endpoint", "198.19.0.1:51820", "allowed-ips", "198.18.254.1/32");
        Sh.must(10, "ip", "-n", underlay.h2, "addr", "add", "198.18.254.2/24", "dev", wg);
        Sh.must(10, "ip", "-n", underlay.h2, "link", "set", wg, "up");
    }

    private void stopWireguardGo() throws InterruptedException {
        if (wireguardGo != null && wireguardGo.isAlive()) {
            wireguardGo.destroy();
            if (!wireguardGo.waitFor(5, TimeUnit.SECONDS)) {
                wireguardGo.destroyForcibly();
                wireguardGo.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    @AfterAll
    void stop() throws Exception {
        stopWireguardGo();
        if (ours != null) {
            ours.close();
        }
        if (netns != null) {
            netns.close();
        }
        if (theirKeyFile != null) {
            Files.deleteIfExists(theirKeyFile);
        }
    }

    @Test
    @Order(1)
    void weInitiateAndOurPingIsAnsweredByTheirKernel() throws Exception {
        ours.ping(them, THEIR_TUNNEL, 0x77, 1);
        await("the echo reply to our first ping", () -> ours.echoReplies.contains((0x77) + "/1"));
        assertEquals(1, ours.device.count(DeviceCounter.RESPONSES_RECEIVED), "we initiated: wireguard-go responded");
        for (int seq = 2; seq <= 5; seq++) {
            ours.ping(them, THEIR_TUNNEL, 0x77, seq);
        }
        await("four more echo replies", () -> ours.echoReplies.size() == 5);
        String dump = netns.must(10, underlay.h2, "wg", "show", wg, "dump");
        System.out.println("wireguard-go after our pings:\n" + dump);
        String[] peer = dump.strip().split("\n")[1].split("\t");
        assertTrue(Long.parseLong(peer[4]) > 0, "wireguard-go saw a handshake: " + dump);
        assertTrue(Long.parseLong(peer[5]) > 0 && Long.parseLong(peer[6]) > 0, "bytes both ways: " + dump);
        assertTrue(them.stats().rxBytes() > 0 && them.stats().txBytes() > 0);
    }

    @Test
    @Order(2)
    void theirPingIsAnsweredByUs() {
        Sh.Result r = netns.exec(20, underlay.h2, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-q", "198.18.254.1");
        assertTrue(r.ok(), "ping through wireguard-go to our core: " + r);
    }

    @Test
    @Order(3)
    void afterRekeyAfterTimeWeInitiateAgainAndTrafficGoesOn() throws Exception {
        long initiations = ours.device.count(DeviceCounter.INITIATIONS_SENT);
        long responses = ours.device.count(DeviceCounter.RESPONSES_RECEIVED);
        ours.skewNs += Protocol.REKEY_AFTER_TIME_NS + 1_000_000_000L;
        ours.ping(them, THEIR_TUNNEL, 0x78, 1);
        await("a new handshake after REKEY_AFTER_TIME",
                () -> ours.device.count(DeviceCounter.RESPONSES_RECEIVED) > responses);
        assertTrue(ours.device.count(DeviceCounter.INITIATIONS_SENT) > initiations);
        ours.ping(them, THEIR_TUNNEL, 0x78, 2);
        await("an echo reply under the new session", () -> ours.echoReplies.contains((0x78) + "/2"));
        System.out.println("rekey: initiations " + initiations + " -> " + ours.device.count(DeviceCounter.INITIATIONS_SENT)
                + ", completed as initiator " + responses + " -> " + ours.device.count(DeviceCounter.RESPONSES_RECEIVED));
    }

    @Test
    @Order(4)
    void aReplayedAndATamperedDatagramAreDroppedAndCounted() throws Exception {
        assertTrue(netns.exec(20, underlay.h2, "ping", "-c", "1", "-W", "2", "-q", "198.18.254.1").ok());
        byte[] captured = ours.lastDataDatagram.get();
        long replays = ours.device.dropped(DropReason.REPLAY);
        long forged = ours.device.dropped(DropReason.AUTH_FAILED);
        byte[] tampered = captured.clone();
        tampered[tampered.length - 20] ^= 0x01;
        io.vswitch.nativetap.NetworkNamespace.callIn(Path.of("/var/run/netns", underlay.h2), () -> {
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("198.19.0.2", 0))) {
                InetSocketAddress to = new InetSocketAddress("198.19.0.1", 51820);
                s.send(new DatagramPacket(captured, captured.length, to));
                s.send(new DatagramPacket(tampered, tampered.length, to));
            }
            return null;
        });
        await("the replay counted", () -> ours.device.dropped(DropReason.REPLAY) == replays + 1);
        await("the forgery counted", () -> ours.device.dropped(DropReason.AUTH_FAILED) == forged + 1);
        assertTrue(netns.exec(20, underlay.h2, "ping", "-c", "2", "-i", "0.2", "-W", "2", "-q", "198.18.254.1").ok(),
                "the session survives both");
    }

    @Test
    @Order(5)
    void afterWireguardGoRestartsItInitiatesAndWeAnswer() throws Exception {
        stopWireguardGo();
        long answered = ours.device.count(DeviceCounter.INITIATIONS_RECEIVED);
        startWireguardGo(Keys.encode(ours.device.publicKey()));
        Sh.Result r = netns.exec(30, underlay.h2, "ping", "-c", "3", "-i", "0.3", "-W", "5", "-q", "198.18.254.1");
        assertTrue(r.ok(), "ping after wireguard-go restarted: " + r);
        assertTrue(ours.device.count(DeviceCounter.INITIATIONS_RECEIVED) > answered, "it initiated, we responded");
        ours.ping(them, THEIR_TUNNEL, 0x79, 1);
        await("our ping under the session it made", () -> ours.echoReplies.contains((0x79) + "/1"));
        System.out.println("drops: replay " + ours.device.dropped(DropReason.REPLAY) + ", auth-failed "
                + ours.device.dropped(DropReason.AUTH_FAILED) + ", unknown-index " + ours.device.dropped(DropReason.UNKNOWN_INDEX));
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
