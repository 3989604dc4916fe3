package io.vswitch.cluster;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Sessions against a real etcd on loopback (Debian's etcd-server; skipped without it). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EtcdStoreTest {
    private EtcdServer etcd;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(EtcdServer.available(), "needs /usr/bin/etcd (apt-get install etcd-server)");
        etcd = EtcdServer.loopback();
    }

    @AfterAll
    void stop() throws Exception {
        if (etcd != null) {
            etcd.close();
        }
    }

    private EtcdStore store(String prefix, String host, String vtep) throws Exception {
        return EtcdStore.start(new ClusterOptions(List.of(etcd.url()), prefix, host, Duration.ofSeconds(2), null, null, null),
                vtep, 4789, () -> { });
    }

    private static void await(EtcdStore s, String what, Predicate<ClusterView> ok, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!ok.test(s.view())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + " not seen in " + millis + " ms; view: " + s.view());
            }
            Thread.sleep(20);
        }
    }

    @Test
    void hostsSeeEachOtherAndEachOthersEndpointsComeAndGo() throws Exception {
        try (EtcdStore a = store("/t1", "a", "198.19.0.1"); EtcdStore b = store("/t1", "b", "198.19.0.2")) {
            await(a, "host b", v -> v.hosts().containsKey("b"), 5000);
            assertEquals("198.19.0.2", a.view().hosts().get("b").vtep());
            b.putOwn(b.keys().endpoint("blue", "02:00:00:00:00:02"), "{\"host\":\"b\",\"ip\":\"198.18.0.2/24\"}");
            b.putOwn(b.keys().member("blue", "b"), "{}");
            await(a, "b's endpoint", v -> v.endpoints("blue").containsKey("02:00:00:00:00:02"), 3000);
            await(a, "b in blue", v -> v.members("blue").contains("b"), 3000);
            long writes = b.writes();
            b.putOwn(b.keys().member("blue", "b"), "{}"); // no change: no write
            Thread.sleep(300);
            assertEquals(writes, b.writes());
            b.removeOwn(b.keys().endpoint("blue", "02:00:00:00:00:02"));
            await(a, "b's endpoint gone", v -> v.endpoints("blue").isEmpty(), 3000);
            assertTrue(a.connected());
        }
    }

    @Test
    void aHostThatDiesVanishesWithinItsTtlAndACleanStopAtOnce() throws Exception {
        try (EtcdStore a = store("/t2", "a", "198.19.0.1")) {
            EtcdStore dead = store("/t2", "dead", "198.19.0.9");
            EtcdStore clean = store("/t2", "clean", "198.19.0.8");
            dead.putOwn(dead.keys().endpoint("blue", "02:00:00:00:00:09"), "{\"host\":\"dead\"}");
            await(a, "both", v -> v.hosts().containsKey("dead") && v.hosts().containsKey("clean")
                    && v.endpoints("blue").size() == 1, 5000);
            dead.close(false); // as a kill -9: the lease is left to expire
            long t0 = System.nanoTime();
            clean.close(true); // a clean stop revokes it: gone before the dead one
            await(a, "clean gone while dead is still there", v -> !v.hosts().containsKey("clean")
                    && v.hosts().containsKey("dead"), 3000);
            await(a, "dead gone", v -> !v.hosts().containsKey("dead") && v.endpoints("blue").isEmpty(), 2000 + 2500);
            assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(5000));
        }
    }

    @Test
    void exactlyOneOfTwoRacingCreatorsWins() throws Exception {
        try (EtcdStore a = store("/t3", "a", "198.19.0.1"); EtcdStore b = store("/t3", "b", "198.19.0.2")) {
            for (int round = 0; round < 20; round++) {
                String net = "race" + round;
                CyclicBarrier go = new CyclicBarrier(2);
                ExecutorService pool = Executors.newFixedThreadPool(2);
                Callable<EtcdStore.Created> ca = () -> {
                    go.await();
                    return a.createNetwork(net, "{\"name\":\"" + net + "\",\"vni\":100}");
                };
                Callable<EtcdStore.Created> cb = () -> {
                    go.await();
                    return b.createNetwork(net, "{\"name\":\"" + net + "\",\"vni\":200}");
                };
                Future<EtcdStore.Created> fa = pool.submit(ca);
                Future<EtcdStore.Created> fb = pool.submit(cb);
                EtcdStore.Created ra = fa.get(10, TimeUnit.SECONDS);
                EtcdStore.Created rb = fb.get(10, TimeUnit.SECONDS);
                pool.shutdown();
                assertNotEquals(ra.created(), rb.created(), "exactly one winner in round " + round);
                EtcdStore.Created loser = ra.created() ? rb : ra;
                String winnerVni = ra.created() ? "100" : "200";
                assertTrue(loser.existing().contains(winnerVni), "the loser learns what won: " + loser.existing());
            }
        }
    }

    @Test
    void anAddressClaimedByAnotherHostIsNeverOverwritten() throws Exception {
        try (EtcdStore a = store("/t5", "a", "198.19.0.1"); EtcdStore b = store("/t5", "b", "198.19.0.2")) {
            await(a, "connected", v -> a.connected(), 5000);
            await(b, "connected", v -> b.connected(), 5000);
            String key = a.keys().address("blue", "198.18.0.7");
            org.junit.jupiter.api.Assertions.assertNull(a.claim(key, "{\"host\":\"a\"}"), "free: a gets it");
            // b comes back from a restart believing the address is its own, and writes it again:
            b.putOwn(key, "{\"host\":\"b\"}");
            await(b, "a's claim", v -> "a".equals(v.addresses("blue").get("198.18.0.7")), 3000);
            Thread.sleep(500);
            assertEquals("a", b.view().addresses("blue").get("198.18.0.7"), "a's claim stands");
            assertFalse(b.ownKeys(key).contains(key), "b let it go");
            b.putOwn(key, "{\"host\":\"b\"}"); // and does not fight over it
            Thread.sleep(300);
            assertEquals("a", a.view().addresses("blue").get("198.18.0.7"));
        }
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Test
    void anOwnKeyOverwrittenOrDeletedByAnotherWriterIsWrittenBack() throws Exception {
        try (EtcdStore a = store("/t6", "a", "198.19.0.1"); EtcdStore b = store("/t6", "b", "198.19.0.2");
                Client intruder = Client.builder().endpoints(etcd.url()).build()) {
            String key = a.keys().endpoint("blue", "02:00:00:00:00:0a");
            a.putOwn(key, "{\"host\":\"a\"}");
            a.putOwn(a.keys().member("blue", "a"), "{}");
            await(b, "a's endpoint", v -> "a".equals(host(v, "02:00:00:00:00:0a")), 5000);
            // b's MAC claimed for b by a writer without b's lease: refused by b and by a
            intruder.getKVClient().put(bytes(key), bytes("{\"host\":\"b\"}")).get(5, TimeUnit.SECONDS);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!"{\"host\":\"a\"}".equals(value(intruder, key)) && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            assertEquals("{\"host\":\"a\"}", value(intruder, key), "etcd holds a's value again");
            assertEquals("a", host(b.view(), "02:00:00:00:00:0a"), "b never took the forged value");
            assertTrue(a.rewrites() >= 1);
            intruder.getKVClient().delete(bytes(key)).get(5, TimeUnit.SECONDS);
            intruder.getKVClient().delete(bytes(a.keys().host("a"))).get(5, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while ((value(intruder, key) == null || value(intruder, a.keys().host("a")) == null) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals("{\"host\":\"a\"}", value(intruder, key), "the deleted endpoint is back");
            assertTrue(value(intruder, a.keys().host("a")).contains("198.19.0.1"), "the deleted host key is back");
            assertTrue(b.view().hosts().containsKey("a"), "b never lost a");
            assertTrue(b.refusals().count(Refusal.LEASE) >= 1, "b refused the unleased value");
        }
    }

    private static String host(ClusterView v, String mac) {
        ClusterView.Endpoint e = v.endpoints("blue").get(mac);
        return e == null ? null : e.host();
    }

    private static String value(Client c, String key) throws Exception {
        var kvs = c.getKVClient().get(bytes(key)).get(5, TimeUnit.SECONDS).getKvs();
        return kvs.isEmpty() ? null : kvs.getFirst().getValue().toString(StandardCharsets.UTF_8);
    }

    @Test
    void aPrefixOfMoreThanFourMebibytesIsReadInPages() throws Exception {
        String prefix = "/t7/";
        try (Client writer = Client.builder().endpoints(etcd.url()).build()) {
            long lease = writer.getLeaseClient().grant(60).get(5, TimeUnit.SECONDS).getID();
            writer.getKVClient().put(bytes(prefix + "hosts/big"), bytes("{\"vtep\":\"198.19.0.9\"}"),
                    PutOption.builder().withLeaseId(lease).build()).get(5, TimeUnit.SECONDS);
            String pad = "p".repeat(900);
            List<Op> ops = new ArrayList<>();
            for (int i = 0; i < 6000; i++) {
                ops.add(Op.put(bytes(prefix + String.format("endpoints/blue/02:00:00:00:%02x:%02x", i / 256, i % 256)),
                        bytes("{\"host\":\"big\",\"pad\":\"" + pad + "\"}"), PutOption.builder().withLeaseId(lease).build()));
                if (ops.size() == 100) {
                    writer.getKVClient().txn().Then(ops.toArray(Op[]::new)).commit().get(10, TimeUnit.SECONDS);
                    ops.clear();
                }
            }
            try (EtcdStore a = store("/t7", "a", "198.19.0.1")) {
                await(a, "6,000 endpoints (5.6 MB) read", v -> v.endpoints("blue").size() == 6000, 15000);
                assertTrue(a.connected());
            }
        }
    }

    @Test
    void etcdAwayKeepsTheLastViewAndOwnKeysArriveWhenItReturns() throws Exception {
        try (EtcdStore a = store("/t4", "a", "198.19.0.1"); EtcdStore b = store("/t4", "b", "198.19.0.2")) {
            await(a, "host b", v -> v.hosts().containsKey("b"), 5000);
            etcd.stop();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (b.connected() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertFalse(b.connected(), "the loss is seen");
            b.putOwn(b.keys().endpoint("blue", "02:00:00:00:00:0b"), "{\"host\":\"b\"}");
            Thread.sleep(1000);
            assertTrue(a.view().hosts().containsKey("b"), "nothing is flushed while etcd is away");
            etcd.start();
            await(a, "b's endpoint after etcd returned", v -> v.endpoints("blue").containsKey("02:00:00:00:00:0b"), 15000);
            assertTrue(a.view().hosts().containsKey("b"));
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (!(a.connected() && b.connected()) && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            assertTrue(a.connected() && b.connected());
        }
    }
}
