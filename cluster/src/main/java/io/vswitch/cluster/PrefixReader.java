package io.vswitch.cluster;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Reads every key under the prefix in pages, all at one revision: the first page's, so the pages
 * are one snapshot however long they take. One range read of a large prefix fails past gRPC's
 * message limit ({@code RESOURCE_EXHAUSTED: gRPC message exceeds maximum size 4194304}: 100,000
 * keys are ~10 MB); pages of {@link #PAGE} keys stay far below it, and a page that still exceeds
 * it (large values) is read again at half the size, down to one key.
 */
final class PrefixReader {
    /** Keys per page: ~100 kB of the daemons' keys. */
    static final int PAGE = 1000;

    /** Makes one call, turning its failure into a StoreException. */
    @FunctionalInterface
    interface Caller {
        <T> T call(String what, CompletableFuture<T> future) throws EtcdStore.StoreException;
    }

    private final KV kv;
    private final Caller caller;

    PrefixReader(KV kv, Caller caller) {
        this.kv = kv;
        this.caller = caller;
    }

    /**
     * Hands every key-value under {@code root} to {@code page}, one page's list at a time;
     * returns the revision they were read at.
     */
    long read(ByteSequence root, Consumer<List<KeyValue>> page) throws EtcdStore.StoreException {
        ByteSequence end = rangeEnd(root);
        ByteSequence from = root;
        long revision = 0;
        int limit = PAGE;
        while (true) {
            GetOption.Builder o = GetOption.builder().withRange(end).withLimit(limit);
            if (revision != 0) {
                o.withRevision(revision);
            }
            GetResponse r;
            try {
                r = caller.call("list " + root + " (a page of " + limit + " keys)", kv.get(from, o.build()));
            } catch (EtcdStore.StoreException e) {
                if (limit > 1 && String.valueOf(e.getMessage()).contains("RESOURCE_EXHAUSTED")) {
                    limit = Math.max(1, limit / 2);
                    continue;
                }
                throw e;
            }
            if (revision == 0) {
                revision = r.getHeader().getRevision();
            }
            List<KeyValue> kvs = r.getKvs();
            page.accept(kvs);
            if (!r.isMore() || kvs.isEmpty()) {
                return revision;
            }
            from = after(kvs.getLast().getKey());
            limit = Math.min(PAGE, limit * 2);
        }
    }

    /** The first key after {@code key}: itself with a zero byte appended. */
    static ByteSequence after(ByteSequence key) {
        byte[] b = key.getBytes();
        return ByteSequence.from(Arrays.copyOf(b, b.length + 1));
    }

    /** The end of the range of keys starting with {@code prefix}: its last byte below 0xff incremented. */
    static ByteSequence rangeEnd(ByteSequence prefix) {
        byte[] b = prefix.getBytes();
        for (int i = b.length - 1; i >= 0; i--) {
            if (b[i] != (byte) 0xff) {
                byte[] end = Arrays.copyOf(b, i + 1);
                end[i]++;
                return ByteSequence.from(end);
            }
        }
        return ByteSequence.from(new byte[] {0}); // every key: etcd's "from here to the end"
    }
}
