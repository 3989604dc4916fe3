package io.vswitch.cluster;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Writes what {@link OwnKeys} says is due, all calls in flight at once, under this host's lease:
 * changed keys as plain puts and deletes; address claims by compare-create, or a put when the
 * key already holds this host's value (a restart, etcd's return), else the claim is lost to the
 * host that holds it; keys to write back or delete only if still as they were seen (compare the
 * mod revision), so a newer write is never clobbered: it is judged when its event arrives.
 */
final class OwnWriter {
    private final OwnKeys own;

    OwnWriter(OwnKeys own) {
        this.own = own;
    }

    /** Writes {@code w} with {@code kv} under {@code lease}; returns the number of writes made. */
    int write(OwnKeys.Work w, KV kv, long lease, PrefixReader.Caller caller) throws EtcdStore.StoreException {
        if (w.isEmpty()) {
            return 0;
        }
        PutOption leased = PutOption.builder().withLeaseId(lease).build();
        List<CompletableFuture<?>> calls = new ArrayList<>(w.size());
        for (Map.Entry<String, String> e : w.puts().entrySet()) {
            calls.add(kv.put(bytes(e.getKey()), bytes(e.getValue()), leased));
        }
        for (String key : w.deletes()) {
            calls.add(kv.delete(bytes(key), DeleteOption.DEFAULT));
        }
        List<String> claimed = new ArrayList<>();
        List<CompletableFuture<TxnResponse>> claimCalls = new ArrayList<>();
        for (Map.Entry<String, String> e : w.claims().entrySet()) {
            // A claim is never overwritten: put only if the key is free or already ours.
            ByteSequence k = bytes(e.getKey());
            ByteSequence v = bytes(e.getValue());
            CompletableFuture<TxnResponse> c = kv.txn()
                    .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                    .Then(Op.put(k, v, leased))
                    .Else(Op.txn(new Cmp[] {new Cmp(k, Cmp.Op.EQUAL, CmpTarget.value(v))},
                            new Op[] {Op.put(k, v, leased)}, new Op[] {Op.get(k, GetOption.DEFAULT)}))
                    .commit();
            claimed.add(e.getKey());
            claimCalls.add(c);
            calls.add(c);
        }
        for (OwnKeys.Rewrite r : w.rewrites()) {
            ByteSequence k = bytes(r.key());
            Op op = r.value() != null ? Op.put(k, bytes(r.value()), leased) : Op.delete(k, DeleteOption.DEFAULT);
            calls.add(kv.txn().If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(r.seen()))).Then(op).commit());
        }
        try {
            caller.call("write " + w.size() + " keys", CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)));
        } catch (EtcdStore.StoreException e) {
            own.failed(w);
            throw e;
        }
        for (int i = 0; i < claimed.size(); i++) {
            TxnResponse r = claimCalls.get(i).join();
            boolean ours = r.isSucceeded() || (!r.getTxnResponses().isEmpty() && r.getTxnResponses().getFirst().isSucceeded());
            if (!ours) {
                own.lost(claimed.get(i));
            }
        }
        return w.size();
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }
}
