package io.vswitch.daemon.api;

import io.vswitch.control.ControlClient;
import io.vswitch.control.Deadline;
import io.vswitch.control.Requests;
import io.vswitch.control.Views;
import io.vswitch.daemon.Attachments;
import io.vswitch.daemon.ChannelPortFactory;
import io.vswitch.daemon.ConfigReader;
import io.vswitch.daemon.Daemon;
import io.vswitch.daemon.DaemonConfig;
import io.vswitch.daemon.SpecException;
import io.vswitch.daemon.StateFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A change whose slow step (a container's namespace work) outlives its caller's deadline: the
 * caller is told it failed, the conductor and every reader go on meanwhile, and when the slow
 * step ends the change is undone, never made behind the caller's back. In-memory ports whose
 * placement waits at a gate; no root.
 */
class SlowChangeTest {
    private static final String HERE = "/proc/self/ns/net";

    private Path dir;
    private StateFile state;
    private Daemon daemon;
    private ControlServer server;
    private ControlClient client;
    private ChannelPortFactory ports;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory("vswitch-slow-");
        DaemonConfig config = ConfigReader.parse(dir + "/vswitch.yaml", """
                dataplane: {threads: 1, pin: false}
                metrics: {listen: off}
                networks:
                  - name: apps
                    subnet: 198.18.64.0/24
                """);
        state = StateFile.lock(dir.resolve("vswitch.state.json"));
        daemon = Daemon.start(config, state, dp -> ports = new ChannelPortFactory(dp));
        server = ControlServer.start(dir.resolve("api.sock"), new ControlApi(daemon));
        client = new ControlClient(dir.resolve("api.sock"));
    }

    @AfterEach
    void stop() throws Exception {
        ports.slowGate.countDown();
        server.close();
        daemon.close();
        state.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static Requests.Attach attach(String id, String ifname, String ip) {
        return new Requests.Attach(HERE, null, id, id, ifname, ip, null, null, null, null, null, null, "cli", null);
    }

    /** An attach whose namespace work waits at the gate, on a thread of its own. */
    private CompletableFuture<Attachments.Endpoint> attachSlowly(String ip, Deadline deadline) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return daemon.attach("apps", attach("slow", "slow0", ip), deadline);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 2000 && !condition.getAsBoolean(); i++) {
            Thread.sleep(5);
        }
        assertTrue(condition.getAsBoolean(), what);
    }

    @Test
    void aCallerToldFailedNeverHasTheChangeMadeBehindItsBack() throws Exception {
        CompletableFuture<Attachments.Endpoint> slow = attachSlowly("198.18.64.9/24", Deadline.in(Duration.ofMillis(300)));
        await("the slow placement began", () -> ports.slowStarted.get() == 1);

        // Meanwhile the conductor takes other changes and readers are answered.
        Views.Endpoint fast = client.attach("apps", attach("fast", null, null));
        assertEquals("198.18.64.2/24", fast.ipv4());
        assertEquals(1, client.endpoints("apps").size(), "the slow one is not an endpoint while it is made");
        assertEquals(409, assertThrows(io.vswitch.control.ControlException.class,
                () -> client.attach("apps", attach("other", null, "198.18.64.9/24"))).status(),
                "its address is reserved while it is made");
        assertEquals(409, assertThrows(io.vswitch.control.ControlException.class,
                () -> client.attach("apps", attach("slow", null, null))).status(), "and so is its id");

        Exception failed = assertThrows(Exception.class, () -> slow.get(10, TimeUnit.SECONDS));
        assertTrue(failed.getCause() instanceof Deadline.Exceeded, failed.toString());
        assertTrue(failed.getCause().getMessage().contains("it was cancelled and what it had done is undone"),
                failed.getCause().getMessage());

        ports.slowGate.countDown(); // the namespace work ends after its caller gave up
        await("its device was let go", () -> ports.discarded.size() == 1);
        assertEquals(1, client.endpoints("apps").size(), "it never became an endpoint");
        assertFalse(Files.readString(state.path()).contains("\"slow\""), "nor was it saved");
        Views.Endpoint again = client.attach("apps", attach("slow", null, "198.18.64.9/24"));
        assertEquals("198.18.64.9/24", again.ipv4(), "its id and address are free again");
    }

    @Test
    void aSlowStepThatEndsInTimeIsCommitted() throws Exception {
        CompletableFuture<Attachments.Endpoint> slow = attachSlowly(null, Deadline.in(Duration.ofSeconds(30)));
        await("the slow placement began", () -> ports.slowStarted.get() == 1);
        ports.slowGate.countDown();
        Attachments.Endpoint e = slow.get(10, TimeUnit.SECONDS);
        assertEquals("198.18.64.2/24", e.spec().ipv4());
        assertEquals(1, client.endpoints("apps").size());
        assertTrue(Files.readString(state.path()).contains("\"slow\""), "saved before it was confirmed");
    }

    @Test
    void aNetworkRemovedWhileItsEndpointIsMadeTakesNothingWithIt() throws Exception {
        CompletableFuture<Attachments.Endpoint> slow = attachSlowly(null, Deadline.in(Duration.ofSeconds(30)));
        await("the slow placement began", () -> ports.slowStarted.get() == 1);
        client.removeNetwork("apps");
        ports.slowGate.countDown();
        Exception failed = assertThrows(Exception.class, () -> slow.get(10, TimeUnit.SECONDS));
        assertTrue(failed.getCause() instanceof SpecException, failed.toString());
        assertTrue(failed.getCause().getMessage().contains("removed meanwhile"), failed.getCause().getMessage());
        await("its device was let go", () -> ports.discarded.size() == 1);
    }

    @Test
    void aChangeWhoseDeadlinePassedBeforeItsTurnIsNotMade() throws Exception {
        Deadline passed = new Deadline(System.nanoTime() - 1_000_000_000L, 1);
        Deadline.Exceeded e = assertThrows(Deadline.Exceeded.class,
                () -> daemon.addNetwork(io.vswitch.control.NetworkSpec.named("late"), passed));
        assertTrue(e.getMessage().contains("nothing was changed"), e.getMessage());
        assertFalse(daemon.hasNetwork("late"));
        assertEquals(1, client.networks().size());
    }
}
