package io.vswitch.cluster;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The thread that keeps {@link EtcdStore}'s session: the lease (granted, kept alive every third
 * of its TTL, granted again when lost, and this host's keys written again under it), the read of
 * the prefix in pages then the watch from the next revision (read again after a compaction or a
 * broken watch), each batch of events folded into the {@link ClusterState} and committed, this
 * host's keys written ({@link OwnWriter}), the daemon told of changes, refusals reported.
 *
 * <p>When etcd cannot be reached the last state stays: nothing is flushed because etcd is slow or
 * gone. The loss is logged once, {@link #connected} turns false, and the session retries with a
 * backoff of 0.5 s doubling to a third of the lease's TTL (at most 10 s), so that when etcd
 * returns the lease it renewed on its restart is kept before it runs out; then it lists and
 * reconciles.
 */
final class StoreSession {
    private static final Logger LOG = LoggerFactory.getLogger(StoreSession.class);
    private static final long BACKOFF_MIN_MS = 500;
    private static final long BACKOFF_MAX_MS = 10_000;

    private final ClusterOptions options;
    private final Keys keys;
    /** How long one call to etcd may take before it counts as unreachable: a quarter of the lease, 1-3 s. */
    private final long callMs;
    final EtcdClients clients;
    private final Runnable listener;
    private final Refusals refusals;
    private final OwnKeys own;
    private final OwnWriter writer;
    private final ClusterState state;
    private final AtomicBoolean changed = new AtomicBoolean();
    private final AtomicBoolean relist = new AtomicBoolean();
    final AtomicLong writes = new AtomicLong();
    /** Commits so far: the operators' view is made again when it moved. */
    final AtomicLong commits = new AtomicLong();
    private final Object wake = new Object();
    private final Thread thread;
    volatile boolean connected;
    private volatile boolean closed;
    volatile long lease;
    volatile long connectedSince;
    volatile int hostCount;
    volatile int endpointCount;
    volatile long revision;
    private Watch.Watcher watcher;
    private long keepAliveDue;
    /** What the last read of the prefix took, for the log. */
    private String listed = "";

    StoreSession(ClusterOptions options, Keys keys, Refusals refusals, OwnKeys own, ClusterState state, Runnable listener)
            throws EtcdStore.StoreException {
        this.options = options;
        this.keys = keys;
        this.refusals = refusals;
        this.own = own;
        this.writer = new OwnWriter(own);
        this.state = state;
        this.listener = listener;
        this.callMs = Math.max(1000, Math.min(3000, options.ttl().toMillis() / 4));
        this.clients = new EtcdClients(options);
        this.thread = Thread.ofPlatform().name("vswitch-cluster").daemon().unstarted(this::run);
    }

    void start() {
        thread.start();
    }

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
                refusals.report();
                synchronized (wake) {
                    if (!closed && !changed.get() && !relist.get() && !own.hasWork()) {
                        long now = System.currentTimeMillis();
                        long until = Math.min(keepAliveDue, own.nextDue());
                        wake.wait(Math.max(1, Math.min(100, until - now)));
                    }
                }
            } catch (InterruptedException e) {
                break;
            } catch (EtcdStore.StoreException | RuntimeException e) {
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
                clients.renew();
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

    private void connect() throws EtcdStore.StoreException {
        if (lease != 0 && !leaseAlive()) {
            lease = 0;
        }
        if (lease == 0) {
            grant();
        } else {
            own.lease(lease);
        }
        flush();
        keepAliveDue = System.currentTimeMillis() + options.ttl().toMillis() / 3;
        list();
        connected = true;
        connectedSince = System.currentTimeMillis();
        int networks;
        synchronized (state) {
            networks = state.networks().size();
        }
        LOG.info("cluster: connected to etcd at {} as host {} (lease {}s): revision {}, {} hosts, {} networks ({})",
                options.etcd(), options.host(), options.ttl().toSeconds(), revision, hostCount, networks, listed);
    }

    private void grant() throws EtcdStore.StoreException {
        lease = call("grant a lease", clients.client().getLeaseClient().grant(options.ttl().toSeconds())).getID();
        own.lease(lease);
    }

    /** Keeps the lease alive once; false when etcd says it is gone. */
    private boolean leaseAlive() throws EtcdStore.StoreException {
        try {
            return call("keep the lease alive", clients.client().getLeaseClient().keepAliveOnce(lease)).getTTL() > 0;
        } catch (EtcdStore.StoreException e) {
            if (!isLeaseGone(e)) {
                throw e;
            }
            return false;
        }
    }

    private static boolean isLeaseGone(EtcdStore.StoreException e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        return m.contains("lease not found");
    }

    private void keepAlive() throws EtcdStore.StoreException {
        if (!leaseAlive()) {
            LOG.warn("cluster: lease {} of host {} had expired; granting a new one and writing this host's keys again",
                    Long.toHexString(lease), options.host());
            grant();
        }
        keepAliveDue = System.currentTimeMillis() + options.ttl().toMillis() / 3;
    }

    /** Reads the prefix in pages, rebuilds the state from it and watches from the next revision. */
    private void list() throws EtcdStore.StoreException {
        closeWatcher();
        ByteSequence root = OwnWriter.bytes(keys.root());
        synchronized (state) {
            state.clear();
        }
        long t0 = System.nanoTime();
        int[] read = new int[2];
        long rev = new PrefixReader(clients.kv(), this::call).read(root, page -> {
            read[0] += page.size();
            read[1]++;
            synchronized (state) {
                for (KeyValue k : page) {
                    fold(k);
                }
            }
        });
        commit(rev);
        listed = String.format(java.util.Locale.ROOT, "%d keys read in %d pages in %.0f ms", read[0], read[1],
                (System.nanoTime() - t0) / 1e6);
        watcher = clients.client().getWatchClient().watch(root,
                WatchOption.builder().isPrefix(true).withRevision(rev + 1).build(),
                Watch.listener(this::onWatch, this::onWatchError));
    }

    private void onWatch(WatchResponse r) {
        synchronized (state) {
            for (WatchEvent e : r.getEvents()) {
                KeyValue k = e.getKeyValue();
                if (e.getEventType() == WatchEvent.EventType.PUT) {
                    fold(k);
                } else if (e.getEventType() == WatchEvent.EventType.DELETE) {
                    String rel = keys.relative(text(k.getKey()));
                    if (rel != null) {
                        state.delete(rel);
                    }
                }
            }
        }
        commit(r.getHeader().getRevision());
    }

    /** A put into the state; a value larger than any the daemons write is not even decoded. Under the state's lock. */
    private void fold(KeyValue k) {
        String rel = keys.relative(text(k.getKey()));
        if (rel != null) {
            ByteSequence v = k.getValue();
            state.put(rel, v.size() > KeyReader.MAX_NETWORK ? null : text(v), k.getLease(), k.getVersion(), k.getModRevision());
        }
    }

    private void commit(long rev) {
        boolean any;
        synchronized (state) {
            state.revision(Math.max(rev, 0));
            any = state.commit();
            hostCount = state.hostCount();
            endpointCount = state.endpointCount();
            revision = state.revision();
            commits.incrementAndGet();
        }
        if (any) {
            changed.set(true);
            if (connected) {
                deliver(); // the listener only hands them to the daemon's worker: told at once, not through this thread
            }
        }
        if (own.hasWork()) {
            poke(); // own keys to write back or delete
        }
    }

    private void onWatchError(Throwable t) {
        if (closed) {
            return;
        }
        if (t instanceof CompactedException c) {
            LOG.info("cluster: the watch fell behind a compaction (revision {}); reading the prefix again",
                    c.getCompactedRevision());
        } else {
            LOG.debug("cluster: watch broke: {}", t.toString());
        }
        relist.set(true);
        poke();
    }

    /** Writes own keys that changed, were overwritten or deleted by others, and deletes forged ones. */
    private void flush() throws EtcdStore.StoreException {
        if (lease == 0) {
            return;
        }
        OwnKeys.Work w = own.take();
        try {
            writes.addAndGet(writer.write(w, clients.kv(), lease, this::call));
        } catch (EtcdStore.StoreException e) {
            if (!isLeaseGone(e)) {
                throw e;
            }
            LOG.warn("cluster: lease {} of host {} is gone; granting a new one and writing this host's keys again",
                    Long.toHexString(lease), options.host());
            grant();
        }
    }

    private void deliver() {
        if (!changed.getAndSet(false)) {
            return;
        }
        try {
            listener.run();
        } catch (RuntimeException e) {
            LOG.warn("cluster: telling the daemon of changes failed: {}", e.toString());
        }
    }

    void poke() {
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

    <T> T call(String what, CompletableFuture<T> future) throws EtcdStore.StoreException {
        try {
            return future.get(callMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new EtcdStore.StoreException("cannot " + what + ": etcd did not answer in " + callMs + " ms", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new EtcdStore.StoreException("cannot " + what + ": " + c.getMessage(), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EtcdStore.StoreException("interrupted while trying to " + what, e);
        }
    }

    private static String text(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }

    /**
     * Stops the session. With {@code revoke} this host's lease is revoked, so its keys go at
     * once (a clean stop); without, they live out their TTL.
     */
    void close(boolean revoke) {
        closed = true;
        poke();
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeWatcher();
        if (revoke && lease != 0 && connected) {
            try {
                clients.client().getLeaseClient().revoke(lease).get(3, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.debug("cluster: revoking the lease: {}", e.toString());
            }
        }
        clients.close();
    }
}
