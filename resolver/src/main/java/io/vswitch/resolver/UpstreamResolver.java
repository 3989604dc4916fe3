package io.vswitch.resolver;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.vswitch.core.DnsQuery;
import io.vswitch.core.Port;
import io.vswitch.core.Upstream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * Sends the DNS questions a network cannot answer to the host's resolvers, and their answers
 * back to the container, as a caching-less forwarder (dnsmasq without a cache) would.
 *
 * <p>One thread of its own owns a connected UDP socket per resolver: lanes hand over queries
 * through a queue and never wait. Each query goes out under a fresh random ID (the container's
 * is put back in the answer); an answer is passed on only when it comes from the resolver asked,
 * under that ID, for the same question. A resolver that cannot be reached (no route, ICMP port
 * unreachable) gives way to the next at once; one that does not answer within
 * {@code attemptTimeout}, or answers REFUSED, SERVFAIL or NOTIMP, to the next too (as a stub
 * resolver would); when none is left the container gets the last resolver's answer, REFUSED
 * (none reachable) or SERVFAIL (none answered), never silence, so its resolver does not sit out
 * its 5-second timeout. At most {@value #MAX_PENDING} questions wait at once; more are REFUSED
 * in the data path. A resolver that could not be reached at start is tried again, at most once
 * a second.
 *
 * <p>Answers go out on the lane that took the query ({@link LaneRunner}), which counts them.
 */
public final class UpstreamResolver implements Upstream, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamResolver.class);
    static final int MAX_PENDING = 4096;
    private static final int MAX_MESSAGE = 65535;
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * Runs {@code write} on a lane's thread (where a port's frames are written), then flushes what
     * asynchronous ports (tunnels) queued, then runs {@code done} (the frame may be released).
     */
    @FunctionalInterface
    public interface LaneRunner {
        void run(int lane, Runnable write, Runnable done);
    }

    private static final class Pending {
        final DnsQuery query;
        final int id;
        int server;
        long deadlineNs;
        boolean answeredByNone = true;
        /** A resolver's refusal or failure, passed on when no other resolver does better. */
        byte[] lastResort;

        Pending(DnsQuery query, int id) {
            this.query = query;
            this.id = id;
        }
    }

    private final List<InetSocketAddress> servers;
    private final LaneRunner lanes;
    private final long attemptTimeoutNs;
    private final Selector selector;
    private final DatagramChannel[] channels;
    private final ConcurrentLinkedQueue<DnsQuery> incoming = new ConcurrentLinkedQueue<>();
    /** Questions handed over and not yet answered: what lanes check before they hand over more. */
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private final long[] retryAtNs;
    private final Map<Integer, Pending> pending = new HashMap<>();
    private final ByteBuffer receive = ByteBuffer.allocateDirect(MAX_MESSAGE);
    private final Thread thread;
    private volatile boolean stopped;

    private UpstreamResolver(List<InetSocketAddress> servers, LaneRunner lanes, long attemptTimeoutNs) throws IOException {
        this.servers = List.copyOf(servers);
        this.lanes = lanes;
        this.attemptTimeoutNs = attemptTimeoutNs;
        this.selector = Selector.open();
        this.channels = new DatagramChannel[servers.size()];
        this.retryAtNs = new long[servers.size()];
        for (int i = 0; i < servers.size(); i++) {
            connect(i);
        }
        this.thread = Thread.ofPlatform().daemon().name("vswitch-dns").unstarted(this::run);
    }

    /**
     * Starts forwarding to {@code servers}, in order, each given {@code attemptTimeout} to answer;
     * an empty list refuses every question at once.
     */
    public static UpstreamResolver start(List<InetSocketAddress> servers, LaneRunner lanes, java.time.Duration attemptTimeout)
            throws IOException {
        UpstreamResolver r = new UpstreamResolver(servers, lanes, attemptTimeout.toNanos());
        r.thread.start();
        return r;
    }

    public List<InetSocketAddress> servers() {
        return servers;
    }

    /** Opens the socket to resolver {@code i}; when there is no route now, tries again a second later. */
    private void connect(int i) {
        InetSocketAddress server = servers.get(i);
        try {
            DatagramChannel ch = DatagramChannel.open(server.getAddress() instanceof java.net.Inet6Address
                    ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
            try {
                ch.configureBlocking(false);
                ch.connect(server);
                ch.register(selector, SelectionKey.OP_READ, i);
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
            channels[i] = ch;
        } catch (IOException e) {
            if (retryAtNs[i] == 0) {
                LOG.warn("DNS resolver {} cannot be reached from here now: {}; tried again each second", server, e.getMessage());
            }
            retryAtNs[i] = System.nanoTime() + 1_000_000_000L;
        }
    }

    @Override
    public boolean forward(DnsQuery query) {
        if (stopped || inFlight.incrementAndGet() > MAX_PENDING) {
            inFlight.decrementAndGet();
            return false;
        }
        incoming.add(query);
        selector.wakeup();
        if (stopped) {
            // Stopped meanwhile: whatever is left in the queue is refused here.
            DnsQuery q;
            while ((q = incoming.poll()) != null) {
                inFlight.decrementAndGet();
                answer(q, q.failure(DnsQuery.REFUSED), false);
            }
        }
        return true;
    }

    private void run() {
        try {
            while (!stopped) {
                // Waits for answers or new queries; wakes every 100 ms only while queries are
                // pending, to expire them: an idle daemon's forwarder sleeps.
                selector.select(pending.isEmpty() ? 0 : 100);
                for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                    SelectionKey key = it.next();
                    it.remove();
                    if (key.isValid() && key.isReadable()) {
                        read((Integer) key.attachment());
                    }
                }
                DnsQuery q;
                while ((q = incoming.poll()) != null) {
                    start(q);
                }
                expire(System.nanoTime());
            }
        } catch (IOException | RuntimeException e) {
            if (!stopped) {
                LOG.error("the DNS forwarder stopped: {}", e.toString());
            }
        } finally {
            stopped = true; // lanes refuse in the data path from now on
            for (Pending p : pending.values()) {
                inFlight.decrementAndGet();
                answer(p.query, p.query.failure(DnsQuery.SERVFAIL), false);
            }
            pending.clear();
            DnsQuery q;
            while ((q = incoming.poll()) != null) {
                inFlight.decrementAndGet();
                answer(q, q.failure(DnsQuery.REFUSED), false);
            }
        }
    }

    private void start(DnsQuery q) {
        int id;
        do {
            id = RANDOM.nextInt(0x10000);
        } while (pending.containsKey(id));
        Pending p = new Pending(q, id);
        p.server = -1;
        pending.put(id, p);
        next(p);
    }

    /** Sends {@code p} to the next resolver that takes it, or answers for good when none is left. */
    private void next(Pending p) {
        byte[] m = p.query.message().clone();
        m[0] = (byte) (p.id >>> 8);
        m[1] = (byte) p.id;
        while (++p.server < channels.length) {
            if (channels[p.server] == null && System.nanoTime() - retryAtNs[p.server] >= 0) {
                connect(p.server);
            }
            DatagramChannel ch = channels[p.server];
            if (ch == null) {
                continue;
            }
            try {
                if (ch.write(ByteBuffer.wrap(m)) > 0) {
                    p.deadlineNs = System.nanoTime() + attemptTimeoutNs;
                    return;
                }
                // The socket's buffer is full: as good as unreachable now.
            } catch (IOException e) {
                // ENETUNREACH, ECONNREFUSED from an earlier ICMP: the next one.
            }
        }
        pending.remove(p.id);
        inFlight.decrementAndGet();
        if (p.lastResort != null) {
            answer(p.query, p.lastResort, true);
        } else {
            answer(p.query, p.query.failure(p.answeredByNone ? DnsQuery.REFUSED : DnsQuery.SERVFAIL), false);
        }
    }

    private void read(int server) {
        DatagramChannel ch = channels[server];
        for (;;) {
            receive.clear();
            int n;
            try {
                n = ch.read(receive);
            } catch (IOException e) {
                // Nobody listens there (ICMP port unreachable), or no way there (host or net
                // unreachable): what waits on it goes to the next resolver.
                for (Pending p : List.copyOf(pending.values())) {
                    if (p.server == server) {
                        next(p);
                    }
                }
                if (e instanceof PortUnreachableException) {
                    continue;
                }
                return;
            }
            if (n <= 0) {
                return;
            }
            if (n < 12) {
                continue;
            }
            int id = ((receive.get(0) & 0xFF) << 8) | (receive.get(1) & 0xFF);
            Pending p = pending.get(id);
            if (p == null || p.server != server) {
                continue;
            }
            byte[] answer = new byte[n];
            receive.get(0, answer);
            if (!p.query.answers(answer, n)) {
                continue;
            }
            byte[] original = p.query.message();
            answer[0] = original[0];
            answer[1] = original[1];
            int rcode = answer[3] & 0xF;
            if (rcode == DnsQuery.SERVFAIL || rcode == DnsQuery.REFUSED || rcode == 4) {
                // Refused, failed, not implemented: a stub resolver asks its next server.
                p.lastResort = answer;
                p.answeredByNone = false;
                next(p);
                continue;
            }
            pending.remove(id);
            inFlight.decrementAndGet();
            answer(p.query, answer, true);
        }
    }

    private void expire(long now) {
        List<Pending> late = new ArrayList<>();
        for (Pending p : pending.values()) {
            if (now - p.deadlineNs > 0) {
                late.add(p);
            }
        }
        for (Pending p : late) {
            p.answeredByNone = false; // it was reached, and kept silent
            next(p);
        }
    }

    /** Sends {@code dns} to the query's container from its lane, and counts it there. */
    private void answer(DnsQuery q, byte[] dns, boolean fromUpstream) {
        Port port = q.port();
        io.netty.buffer.ByteBuf[] frame = new io.netty.buffer.ByteBuf[1];
        try {
            lanes.run(q.lane(), () -> {
                if (port.domain() == null) {
                    return; // the container went away meanwhile
                }
                frame[0] = q.frame(PooledByteBufAllocator.DEFAULT, dns, dns.length);
                port.transmit(frame[0], q.lane());
                if (fromUpstream) {
                    q.countAnswered();
                } else {
                    q.countRefused();
                }
            }, () -> {
                if (frame[0] != null) {
                    frame[0].release();
                }
            });
        } catch (RuntimeException e) {
            // The loops are stopping.
        }
    }

    @Override
    public void close() {
        stopped = true;
        selector.wakeup();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (DatagramChannel ch : channels) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
