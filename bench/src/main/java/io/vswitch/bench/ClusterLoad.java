package io.vswitch.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.vswitch.control.ControlClient;
import io.vswitch.control.Json;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The load generator of bench/cluster: HOSTS simulated hosts of a vswitch cluster written straight
 * into etcd, next to one real daemon that has to turn them into tunnel ports and static MAC
 * entries. Run inside the benchmark's namespace, against etcd on 127.0.0.1:2379 and the daemon's
 * control socket:
 *
 * <pre>java -cp 'bench.jar:lib/*' io.vswitch.bench.ClusterLoad HOSTS SOCKET [CHANGES] [ENDPOINTS]</pre>
 *
 * <ol>
 *   <li>A plain jetcd watch on the prefix, opened first: the baseline, when etcd itself has
 *       delivered each key to a watcher (the daemon's session is such a watcher, plus its work).</li>
 *   <li>One lease per simulated host (granted before the clock starts), then for each host what
 *       a daemon with ENDPOINTS (20) attached containers writes: {@code hosts/simI} (VTEP
 *       198.19.(1+I/250).(1+I%250)), {@code members/bnet/simI}, and per endpoint its address
 *       claim {@code addresses/bnet/IP} and {@code endpoints/bnet/MAC}, all under its lease, in
 *       Txns of 128 puts with 16 in flight: as fast as etcd takes them. Writes/s from our
 *       acknowledgements and from etcd's own {@code etcd_mvcc_put_total}.</li>
 *   <li>The full load: from the first write until the daemon's network {@code bnet} has
 *       HOSTS peers and HOSTS*ENDPOINTS MACs ({@code GET /v1/networks/bnet} every 10 ms), and
 *       until the baseline watcher has seen every key.</li>
 *   <li>CHANGES (200) changes, one after another: a new endpoint on a random simulated host (its
 *       address claim and endpoint key in one Txn); the time from the Txn until the watcher sees
 *       the endpoint, and until the daemon's MAC count includes it
 *       (polled every 2 ms, {@code -Dbench.pollMs}, so the daemon's figure carries up to that
 *       much polling granularity).</li>
 * </ol>
 * Prints one JSON line; progress goes to stderr. Leases have a TTL of 600 s, longer than a run
 * (bench/cluster bounds the generator at 300 s), so nothing expires while it is measured.
 */
public final class ClusterLoad {
    private static final String ETCD = "http://127.0.0.1:2379";
    private static final String PREFIX = "/vswitch/bench/";
    private static final String NET = "bnet";
    private static final int TXN_OPS = 128;
    private static final int IN_FLIGHT = 16;
    private static final long LEASE_TTL_S = 600;
    /** How long the daemon may take to hold the full table ({@code -Dbench.loadDeadlineS}). */
    private static final long LOAD_DEADLINE_S = Long.getLong("bench.loadDeadlineS", 180);
    private static final long CHANGE_TIMEOUT_MS = 5000;
    private static final long TOTAL_DEADLINE_S = 270;
    /** How often the daemon is asked during a change (ms); {@code -Dbench.pollMs} to see what asking costs it. */
    private static final long CHANGE_POLL_MS = Long.getLong("bench.pollMs", 2);

    private final int hosts;
    private final int perHost;
    private final int changes;
    private final ControlClient daemon;
    private final long started = System.nanoTime();

    /** Baseline watcher: keys still to be seen in the load, when the last one came. */
    private final Set<String> unseen = ConcurrentHashMap.newKeySet();
    private final AtomicInteger seen = new AtomicInteger();
    private volatile long watcherDoneNs;
    /** Baseline watcher during the changes: the key awaited and when it came. */
    private final AtomicReference<String> awaited = new AtomicReference<>();
    private volatile CompletableFuture<Long> awaitedSeen = new CompletableFuture<>();

    private ClusterLoad(int hosts, int perHost, int changes, Path socket) {
        this.hosts = hosts;
        this.perHost = perHost;
        this.changes = changes;
        this.daemon = new ControlClient(socket);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || args.length > 4) {
            System.err.println("usage: ClusterLoad HOSTS SOCKET [CHANGES] [ENDPOINTS]");
            System.exit(2);
        }
        ClusterLoad load = new ClusterLoad(Integer.parseInt(args[0]), args.length > 3 ? Integer.parseInt(args[3]) : 20,
                args.length > 2 ? Integer.parseInt(args[2]) : 200, Path.of(args[1]));
        System.out.println(load.run());
        System.exit(0); // jetcd's and gRPC's threads are not all daemons
    }

    static String vtep(int i) {
        return "198.19." + (1 + i / 250) + "." + (1 + i % 250);
    }

    static String mac(int host, int ep) {
        return String.format(Locale.ROOT, "02:5e:%02x:%02x:%02x:%02x", (host >> 8) & 255, host & 255, (ep >> 8) & 255, ep & 255);
    }

    /** Endpoint number {@code k}'s address in 198.18.0.0/16: 198.18.(4+k/250).(1+k%250), unique up to 62,000. */
    static String address(int k) {
        return "198.18." + (4 + k / 250) + "." + (1 + k % 250);
    }

    private double secondsSince(long t0, long t) {
        return (t - t0) / 1e9;
    }

    private void progress(String what) {
        System.err.printf(Locale.ROOT, "[%6.1fs] %s%n", (System.nanoTime() - started) / 1e9, what);
    }

    private String run() throws Exception {
        try (Client client = Client.builder().endpoints(ETCD).build()) {
            KV kv = client.getKVClient();
            ByteSequence root = bytes(PREFIX);

            // 1. The baseline watcher, from the next revision: nothing is missed even if the watch
            //    is set up late, and a second's pause lets it be in place before the clock starts.
            long revision = kv.get(root, GetOption.builder().isPrefix(true).withCountOnly(true).build())
                    .get(10, TimeUnit.SECONDS).getHeader().getRevision();
            Watch.Watcher watcher = client.getWatchClient().watch(root,
                    WatchOption.builder().isPrefix(true).withRevision(revision + 1).build(),
                    Watch.listener(this::onWatch, t -> progress("baseline watch broke: " + t)));

            // 2. Leases, then the keys.
            long leaseStart = System.nanoTime();
            long[] lease = new long[hosts];
            List<CompletableFuture<?>> grants = new ArrayList<>();
            for (int i = 0; i < hosts; i++) {
                int n = i;
                grants.add(client.getLeaseClient().grant(LEASE_TTL_S).thenAccept(r -> lease[n] = r.getID()));
            }
            CompletableFuture.allOf(grants.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            double leaseSeconds = secondsSince(leaseStart, System.nanoTime());
            Views before = daemonView();
            progress(hosts + " leases in " + String.format(Locale.ROOT, "%.2f", leaseSeconds) + " s; daemon before: "
                    + before.macs + " MACs, " + before.peers + " peers");
            Thread.sleep(1000);

            List<Op> ops = new ArrayList<>();
            long now = System.currentTimeMillis();
            for (int i = 0; i < hosts; i++) {
                PutOption leased = PutOption.builder().withLeaseId(lease[i]).build();
                String host = "sim" + i;
                add(ops, PREFIX + "hosts/" + host, "{\"vtep\":\"" + vtep(i) + "\",\"port\":4789,\"since\":" + now + "}", leased);
                add(ops, PREFIX + "members/" + NET + "/" + host, "{}", leased);
                for (int e = 0; e < perHost; e++) {
                    int k = i * perHost + e;
                    add(ops, PREFIX + "addresses/" + NET + "/" + address(k), "{\"host\":\"" + host + "\"}", leased);
                    add(ops, PREFIX + "endpoints/" + NET + "/" + mac(i, e),
                            "{\"host\":\"" + host + "\",\"ip\":\"" + address(k) + "/16\"}", leased);
                }
            }
            int total = ops.size();
            int wantMacs = before.macs + hosts * perHost;
            double putsBefore = etcdPuts();

            AtomicLong daemonPeersNs = new AtomicLong();
            AtomicLong daemonMacsNs = new AtomicLong();
            AtomicReference<Views> last = new AtomicReference<>(before);
            long t0 = System.nanoTime();
            long loadDeadline = t0 + TimeUnit.SECONDS.toNanos(LOAD_DEADLINE_S);
            Thread poller = Thread.ofPlatform().name("daemon-poller").daemon().start(() -> {
                long nextReport = System.nanoTime() + 1_000_000_000L;
                while (System.nanoTime() < loadDeadline) {
                    Views v = daemonViewQuietly();
                    long t = System.nanoTime();
                    if (v != null) {
                        last.set(v);
                        if (v.peers >= hosts && daemonPeersNs.get() == 0) {
                            daemonPeersNs.set(t);
                        }
                        if (v.macs >= wantMacs && daemonMacsNs.get() == 0) {
                            daemonMacsNs.set(t);
                        }
                        if (daemonPeersNs.get() != 0 && daemonMacsNs.get() != 0) {
                            return;
                        }
                    }
                    if (t >= nextReport) {
                        Views l = last.get();
                        progress("watcher " + seen.get() + "/" + total + " keys; daemon " + l.macs + "/" + wantMacs
                                + " MACs, " + l.peers + "/" + hosts + " peers");
                        nextReport = t + 1_000_000_000L;
                    }
                    sleepMs(10);
                }
            });

            Semaphore window = new Semaphore(IN_FLIGHT);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            List<CompletableFuture<?>> txns = new ArrayList<>();
            for (int from = 0; from < total; from += TXN_OPS) {
                window.acquire();
                List<Op> batch = ops.subList(from, Math.min(total, from + TXN_OPS));
                txns.add(kv.txn().Then(batch.toArray(Op[]::new)).commit().whenComplete((r, t) -> {
                    window.release();
                    if (t != null) {
                        failed.compareAndSet(null, t);
                    }
                }));
                if (failed.get() != null) {
                    break;
                }
            }
            CompletableFuture.allOf(txns.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            long writtenNs = System.nanoTime();
            if (failed.get() != null) {
                throw new IOException("a Txn failed: " + failed.get(), failed.get());
            }
            double putsAfter = etcdPuts();
            double writeSeconds = secondsSince(t0, writtenNs);
            progress(total + " keys written in " + String.format(Locale.ROOT, "%.3f", writeSeconds) + " s ("
                    + (total + TXN_OPS - 1) / TXN_OPS + " Txns)");
            poller.join(TimeUnit.NANOSECONDS.toMillis(Math.max(0, loadDeadline - System.nanoTime())) + 1000);
            while (watcherDoneNs == 0 && System.nanoTime() < loadDeadline) {
                sleepMs(10);
            }
            Views loaded = last.get();
            boolean daemonLoaded = daemonPeersNs.get() != 0 && daemonMacsNs.get() != 0;
            boolean measureDaemon = daemonLoaded; // the changes too, while the daemon answers
            long daemonDoneNs = daemonLoaded ? Math.max(daemonPeersNs.get(), daemonMacsNs.get()) : 0;
            progress("loaded: watcher " + (watcherDoneNs == 0 ? "not all" : String.format(Locale.ROOT, "%.3f s",
                    secondsSince(t0, watcherDoneNs))) + ", daemon " + (daemonLoaded ? String.format(Locale.ROOT, "%.3f s",
                    secondsSince(t0, daemonDoneNs)) : "NOT within " + LOAD_DEADLINE_S + " s: " + loaded.macs + " MACs, "
                    + loaded.peers + " peers"));

            // 4. Changes, one after another.
            sleepMs(1000);
            Views settled = daemonViewQuietly();
            if (settled == null) {
                progress("the daemon does not answer on its control socket: changes measured at the watcher only");
                measureDaemon = false;
                settled = new Views(-1, -1);
            }
            long[] watchNs = new long[changes];
            long[] daemonNs = new long[changes];
            long[] ackNs = new long[changes];
            int done = 0;
            int watchMisses = 0;
            int daemonMisses = 0;
            int macsNow = settled.macs;
            Random random = new Random(42);
            long totalDeadline = started + TimeUnit.SECONDS.toNanos(TOTAL_DEADLINE_S);
            for (int c = 0; c < changes && System.nanoTime() < totalDeadline; c++) {
                int h = random.nextInt(hosts);
                String key = PREFIX + "endpoints/" + NET + "/" + String.format(Locale.ROOT, "02:5f:00:00:%02x:%02x",
                        (c >> 8) & 255, c & 255);
                String ip = address(hosts * perHost + c);
                CompletableFuture<Long> watched = new CompletableFuture<>();
                awaitedSeen = watched;
                awaited.set(key);
                int want = macsNow + 1;
                long start = System.nanoTime();
                PutOption leased = PutOption.builder().withLeaseId(lease[h]).build();
                CompletableFuture<Long> ack = kv.txn().Then(
                        Op.put(bytes(PREFIX + "addresses/" + NET + "/" + ip), bytes("{\"host\":\"sim" + h + "\"}"), leased),
                        Op.put(bytes(key), bytes("{\"host\":\"sim" + h + "\",\"ip\":\"" + ip + "/16\"}"), leased))
                        .commit().thenApply(r -> System.nanoTime());
                long deadline = start + TimeUnit.MILLISECONDS.toNanos(CHANGE_TIMEOUT_MS);
                long seenByDaemon = 0;
                if (measureDaemon) {
                    while (System.nanoTime() < deadline) {
                        Views v = daemonViewQuietly();
                        if (v != null && v.macs >= want) {
                            seenByDaemon = System.nanoTime();
                            macsNow = v.macs;
                            break;
                        }
                        sleepMs(CHANGE_POLL_MS);
                    }
                }
                long seenByWatcher;
                try {
                    seenByWatcher = watched.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    seenByWatcher = 0;
                }
                try {
                    ackNs[c] = ack.get(CHANGE_TIMEOUT_MS, TimeUnit.MILLISECONDS) - start;
                } catch (TimeoutException e) {
                    ackNs[c] = -1;
                }
                watchNs[c] = seenByWatcher == 0 ? -1 : seenByWatcher - start;
                daemonNs[c] = seenByDaemon == 0 ? -1 : seenByDaemon - start;
                if (seenByWatcher == 0) {
                    watchMisses++;
                }
                if (seenByDaemon == 0) {
                    daemonMisses++;
                    if (measureDaemon) {
                        Views v = daemonViewQuietly();
                        if (v == null) {
                            progress("change " + c + ": the daemon does not answer on its control socket");
                            measureDaemon = false;
                        } else {
                            macsNow = v.macs;
                            progress("change " + c + ": the daemon did not show it within " + CHANGE_TIMEOUT_MS + " ms ("
                                    + v.macs + " MACs, wanted " + want + ")");
                        }
                    }
                }
                done++;
                if (daemonMisses >= 3 && measureDaemon) {
                    progress("3 changes not seen by the daemon: stopping the changes");
                    break;
                }
            }
            awaited.set(null);
            watcher.close();
            Views end = daemonViewQuietly();
            if (end == null) {
                end = new Views(-1, -1);
            }
            progress(done + " changes: daemon p50 " + ms(pct(daemonNs, done, 0.50)) + " ms, p99 " + ms(pct(daemonNs, done, 0.99))
                    + " ms; watcher p50 " + ms(pct(watchNs, done, 0.50)) + " ms, p99 " + ms(pct(watchNs, done, 0.99)) + " ms");

            StringBuilder j = new StringBuilder("{");
            field(j, "hosts", hosts);
            field(j, "endpoints_per_host", perHost);
            field(j, "keys", total);
            field(j, "txns", (total + TXN_OPS - 1) / TXN_OPS);
            field(j, "lease_grant_s", round(leaseSeconds, 3));
            field(j, "write_s", round(writeSeconds, 3));
            field(j, "writes_per_s", Math.round(total / writeSeconds));
            field(j, "etcd_puts", Double.isNaN(putsAfter - putsBefore) ? null : Math.round(putsAfter - putsBefore));
            field(j, "etcd_puts_per_s", Double.isNaN(putsAfter - putsBefore) ? null : Math.round((putsAfter - putsBefore) / writeSeconds));
            field(j, "load_deadline_s", LOAD_DEADLINE_S);
            field(j, "load_watch_s", watcherDoneNs == 0 ? null : round(secondsSince(t0, watcherDoneNs), 3));
            field(j, "load_daemon_s", daemonLoaded ? round(secondsSince(t0, daemonDoneNs), 3) : null);
            field(j, "daemon_peers_s", daemonPeersNs.get() == 0 ? null : round(secondsSince(t0, daemonPeersNs.get()), 3));
            field(j, "daemon_macs_s", daemonMacsNs.get() == 0 ? null : round(secondsSince(t0, daemonMacsNs.get()), 3));
            field(j, "daemon_macs_before", before.macs);
            field(j, "daemon_macs_loaded", loaded.macs);
            field(j, "daemon_peers_loaded", loaded.peers);
            field(j, "daemon_macs_end", end.macs);
            field(j, "daemon_peers_end", end.peers);
            field(j, "changes", done);
            field(j, "change_watch_misses", watchMisses);
            field(j, "change_daemon_misses", measureDaemon ? daemonMisses : null);
            field(j, "change_ack_p50_ms", ms(pct(ackNs, done, 0.50)));
            field(j, "change_watch_p50_ms", ms(pct(watchNs, done, 0.50)));
            field(j, "change_watch_p99_ms", ms(pct(watchNs, done, 0.99)));
            field(j, "change_watch_max_ms", ms(pct(watchNs, done, 1.0)));
            field(j, "change_daemon_p50_ms", measureDaemon ? ms(pct(daemonNs, done, 0.50)) : null);
            field(j, "change_daemon_p99_ms", measureDaemon ? ms(pct(daemonNs, done, 0.99)) : null);
            field(j, "change_daemon_max_ms", measureDaemon ? ms(pct(daemonNs, done, 1.0)) : null);
            j.setLength(j.length() - 1);
            return j.append('}').toString();
        }
    }

    private void onWatch(WatchResponse r) {
        long t = System.nanoTime();
        String wanted = awaited.get();
        for (WatchEvent e : r.getEvents()) {
            if (e.getEventType() != WatchEvent.EventType.PUT) {
                continue;
            }
            KeyValue k = e.getKeyValue();
            String key = k.getKey().toString(StandardCharsets.UTF_8);
            if (unseen.remove(key) && seen.incrementAndGet() > 0 && unseen.isEmpty()) {
                watcherDoneNs = t;
            }
            if (key.equals(wanted)) {
                awaitedSeen.complete(t);
            }
        }
    }

    private void add(List<Op> ops, String key, String value, PutOption option) {
        unseen.add(key);
        ops.add(Op.put(bytes(key), bytes(value), option));
    }

    /** What the daemon's network shows: MACs in its table, peers (tunnel ports). */
    private record Views(int macs, int peers) {
    }

    private Views daemonView() throws IOException {
        ControlClient.Response r = daemon.exchange("GET", "/v1/networks/" + NET, null);
        if (!r.ok()) {
            throw new IOException("GET /v1/networks/" + NET + ": " + r.status() + " " + r.error());
        }
        JsonNode n = Json.LENIENT.readTree(r.body());
        return new Views(n.path("macCount").asInt(), n.path("peers").size());
    }

    /** {@link #daemonView}, or null when the daemon refuses, fails or takes over 5 s to answer. */
    private Views daemonViewQuietly() {
        CompletableFuture<Views> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                f.complete(daemonView());
            } catch (IOException | RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        try {
            return f.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
            return null;
        }
    }

    /** etcd's own count of puts ({@code etcd_mvcc_put_total}), or NaN. */
    private static double etcdPuts() {
        try {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            String body = http.send(HttpRequest.newBuilder(URI.create(ETCD + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            for (String line : body.split("\n")) {
                if (line.startsWith("etcd_mvcc_put_total ")) {
                    return Double.parseDouble(line.substring(line.indexOf(' ') + 1).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Double.NaN;
    }

    /** The nearest-rank percentile of the first {@code n} samples (-1: a miss, ranked last); -1 when none. */
    private static long pct(long[] samples, int n, double p) {
        if (n == 0) {
            return -1;
        }
        long[] s = Arrays.copyOf(samples, n);
        for (int i = 0; i < n; i++) {
            if (s[i] < 0) {
                s[i] = Long.MAX_VALUE;
            }
        }
        Arrays.sort(s);
        long v = s[Math.min(n - 1, Math.max(0, (int) Math.ceil(p * n) - 1))];
        return v == Long.MAX_VALUE ? -1 : v;
    }

    private static Double ms(long ns) {
        return ns < 0 ? null : round(ns / 1e6, 2);
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static void field(StringBuilder j, String name, Object value) {
        j.append('"').append(name).append("\":").append(value == null ? "null" : value.toString()).append(',');
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    private static void sleepMs(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
