package io.vswitch.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.vswitch.control.ControlClient;
import io.vswitch.control.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The parts of bench/cluster's join run ({@code bench/cluster join}), each a command run inside
 * the benchmark's namespace against etcd on 127.0.0.1:2379:
 * <pre>
 *   preload HOSTS ENDPOINTS        write HOSTS simulated hosts (42 keys each with 20 endpoints) before any daemon
 *   watch                          the baseline: a plain jetcd client that reads the prefix in pages of 1,000 and
 *                                  parses every value (Jackson), then watches and parses every event; prints one
 *                                  line when it has read everything, then runs until killed
 *   await SOCKET HOSTS ENDPOINTS   when the daemon's network bnet holds every peer and MAC (epoch ms)
 *   burst SOCKET HOSTS N FROM      N new endpoints (numbered from FROM on) (claim + endpoint, one Txn each, 16 in flight) on random hosts,
 *                                  until the daemon holds them (asked every 100 ms: the asking costs it little)
 *   one SOCKET HOSTS N FROM        N new endpoints one after another, each timed until the daemon holds it (asked
 *                                  every millisecond)
 *   junk N                         N keys under the prefix that no daemon wrote (half not a key of the layout, half
 *                                  host keys that are not JSON), one put each, 16 in flight
 * </pre>
 * Each prints one JSON line on stdout; progress goes to stderr.
 */
public final class ClusterJoin {
    private static final String ETCD = "http://127.0.0.1:2379";
    private static final String PREFIX = "/vswitch/bench/";
    private static final String NET = "bnet";
    private static final int TXN_OPS = 128;
    private static final int IN_FLIGHT = 16;
    private static final ObjectMapper JSON = new ObjectMapper();

    private ClusterJoin() {
    }

