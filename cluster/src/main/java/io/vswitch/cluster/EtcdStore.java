package io.vswitch.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * This host's session with etcd, on a thread of its own:
 * <ul>
 *   <li>a lease of {@link ClusterOptions#ttl}, kept alive every third of it; this host's own keys
 *       ({@link OwnKeys}: its VTEP, memberships, endpoints, claims) are put under it, so they
 *       vanish when the host dies, and written back when someone else overwrites or deletes
 *       them;</li>
 *   <li>the prefix is read in pages ({@link PrefixReader}), then watched from that revision + 1;
 *       after a compaction or a broken watch it is read again and the state rebuilt;</li>
 *   <li>every value is read and checked ({@link KeyReader}, {@link ClusterState}): refused ones
 *       are counted ({@link Refusals}), never applied;</li>
 *   <li>what changes in what applies here is collected ({@link ClusterChanges}); the listener is
 *       told, and takes them ({@link #takeChanges}): a burst of events is one take.</li>
 * </ul>
 * The session itself (lease, pages, watch, writes, reconnects) is {@link StoreSession}'s.
 */
public final class EtcdStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EtcdStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();
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
    private final Refusals refusals = new Refusals();
    private final OwnKeys own;
    private final ClusterState state;
    private final StoreSession session;
    private ClusterView view = ClusterView.EMPTY;
    private long viewAt = -1;

    private EtcdStore(ClusterOptions options, Underlay underlay, Runnable listener) throws StoreException {
        this.options = options;
        this.keys = new Keys(options.prefix());
        this.own = new OwnKeys(keys, keys.host(options.host()), System::currentTimeMillis);
        this.state = new ClusterState(options.host(), new KeyReader(underlay, options.host()), refusals, own);
        this.session = new StoreSession(options, keys, refusals, own, state, listener);
    }

    /**
     * Starts the session: this host's key is written as soon as etcd answers. Returns at once;
     * {@code listener} is called on the session thread when there are changes to take.
     * Peers' VTEPs must be unicast addresses of {@code underlay} other than its own.
     */
    public static EtcdStore start(ClusterOptions options, Underlay underlay, Runnable listener) throws StoreException {
        EtcdStore store = new EtcdStore(options, underlay, listener);
        ObjectNode host = JSON.createObjectNode();
        host.put("vtep", underlay.self().getHostAddress());
        host.put("port", underlay.port());
        host.put("since", System.currentTimeMillis());
        store.putOwn(store.keys.host(options.host()), host.toString());
        store.session.start();
        return store;
    }

    /** As {@link #start(ClusterOptions, Underlay, Runnable)} with the underlay of the interface holding {@code vtep}. */
    public static EtcdStore start(ClusterOptions options, String vtep, int port, Runnable listener) throws StoreException {
        Inet4Address a = (Inet4Address) InetAddress.ofLiteral(vtep);
        List<String> prefixes = options.underlay() != null ? options.underlay() : Underlay.prefixesOf(a);
        return start(options, new Underlay(a, port, prefixes), listener);
    }

    public Keys keys() {
        return keys;
    }

    public ClusterOptions options() {
        return options;
    }

    /** Whether the session holds a lease and a watch right now. */
    public boolean connected() {
        return session.connected;
    }

    /** When the session last connected (epoch ms), or 0. */
    public long connectedSince() {
        return session.connectedSince;
    }

    /** A copy of what the cluster holds, for operators; made when asked, once per change. */
    public ClusterView view() {
        synchronized (state) {
            if (viewAt != session.commits.get()) {
                viewAt = session.commits.get();
                view = state.view();
            }
            return view;
        }
    }

    /** What changed in what applies here since the last take. */
    public ClusterChanges takeChanges() {
        synchronized (state) {
            return state.takeChanges();
        }
    }

    /** All that applies to network {@code net} now, as changes from nothing (for a network just added here). */
    public ClusterChanges snapshot(String net) {
        synchronized (state) {
            return state.snapshot(net);
        }
    }

    /** The VTEPs of the hosts with ports in {@code net}, this one left out, in address order. */
    public List<Inet4Address> peers(String net) {
        synchronized (state) {
            return state.peers(net);
        }
    }

    /** The other hosts with ports in {@code net}, by name. */
    public List<String> peerHosts(String net) {
        synchronized (state) {
            return state.peerHosts(net);
        }
    }

    /** The host holding address {@code ip} of {@code net} (a lingering claim included), or null. */
    public String holder(String net, InetAddress ip) {
        synchronized (state) {
            return state.holder(net, ip);
        }
    }

    public boolean hasNetwork(String name) {
        synchronized (state) {
            return state.hasNetwork(name);
        }
    }

    public Map<String, String> networks() {
        synchronized (state) {
            return state.networks();
        }
    }

    public int hostCount() {
        return session.hostCount;
    }

    public int endpointCount() {
        return session.endpointCount;
    }

    public long revision() {
        return session.revision;
    }

    public Refusals refusals() {
        return refusals;
    }

    /** Puts and deletes of own keys written so far. */
    public long writes() {
        return session.writes.get();
    }

    /** Own keys written back (after someone else overwrote or deleted them) or forged ones deleted, so far. */
    public long rewrites() {
        return own.rewritten();
    }

    // ---- own keys ---------------------------------------------------------------------------

    /** Keeps {@code key} = {@code value} under this host's lease; written when it changed. */
    public void putOwn(String key, String value) {
        if (own.put(key, value)) {
            session.poke();
        }
    }

    /** Lets an own key go (deleted from etcd). */
    public void removeOwn(String key) {
        if (own.remove(key)) {
            session.poke();
        }
    }

    /** The own keys now under {@code prefix} (full keys). */
    public Set<String> ownKeys(String prefix) {
        return own.keysUnder(prefix);
    }

    /** The daemon has put all of its keys once: keys naming this host that it did not put are forged from now on. */
    public void ownKeysComplete() {
        own.ready();
        session.poke();
    }

    // ---- networks and claims ----------------------------------------------------------------

    /**
     * Creates network {@code name} with {@code specJson} for the whole cluster unless it exists
     * (one Txn: compare create-revision 0, put; else get). Two hosts racing get one winner; the
     * other learns what exists.
     */
    public Created createNetwork(String name, String specJson) throws StoreException {
        ByteSequence key = OwnWriter.bytes(keys.network(name));
        String value = "{\"spec\":" + specJson + "}";
        TxnResponse r = session.call("create network " + name, session.clients.kv().txn()
                .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                .Then(Op.put(key, OwnWriter.bytes(value), PutOption.DEFAULT))
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
            JsonNode spec = JSON.readTree(text(kvs.getFirst().getValue())).path("spec");
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
        long l = session.lease;
        if (l == 0 || !session.connected) {
            throw new StoreException("cannot claim " + key + ": etcd is not connected", null);
        }
        ByteSequence k = OwnWriter.bytes(key);
        boolean had = own.value(key) != null;
        if (!had) {
            own.claiming(key, value);
        }
        TxnResponse r;
        try {
            r = session.call("claim " + key, session.clients.kv().txn()
                    .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                    .Then(Op.put(k, OwnWriter.bytes(value), PutOption.builder().withLeaseId(l).build()))
                    .Else(Op.get(k, GetOption.DEFAULT))
                    .commit());
        } catch (StoreException e) {
            if (!had) {
                own.unclaimed(key);
            }
            throw e;
        }
        if (r.isSucceeded()) {
            session.writes.incrementAndGet();
            return null;
        }
        if (!had) {
            own.unclaimed(key);
        }
        List<KeyValue> kvs = r.getGetResponses().isEmpty() ? List.of() : r.getGetResponses().getFirst().getKvs();
        return kvs.isEmpty() ? "" : text(kvs.getFirst().getValue());
    }

    /** Deletes a network from the cluster: every host removes it (unless it uses it: then it is created again). */
    public void deleteNetwork(String name) throws StoreException {
        session.call("delete network " + name, session.clients.kv().delete(OwnWriter.bytes(keys.network(name))));
    }

    /** The TTL left on a lease, in seconds (-1 when it has expired or etcd is away). */
    public long leaseTtl(long leaseId) {
        if (leaseId == 0 || !session.connected) {
            return -1;
        }
        try {
            return session.clients.client().getLeaseClient().timeToLive(leaseId, LeaseOption.DEFAULT).get(1, TimeUnit.SECONDS).getTTL();
        } catch (Exception e) {
            return -1;
        }
    }

    /**
     * Stops the session. With {@code revoke} this host's lease is revoked, so its keys go at
     * once (a clean stop); without, they live out their TTL.
     */
    public void close(boolean revoke) {
        session.close(revoke);
    }

    @Override
    public void close() {
        close(true);
    }

    private static String text(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }
}
