package io.vswitch.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * This host's session with etcd, on a thread of its own:
 * <ul>
 *   <li>a lease of {@link ClusterOptions#ttl}, kept alive every third of it; this host's own keys
 *       (its VTEP, its memberships, its endpoints) are put under it, so they vanish when the host
 *       dies. Own keys are kept here too ({@link #putOwn}): a change is written once (only a
 *       change), and all of them are put again after a reconnect or a lost lease;</li>
 *   <li>the prefix is listed, then watched from the list's revision + 1; after a compaction or a
 *       broken watch it is listed again and the state rebuilt ({@link ClusterState});</li>
 *   <li>each change reaches the listener as a whole {@link ClusterView}, coalesced: a burst of
 *       events is one view.</li>
 * </ul>
 * When etcd cannot be reached the last view stays: nothing is flushed because etcd is slow or
 * gone. The loss is logged once, {@link #connected()} turns false, and the session retries with
 * a backoff of 0.5 s doubling to a third of the lease's TTL (at most 10 s), so that when etcd
 * returns the lease it renewed on its restart is kept before it runs out; then it lists and
 * reconciles.
 */
public final class EtcdStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EtcdStore.class);
    /** How long one call to etcd may take before it counts as unreachable: a quarter of the lease, 1-3 s. */
    private final long callMs;
    private static final long BACKOFF_MIN_MS = 500;
    private static final long BACKOFF_MAX_MS = 10_000;

    /** The outcome of {@link #createNetwork}: made now, or already there with {@code existing}. */
    public record Created(boolean created, String existing) {
    }

    /** etcd could not be reached, or refused a call. */
    public static final class StoreException extends Exception {
        StoreException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final ClusterOptions options;
    private final Keys keys;
    /** Replaced after a failed attempt: a fresh channel connects at once, where the old one waits out its backoff. */
    private volatile Client client;
    private volatile KV kv;
    private final ClientBuilder builder;
    private final Consumer<ClusterView> listener;
    private final ClusterState state = new ClusterState();
    private final Map<String, String> own = new ConcurrentHashMap<>();
    private final Set<String> dirty = ConcurrentHashMap.newKeySet();
    /** Claims found held by another host when written again: left to it, reported once. */
    private final Set<String> conflicted = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean changed = new AtomicBoolean();
    private final AtomicBoolean relist = new AtomicBoolean();
    private final AtomicLong writes = new AtomicLong();
    private final Object wake = new Object();
    private final Thread session;
    private volatile boolean connected;
    private volatile boolean closed;
    private volatile long lease;
    private volatile ClusterView view = ClusterView.EMPTY;
    private volatile long connectedSince;
    private Watch.Watcher watcher;
    private long keepAliveDue;

    private EtcdStore(ClusterOptions options, Consumer<ClusterView> listener) throws StoreException {
        this.options = options;
        this.keys = new Keys(options.prefix());
        this.listener = listener;
        this.callMs = Math.max(1000, Math.min(3000, options.ttl().toMillis() / 4));
        ClientBuilder b = Client.builder().endpoints(options.etcd().toArray(URI[]::new))
                .connectTimeout(Duration.ofSeconds(2))
                .retryMaxAttempts(2)
                .retryMaxDuration(Duration.ofSeconds(2))
                .keepaliveTime(Duration.ofSeconds(5))
                .keepaliveTimeout(Duration.ofSeconds(3));
        if (options.ca() != null || options.cert() != null) {
            try {
                b.sslContext(ssl -> {
                    if (options.ca() != null) {
                        ssl.trustManager(options.ca().toFile());
                    }
                    if (options.cert() != null) {
                        ssl.keyManager(options.cert().toFile(), options.key().toFile());
                    }
                });
            } catch (Exception e) {
                throw new StoreException("cluster: cannot read the TLS files: " + e.getMessage(), e);
            }
        }
        this.builder = b;
        this.client = b.build();
        this.kv = client.getKVClient();
        this.session = Thread.ofPlatform().name("vswitch-cluster").daemon().unstarted(this::run);
    }

    /**
     * Starts the session: this host's key is written as soon as etcd answers. Returns at once;
     * {@code listener} is called on the session thread with every new view.
     */
    public static EtcdStore start(ClusterOptions options, String vtep, int vtepPort, Consumer<ClusterView> listener)
            throws StoreException {
        EtcdStore store = new EtcdStore(options, listener);
        ObjectNode host = ClusterState.JSON.createObjectNode();
        host.put("vtep", vtep);
        host.put("port", vtepPort);
        host.put("since", System.currentTimeMillis());
        store.putOwn(store.keys.host(options.host()), host.toString());
        store.session.start();
        return store;
    }

    public Keys keys() {
        return keys;
    }

    public ClusterOptions options() {
        return options;
    }

    /** Whether the session holds a lease and a watch right now. */
    public boolean connected() {
        return connected;
    }

    /** When the session last connected (epoch ms), or 0. */
    public long connectedSince() {
        return connectedSince;
    }

    /** The latest view (the last known one while etcd is away). */
    public ClusterView view() {
        return view;
    }

    /** Puts and deletes of own keys written so far. */
    public long writes() {
        return writes.get();
    }

    // ---- own keys ---------------------------------------------------------------------------

    /** Keeps {@code key} = {@code value} under this host's lease; written when it changed. */
    public void putOwn(String key, String value) {
        if (conflicted.contains(key)) {
            return; // another host holds it: not fought over (see flush)
        }
        if (!value.equals(own.put(key, value))) {
            dirty.add(key);
            poke();
        }
    }

    /** Lets an own key go (deleted from etcd). */
    public void removeOwn(String key) {
        conflicted.remove(key);
        if (own.remove(key) != null) {
            dirty.add(key);
            poke();
        }
    }

    /** The own keys now under {@code prefix} (full keys). */
    public Set<String> ownKeys(String prefix) {
        Set<String> out = new java.util.HashSet<>();
        for (String k : own.keySet()) {
            if (k.startsWith(prefix)) {
                out.add(k);
            }
        }
        return out;
    }

    // ---- networks ---------------------------------------------------------------------------

    /**
     * Creates network {@code name} with {@code specJson} for the whole cluster unless it exists
     * (one Txn: compare create-revision 0, put; else get). Two hosts racing get one winner; the
     * other learns what exists.
     */
    public Created createNetwork(String name, String specJson) throws StoreException {
        ByteSequence key = bytes(keys.network(name));
        String value = "{\"spec\":" + specJson + "}";
        TxnResponse r = call("create network " + name, kv.txn()
                .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                .Then(Op.put(key, bytes(value), PutOption.DEFAULT))
                .Else(Op.get(key, GetOption.DEFAULT))
                .commit());
        if (r.isSucceeded()) {
            return new Created(true, null);
        }
        List<KeyValue> kvs = r.getGetResponses().isEmpty() ? List.of() : r.getGetResponses().getFirst().getKvs();
        if (kvs.isEmpty()) {
            return new Created(false, null);
        }
        try {
            JsonNode spec = ClusterState.JSON.readTree(text(kvs.getFirst().getValue())).path("spec");
            return new Created(false, spec.isObject() ? spec.toString() : null);
        } catch (Exception e) {
            return new Created(false, null);
        }
    }

    /**
     * Claims {@code key} for this host (compare-create under its lease): returns null when it was
     * free and is now ours (kept as an own key from then on), else the value it already has.
     */
    public String claim(String key, String value) throws StoreException {
        long l = lease;
        if (l == 0 || !connected) {
            throw new StoreException("cannot claim " + key + ": etcd is not connected", null);
        }
        ByteSequence k = bytes(key);
        TxnResponse r = call("claim " + key, kv.txn()
                .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                .Then(Op.put(k, bytes(value), PutOption.builder().withLeaseId(l).build()))
                .Else(Op.get(k, GetOption.DEFAULT))
                .commit());
        if (r.isSucceeded()) {
            own.put(key, value);
            writes.incrementAndGet();
            return null;
        }
        List<KeyValue> kvs = r.getGetResponses().isEmpty() ? List.of() : r.getGetResponses().getFirst().getKvs();
        return kvs.isEmpty() ? "" : text(kvs.getFirst().getValue());
    }

    /** Deletes a network from the cluster: every host removes it. */
    public void deleteNetwork(String name) throws StoreException {
        call("delete network " + name, kv.delete(bytes(keys.network(name))));
    }

    /** The TTL left on a lease, in seconds (-1 when it has expired or etcd is away). */
    public long leaseTtl(long leaseId) {
        if (leaseId == 0 || !connected) {
            return -1;
        }
        try {
            return client.getLeaseClient().timeToLive(leaseId, LeaseOption.DEFAULT).get(1, TimeUnit.SECONDS).getTTL();
        } catch (Exception e) {
            return -1;
        }
    }

    // ---- the session ------------------------------------------------------------------------

    private void run() {
        long backoff = BACKOFF_MIN_MS;
        boolean warned = false;
        while (!closed) {
            try {
                if (!connected) {
                    connect();
                    backoff = BACKOFF_MIN_MS;
                    warned = false;
                }
                if (System.currentTimeMillis() >= keepAliveDue) {
                    keepAlive();
                }
                if (relist.getAndSet(false)) {
                    list();
                }
                flush();
                deliver();
                synchronized (wake) {
                    if (!closed && !changed.get() && !relist.get() && dirty.isEmpty()) {
                        wake.wait(Math.max(1, Math.min(100, keepAliveDue - System.currentTimeMillis())));
                    }
                }
            } catch (InterruptedException e) {
                break;
            } catch (StoreException | RuntimeException e) {
                if (closed) {
                    break;
                }
                if (connected || !warned) {
                    LOG.warn("cluster: etcd at {} unreachable ({}); forwarding goes on with what is known, retrying",
                            options.etcd(), e.getMessage());
                    warned = true;
                }
                connected = false;
                closeWatcher();
                deliver();
                renewClient();
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    break;
                }
                // Never longer than a third of the lease: when etcd returns, this host's lease
                // (which etcd renews on its restart) is kept alive before it runs out.
                backoff = Math.min(backoff * 2, Math.max(BACKOFF_MIN_MS, Math.min(BACKOFF_MAX_MS, options.ttl().toMillis() / 3)));
            }
        }
    }

    /**
     * Replaces the client after a failed call: the channel of one that saw etcd go away waits out
     * its reconnect backoff (seconds), a fresh one connects when etcd answers, so this host's
     * lease is kept alive well within its TTL after etcd returns.
     */
    private void renewClient() {
        Client old = client;
        try {
            Client fresh = builder.build();
            client = fresh;
            kv = fresh.getKVClient();
        } catch (RuntimeException e) {
            LOG.debug("cluster: cannot make a new etcd client yet: {}", e.toString());
            return;
        }
        try {
            old.close();
        } catch (RuntimeException ignored) {
            // going anyway
        }
    }

    private void connect() throws StoreException {
        if (lease != 0) {
            try {
                long ttl = call("keep the lease alive", client.getLeaseClient().keepAliveOnce(lease)).getTTL();
                if (ttl <= 0) {
                    lease = 0;
                }
            } catch (StoreException e) {
                if (!isLeaseGone(e)) {
                    throw e;
                }
                lease = 0;
            }
        }
        if (lease == 0) {
            lease = call("grant a lease", client.getLeaseClient().grant(options.ttl().toSeconds())).getID();
        }
        dirty.addAll(own.keySet());
        flush();
        keepAliveDue = System.currentTimeMillis() + options.ttl().toMillis() / 3;
        list();
        connected = true;
        connectedSince = System.currentTimeMillis();
        ClusterView v;
        synchronized (state) {
            v = state.view();
        }
        LOG.info("cluster: connected to etcd at {} as host {} (lease {}s): revision {}, {} hosts, {} networks",
                options.etcd(), options.host(), options.ttl().toSeconds(), v.revision(), v.hosts().size(),
                v.networks().size());
    }

    private static boolean isLeaseGone(StoreException e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        return m.contains("lease not found") || m.contains("requested lease not found");
    }

    private void keepAlive() throws StoreException {
        long ttl;
        try {
            ttl = call("keep the lease alive", client.getLeaseClient().keepAliveOnce(lease)).getTTL();
        } catch (StoreException e) {
            if (!isLeaseGone(e)) {
                throw e;
            }
            ttl = 0;
        }
        if (ttl <= 0) {
            LOG.warn("cluster: lease {} of host {} had expired; granting a new one and writing this host's keys again",
                    Long.toHexString(lease), options.host());
            lease = call("grant a lease", client.getLeaseClient().grant(options.ttl().toSeconds())).getID();
            dirty.addAll(own.keySet());
        }
        keepAliveDue = System.currentTimeMillis() + options.ttl().toMillis() / 3;
    }

    /** Lists the prefix, rebuilds the state from it and watches from the next revision. */
    private void list() throws StoreException {
        closeWatcher();
        ByteSequence root = bytes(keys.root());
        GetResponse r = call("list " + keys.root(), kv.get(root, GetOption.builder().isPrefix(true).build()));
        long revision = r.getHeader().getRevision();
        synchronized (state) {
            state.clear();
            for (KeyValue k : r.getKvs()) {
                String rel = keys.relative(text(k.getKey()));
                if (rel != null) {
                    state.apply(rel, text(k.getValue()), k.getLease());
                }
            }
            state.revision(revision);
            changed.set(true);
        }
        watcher = client.getWatchClient().watch(root,
                WatchOption.builder().isPrefix(true).withRevision(revision + 1).build(),
                Watch.listener(this::onWatch, this::onWatchError));
    }

    private void onWatch(WatchResponse r) {
        synchronized (state) {
            for (WatchEvent e : r.getEvents()) {
                KeyValue k = e.getKeyValue();
                String rel = keys.relative(text(k.getKey()));
                if (rel == null) {
                    continue;
                }
                boolean put = e.getEventType() == WatchEvent.EventType.PUT;
                state.apply(rel, put ? text(k.getValue()) : null, k.getLease());
                state.revision(Math.max(k.getModRevision(), 0));
            }
            changed.set(true);
        }
        poke();
    }

    private void onWatchError(Throwable t) {
        if (closed) {
            return;
        }
        if (t instanceof CompactedException c) {
            LOG.info("cluster: the watch fell behind a compaction (revision {}); listing again", c.getCompactedRevision());
        } else {
            LOG.debug("cluster: watch broke: {}", t.toString());
        }
        relist.set(true);
        poke();
    }

    /** Writes own keys that changed: puts under the lease, deletes of those let go. */
    private void flush() throws StoreException {
        if (dirty.isEmpty() || lease == 0) {
            return;
        }
        List<String> batch = new ArrayList<>(dirty);
        List<CompletableFuture<?>> calls = new ArrayList<>(batch.size());
        PutOption leased = PutOption.builder().withLeaseId(lease).build();
        String claims = keys.root() + Keys.ADDRESSES;
        List<String> claimed = new ArrayList<>();
        List<CompletableFuture<TxnResponse>> claimCalls = new ArrayList<>();
        for (String key : batch) {
            dirty.remove(key);
            String value = own.get(key);
            if (value != null && key.startsWith(claims)) {
                // A claim is never overwritten: put only if the key is free or already ours.
                ByteSequence k = bytes(key);
                ByteSequence v = bytes(value);
                CompletableFuture<TxnResponse> c = kv.txn()
                        .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                        .Then(Op.put(k, v, leased))
                        .Else(Op.txn(new Cmp[] {new Cmp(k, Cmp.Op.EQUAL, CmpTarget.value(v))},
                                new Op[] {Op.put(k, v, leased)}, new Op[] {Op.get(k, GetOption.DEFAULT)}))
                        .commit();
                claimed.add(key);
                claimCalls.add(c);
                calls.add(c);
            } else {
                calls.add(value != null ? kv.put(bytes(key), bytes(value), leased)
                        : kv.delete(bytes(key), DeleteOption.DEFAULT));
            }
        }
        try {
            call("write " + batch.size() + " keys", CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)));
            writes.addAndGet(batch.size());
        } catch (StoreException e) {
            dirty.addAll(batch);
            throw e;
        }
        for (int i = 0; i < claimed.size(); i++) {
            TxnResponse r = claimCalls.get(i).join();
            boolean ours = r.isSucceeded() || (!r.getTxnResponses().isEmpty() && r.getTxnResponses().getFirst().isSucceeded());
            if (!ours) {
                String key = claimed.get(i);
                own.remove(key);
                conflicted.add(key);
                LOG.warn("cluster: {} is claimed by another host too (it was given out while this host's claim was"
                        + " away): two endpoints may share that address; detach one of them", keys.relative(key));
            }
        }
    }

    private void deliver() {
        if (!changed.getAndSet(false)) {
            return;
        }
        ClusterView v;
        synchronized (state) {
            v = state.view();
        }
        view = v;
        try {
            listener.accept(v);
        } catch (RuntimeException e) {
            LOG.warn("cluster: applying the view failed: {}", e.toString());
        }
    }

    private void poke() {
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    private void closeWatcher() {
        if (watcher != null) {
            try {
                watcher.close();
            } catch (RuntimeException ignored) {
                // it is going anyway
            }
            watcher = null;
        }
    }

    private <T> T call(String what, CompletableFuture<T> future) throws StoreException {
        try {
            return future.get(callMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new StoreException("cannot " + what + ": etcd did not answer in " + callMs + " ms", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new StoreException("cannot " + what + ": " + c.getMessage(), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while trying to " + what, e);
        }
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    private static String text(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }

    /**
     * Stops the session. With {@code revoke} this host's lease is revoked, so its keys go at
     * once (a clean stop); without, they live out their TTL.
     */
    public void close(boolean revoke) {
        closed = true;
        poke();
        session.interrupt();
        try {
            session.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeWatcher();
        if (revoke && lease != 0 && connected) {
            try {
                client.getLeaseClient().revoke(lease).get(3, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.debug("cluster: revoking the lease: {}", e.toString());
            }
        }
        client.close();
    }

    @Override
    public void close() {
        close(true);
    }
}