    public static void main(String[] args) throws Exception {
        String out = switch (args.length == 0 ? "" : args[0]) {
            case "preload" -> preload(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
            case "watch" -> watch();
            case "await" -> await(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            case "burst" -> burst(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    Integer.parseInt(args[4]));
            case "one" -> one(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]));
            case "junk" -> junk(Integer.parseInt(args[1]));
            default -> {
                System.err.println("usage: ClusterJoin preload HOSTS ENDPOINTS | watch | await SOCKET HOSTS ENDPOINTS"
                        + " | burst SOCKET HOSTS N FROM | one SOCKET HOSTS N FROM | junk N");
                System.exit(2);
                yield "";
            }
        };
        System.out.println(out);
        System.out.flush();
        System.exit(0); // jetcd's and gRPC's threads are not all daemons
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    private static Client client() {
        return Client.builder().endpoints(ETCD).maxInboundMessageSize(32 << 20).build();
    }

    /** Writes {@code ops} in Txns of 128, 16 in flight. */
    private static void write(KV kv, List<Op> ops) throws Exception {
        Semaphore window = new Semaphore(IN_FLIGHT);
        List<CompletableFuture<?>> txns = new ArrayList<>();
        for (int from = 0; from < ops.size(); from += TXN_OPS) {
            window.acquire();
            List<Op> batch = ops.subList(from, Math.min(ops.size(), from + TXN_OPS));
            txns.add(kv.txn().Then(batch.toArray(Op[]::new)).commit().whenComplete((r, t) -> window.release()));
        }
        CompletableFuture.allOf(txns.toArray(CompletableFuture[]::new)).get(240, TimeUnit.SECONDS);
    }

    private static String preload(int hosts, int perHost) throws Exception {
        try (Client client = client()) {
            List<CompletableFuture<?>> grants = new ArrayList<>();
            long[] lease = new long[hosts];
            for (int i = 0; i < hosts; i++) {
                int n = i;
                grants.add(client.getLeaseClient().grant(900).thenAccept(r -> lease[n] = r.getID()));
            }
            CompletableFuture.allOf(grants.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            List<Op> ops = new ArrayList<>();
            long bytes = 0;
            long now = System.currentTimeMillis();
            for (int i = 0; i < hosts; i++) {
                PutOption leased = PutOption.builder().withLeaseId(lease[i]).build();
                String host = "sim" + i;
                List<String[]> kv = new ArrayList<>();
                kv.add(new String[] {PREFIX + "hosts/" + host, "{\"vtep\":\"" + ClusterLoad.vtep(i) + "\",\"port\":4789,\"since\":" + now + "}"});
                kv.add(new String[] {PREFIX + "members/" + NET + "/" + host, "{}"});
                for (int e = 0; e < perHost; e++) {
                    int k = i * perHost + e;
                    kv.add(new String[] {PREFIX + "addresses/" + NET + "/" + ClusterLoad.address(k), "{\"host\":\"" + host + "\"}"});
                    kv.add(new String[] {PREFIX + "endpoints/" + NET + "/" + ClusterLoad.mac(i, e),
                            "{\"host\":\"" + host + "\",\"ip\":\"" + ClusterLoad.address(k) + "/16\"}"});
                }
                for (String[] p : kv) {
                    ops.add(Op.put(bytes(p[0]), bytes(p[1]), leased));
                    bytes += p[0].length() + p[1].length();
                }
            }
            long t0 = System.nanoTime();
            write(client.getKVClient(), ops);
            return String.format(Locale.ROOT, "{\"keys\":%d,\"bytes\":%d,\"write_s\":%.3f}", ops.size(), bytes,
                    (System.nanoTime() - t0) / 1e9);
        }
    }

    /** The baseline watcher: never returns (killed by the script). */
    private static String watch() throws Exception {
        long t0 = System.nanoTime();
        Client client = client();
        KV kv = client.getKVClient();
        ByteSequence root = bytes(PREFIX);
        ByteSequence end = bytes(PREFIX.substring(0, PREFIX.length() - 1) + "0");
        ByteSequence from = root;
        long revision = 0;
        long keys = 0;
        long pages = 0;
        while (true) {
            GetOption.Builder o = GetOption.builder().withRange(end).withLimit(1000);
            if (revision != 0) {
                o.withRevision(revision);
            }
            GetResponse r = kv.get(from, o.build()).get(30, TimeUnit.SECONDS);
            if (revision == 0) {
                revision = r.getHeader().getRevision();
            }
            pages++;
            for (KeyValue k : r.getKvs()) {
                parse(k);
                keys++;
            }
            if (!r.isMore() || r.getKvs().isEmpty()) {
                break;
            }
            byte[] last = r.getKvs().getLast().getKey().getBytes();
            from = ByteSequence.from(Arrays.copyOf(last, last.length + 1));
        }
        double listS = (System.nanoTime() - t0) / 1e9;
        AtomicLong events = new AtomicLong();
        client.getWatchClient().watch(root, WatchOption.builder().isPrefix(true).withRevision(revision + 1).build(),
                Watch.listener(resp -> {
                    for (WatchEvent e : resp.getEvents()) {
                        parse(e.getKeyValue());
                        events.incrementAndGet();
                    }
                }, t -> System.err.println("baseline watch broke: " + t)));
        System.out.printf(Locale.ROOT, "{\"joined_keys\":%d,\"pages\":%d,\"list_parse_s\":%.3f}%n", keys, pages, listS);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
        return "";
    }

    /** What a minimal client does with a key: decode it and parse its JSON (the result is dropped). */
    private static void parse(KeyValue k) {
        k.getKey().toString(StandardCharsets.UTF_8);
        try {
            JSON.readTree(k.getValue().toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // junk: nothing more to do with it
        }
    }

    private record Views(int macs, int peers) {
    }

    private static Views view(ControlClient daemon) {
        try {
            ControlClient.Response r = daemon.exchange("GET", "/v1/networks/" + NET, null);
            if (!r.ok()) {
                return null;
            }
            JsonNode n = Json.LENIENT.readTree(r.body());
            return new Views(n.path("macCount").asInt(), n.path("peers").size());
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String await(Path socket, int hosts, int perHost) throws Exception {
        ControlClient daemon = new ControlClient(socket);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        Views v = null;
        while (System.nanoTime() < deadline) {
            v = view(daemon);
            if (v != null && v.peers >= hosts && v.macs >= hosts * perHost) {
                return "{\"loaded_at_ms\":" + System.currentTimeMillis() + "}";
            }
            Thread.sleep(20);
        }
        return "{\"loaded_at_ms\":null,\"macs\":" + (v == null ? -1 : v.macs) + ",\"peers\":" + (v == null ? -1 : v.peers) + "}";
    }

    /** The simulated hosts' leases, by number. */
    private static Map<Integer, Long> leases(KV kv) throws Exception {
        Map<Integer, Long> leases = new HashMap<>();
        GetResponse hostKeys = kv.get(bytes(PREFIX + "hosts/"), GetOption.builder().isPrefix(true).build())
                .get(30, TimeUnit.SECONDS);
        for (KeyValue k : hostKeys.getKvs()) {
            String key = k.getKey().toString(StandardCharsets.UTF_8);
            if (key.startsWith(PREFIX + "hosts/sim")) {
                leases.put(Integer.parseInt(key.substring((PREFIX + "hosts/sim").length())), k.getLease());
            }
        }
        return leases;
    }

    private static String burst(Path socket, int hosts, int n, int from) throws Exception {
        ControlClient daemon = new ControlClient(socket);
        try (Client client = client()) {
            KV kv = client.getKVClient();
            Map<Integer, Long> leases = leases(kv);
            Random random = new Random(7 + from);
            Views before = view(daemon);
            int base = hosts * 20 + from;
            long t0 = System.nanoTime();
            Semaphore window = new Semaphore(IN_FLIGHT);
            List<CompletableFuture<?>> txns = new ArrayList<>();
            for (int c = 0; c < n; c++) {
                int h = random.nextInt(hosts);
                window.acquire();
                txns.add(change(kv, leases.get(h), h, base + c).whenComplete((r, t) -> window.release()));
            }
            CompletableFuture.allOf(txns.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            Views v = before;
            while (System.nanoTime() < deadline && (v == null || v.macs < before.macs + n)) {
                Thread.sleep(100);
                v = view(daemon);
            }
            return String.format(Locale.ROOT, "{\"changes\":%d,\"burst_s\":%.3f,\"held\":%s}", n,
                    (System.nanoTime() - t0) / 1e9, v != null && v.macs >= before.macs + n);
        }
    }

    private static String one(Path socket, int hosts, int n, int from) throws Exception {
        ControlClient daemon = new ControlClient(socket);
        try (Client client = client()) {
            KV kv = client.getKVClient();
            Map<Integer, Long> leases = leases(kv);
            Random random = new Random(11);
            Views v = view(daemon);
            int macs = v == null ? 0 : v.macs;
            int base = hosts * 20 + from;
            long[] ns = new long[n];
            for (int c = 0; c < n; c++) {
                int h = random.nextInt(hosts);
                long s = System.nanoTime();
                change(kv, leases.get(h), h, base + c);
                long until = s + TimeUnit.SECONDS.toNanos(5);
                Views w;
                do {
                    Thread.sleep(1);
                    w = view(daemon);
                } while ((w == null || w.macs <= macs) && System.nanoTime() < until);
                ns[c] = w != null && w.macs > macs ? System.nanoTime() - s : Long.MAX_VALUE;
                macs = w == null ? macs : w.macs;
            }
            Arrays.sort(ns);
            long misses = Arrays.stream(ns).filter(x -> x == Long.MAX_VALUE).count();
            return String.format(Locale.ROOT, "{\"one\":%d,\"one_p50_ms\":%.2f,\"one_p99_ms\":%.2f,\"one_misses\":%d}", n,
                    ns[n / 2] / 1e6, ns[Math.min(n - 1, (int) Math.ceil(n * 0.99) - 1)] / 1e6, misses);
        }
    }

    /** Endpoint number {@code k} on host {@code h}: its claim and its key in one Txn, as a daemon attaches. */
    private static CompletableFuture<?> change(KV kv, long lease, int h, int k) {
        PutOption leased = PutOption.builder().withLeaseId(lease).build();
        String ip = ClusterLoad.address(k);
        String mac = String.format(Locale.ROOT, "02:5f:%02x:%02x:%02x:%02x", (k >> 24) & 255, (k >> 16) & 255, (k >> 8) & 255,
                k & 255);
        return kv.txn().Then(
                Op.put(bytes(PREFIX + "addresses/" + NET + "/" + ip), bytes("{\"host\":\"sim" + h + "\"}"), leased),
                Op.put(bytes(PREFIX + "endpoints/" + NET + "/" + mac), bytes("{\"host\":\"sim" + h + "\",\"ip\":\"" + ip + "/16\"}"),
                        leased)).commit();
    }

    /** Junk as a hostile writer sends it: one put each (16 in flight), so each is a revision of its own. */
    private static String junk(int n) throws Exception {
        try (Client client = client()) {
            KV kv = client.getKVClient();
            long t0 = System.nanoTime();
            Semaphore window = new Semaphore(IN_FLIGHT);
            List<CompletableFuture<?>> puts = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                window.acquire();
                CompletableFuture<?> f = i % 2 == 0 ? kv.put(bytes(PREFIX + "junk/" + i), bytes("{}"))
                        : kv.put(bytes(PREFIX + "hosts/junk" + i), bytes("not json " + i));
                puts.add(f.whenComplete((r, t) -> window.release()));
            }
            CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).get(240, TimeUnit.SECONDS);
            return String.format(Locale.ROOT, "{\"junk\":%d,\"write_s\":%.3f}", n, (System.nanoTime() - t0) / 1e9);
        }
    }
}
