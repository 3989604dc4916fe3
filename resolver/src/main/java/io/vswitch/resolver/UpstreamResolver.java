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
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Sends the DNS questions a network cannot answer to the host's resolvers, and their answers
 * back to the container, as a caching-less forwarder (dnsmasq without a cache) would.
 *
 * <p>One thread of its own owns the sockets: lanes hand over queries through a queue and never
 * wait. As RFC 5452 asks of a resolver, each question goes out from a socket of its own, opened
 * for it and connected to the resolver asked, so under a fresh source port (the kernel picks a
 * free one at random from {@code ip_local_port_range}: {@code udp_lib_get_port} starts at
 * {@code get_random_u32()}) and a fresh random ID (the container's is put back in the answer);
 * it is closed when the question ends. The connected socket takes datagrams only from the
 * resolver's address and port, and an answer is passed on only under the question's ID and
 * for the same question (name, any case, type and class): a forger must hit 16 bits of ID and
 * about 15 of port within the question's lifetime, and the daemon's namespace drops packets
 * from a container that claim an address outside its subnet (the switch's reverse-path rule).
 *
 * <p>A resolver that cannot be reached (no route, ICMP port unreachable) gives way to the next
 * at once; one that does not answer within {@code attemptTimeout}, or answers REFUSED, SERVFAIL
 * or NOTIMP, to the next too (as a stub resolver would); when none is left the container gets
 * the last resolver's answer, REFUSED (none reachable) or SERVFAIL (none answered), never
 * silence, so its resolver does not sit out its 5-second timeout.
 *
 * <p>Bounds: each port may have {@link PortShare.Limits#pending()} questions out and ask
 * {@link PortShare.Limits#perSecond()} a second ({@link PortShare}), and at most
 * {@value #MAX_PENDING} are out in all; a question over a bound is REFUSED in the data path at
 * once, counted by reason ({@link #refusals}) and logged once per port and minute. One container
 * asking for names nobody answers fills only its own share.
 *
 * <p>Answers go out on the lane that took the query ({@link LaneRunner}), which counts them. An
 * idle forwarder sleeps: its thread wakes only for a query, an answer, or, while questions are
 * out, every 100 ms to expire them.
 */
public final class UpstreamResolver implements Upstream, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamResolver.class);
    static final int MAX_PENDING = 4096;
    private static final int MAX_MESSAGE = 65535;
    private static final long SHARE_SWEEP_NS = 10_000_000_000L;
    private static final long REFUSAL_LOG_NS = 60_000_000_000L;
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * Runs {@code write} on a lane's thread (where a port's frames are written), then flushes what
     * asynchronous ports (tunnels) queued, then runs {@code done} (the frame may be released).
     */
    @FunctionalInterface
    public interface LaneRunner {
        void run(int lane, Runnable write, Runnable done);
    }

    /** Questions refused before they went out, by reason. */
    public record Refusals(long portPending, long portRate, long global) {
    }

    /** A question out to one resolver, on a socket of its own. */
    private static final class Pending {
        final DnsQuery query;
        final PortShare share;
        int id;
        int server = -1;
        DatagramChannel channel;
        long deadlineNs;
        boolean answeredByNone = true;
        /** A resolver's refusal or failure, passed on when no other resolver does better. */
        byte[] lastResort;

        Pending(DnsQuery query, PortShare share) {
            this.query = query;
            this.share = share;
        }
    }

    private record Incoming(DnsQuery query, PortShare share) {
    }

    private final List<InetSocketAddress> servers;
    private final LaneRunner lanes;
    private final long attemptTimeoutNs;
    private final PortShare.Limits limits;
    private final Selector selector;
    private final ConcurrentLinkedQueue<Incoming> incoming = new ConcurrentLinkedQueue<>();
    /** Questions handed over and not yet answered: what lanes check before they hand over more. */
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Map<Port, PortShare> shares = new ConcurrentHashMap<>();
    private final Map<Port, Long> refusalLoggedNs = new ConcurrentHashMap<>();
    private final LongAdder refusedPortPending = new LongAdder();
    private final LongAdder refusedPortRate = new LongAdder();
    private final LongAdder refusedGlobal = new LongAdder();
    private final Set<Pending> pending = new HashSet<>();
    private final boolean[] warned;
    private final ByteBuffer receive = ByteBuffer.allocateDirect(MAX_MESSAGE);
    private final Thread thread;
    private long sharesSweptNs = System.nanoTime();
    private volatile boolean stopped;

    private UpstreamResolver(List<InetSocketAddress> servers, LaneRunner lanes, long attemptTimeoutNs, PortShare.Limits limits)
            throws IOException {
        this.servers = List.copyOf(servers);
        this.lanes = lanes;
        this.attemptTimeoutNs = attemptTimeoutNs;
        this.limits = limits;
        this.selector = Selector.open();
        this.warned = new boolean[servers.size()];
        this.thread = Thread.ofPlatform().daemon().name("vswitch-dns").unstarted(this::run);
    }

    /**
     * Starts forwarding to {@code servers}, in order, each given {@code attemptTimeout} to answer,
     * with the default bounds per port; an empty list refuses every question at once.
     */
    public static UpstreamResolver start(List<InetSocketAddress> servers, LaneRunner lanes, java.time.Duration attemptTimeout)
            throws IOException {
        return start(servers, lanes, attemptTimeout, PortShare.Limits.DEFAULT.pending(), PortShare.Limits.DEFAULT.perSecond());
    }

    /**
     * As {@link #start(List, LaneRunner, java.time.Duration)}, each port allowed {@code pendingPerPort}
     * questions out at once and {@code perSecondPerPort} a second (0: no bound).
     */
    public static UpstreamResolver start(List<InetSocketAddress> servers, LaneRunner lanes, java.time.Duration attemptTimeout,
            int pendingPerPort, int perSecondPerPort) throws IOException {
        UpstreamResolver r = new UpstreamResolver(servers, lanes, attemptTimeout.toNanos(),
                new PortShare.Limits(pendingPerPort, perSecondPerPort));
        r.thread.start();
        return r;
    }

    public List<InetSocketAddress> servers() {
        return servers;
    }

    /** Questions refused so far before they went out, by reason. */
    public Refusals refusals() {
        return new Refusals(refusedPortPending.sum(), refusedPortRate.sum(), refusedGlobal.sum());
    }

    /** Questions out now. */
    public int inFlight() {
        return inFlight.get();
    }

    @Override
    public boolean forward(DnsQuery query) {
        if (stopped) {
            return false;
        }
        Port port = query.port();
        PortShare share = shares.get(port);
        if (share == null) {
            share = shares.computeIfAbsent(port, p -> new PortShare());
        }
        PortShare.Refusal refusal = share.admit(limits, System.nanoTime());
        if (refusal != null) {
            (refusal == PortShare.Refusal.PENDING ? refusedPortPending : refusedPortRate).increment();
            logRefusal(port, refusal == PortShare.Refusal.PENDING
                    ? "it has " + limits.pending() + " questions out" : "it asks more than " + limits.perSecond() + " a second");
            return false;
        }
        if (inFlight.incrementAndGet() > MAX_PENDING) {
            inFlight.decrementAndGet();
            share.release();
            refusedGlobal.increment();
            logRefusal(port, MAX_PENDING + " questions are out in all");
            return false;
        }
        incoming.add(new Incoming(query, share));
        selector.wakeup();
        if (stopped) {
            // Stopped meanwhile: whatever is left in the queue is refused here.
            Incoming q;
            while ((q = incoming.poll()) != null) {
                done(q.share());
                answer(q.query(), q.query().failure(DnsQuery.REFUSED), false);
            }
        }
        return true;
    }

    /** Says once a minute per port that its questions are refused, and why. */
    private void logRefusal(Port port, String why) {
        long now = System.nanoTime();
        Long last = refusalLoggedNs.get(port);
        if (last != null && now - last < REFUSAL_LOG_NS) {
            return;
        }
        refusalLoggedNs.put(port, now);
        LOG.warn("port {}: DNS questions refused by the forwarder: {} (logged once a minute)", port.name(), why);
    }

    private void done(PortShare share) {
        share.release();
        inFlight.decrementAndGet();
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
                        read((Pending) key.attachment());
                    }
                }
                Incoming q;
                while ((q = incoming.poll()) != null) {
                    Pending p = new Pending(q.query(), q.share());
                    pending.add(p);
                    next(p);
                }
                long now = System.nanoTime();
                expire(now);
                if (pending.isEmpty() && now - sharesSweptNs > SHARE_SWEEP_NS) {
                    sharesSweptNs = now;
                    // Ports that left their network (detached, deleted) need no share any more.
                    shares.keySet().removeIf(port -> port.domain() == null);
                    refusalLoggedNs.keySet().removeIf(port -> port.domain() == null);
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!stopped) {
                LOG.error("the DNS forwarder stopped: {}", e.toString());
            }
        } finally {
            stopped = true; // lanes refuse in the data path from now on
            for (Pending p : pending) {
                close(p);
                done(p.share);
                answer(p.query, p.query.failure(DnsQuery.SERVFAIL), false);
            }
            pending.clear();
            Incoming q;
            while ((q = incoming.poll()) != null) {
                done(q.share());
                answer(q.query(), q.query().failure(DnsQuery.REFUSED), false);
            }
        }
    }

    /**
     * Sends {@code p} to the next resolver that takes it, from a new socket under a new ID, or
     * answers for good when none is left.
     */
    private void next(Pending p) {
        close(p);
        while (++p.server < servers.size()) {
            p.id = RANDOM.nextInt(0x10000);
            byte[] m = p.query.message().clone();
            m[0] = (byte) (p.id >>> 8);
            m[1] = (byte) p.id;
            try {
                p.channel = open(p.server);
                p.channel.register(selector, SelectionKey.OP_READ, p);
                if (p.channel.write(ByteBuffer.wrap(m)) > 0) {
                    p.deadlineNs = System.nanoTime() + attemptTimeoutNs;
                    return;
                }
                // The socket's buffer is full: as good as unreachable now.
            } catch (IOException e) {
                // ENETUNREACH, ECONNREFUSED, EMFILE: the next one.
                if (!warned[p.server]) {
                    warned[p.server] = true;
                    LOG.warn("DNS resolver {} cannot be asked from here now: {}; the next one is", servers.get(p.server), e.getMessage());
                }
            }
            close(p);
        }
        pending.remove(p);
        done(p.share);
        if (p.lastResort != null) {
            answer(p.query, p.lastResort, true);
        } else {
            answer(p.query, p.query.failure(p.answeredByNone ? DnsQuery.REFUSED : DnsQuery.SERVFAIL), false);
        }
    }

    /** A new socket connected to resolver {@code i}, on a port the kernel picks at random. */
    private DatagramChannel open(int i) throws IOException {
        InetSocketAddress server = servers.get(i);
        DatagramChannel ch = DatagramChannel.open(server.getAddress() instanceof java.net.Inet6Address
                ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        try {
            ch.configureBlocking(false);
            ch.connect(server);
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static void close(Pending p) {
        if (p.channel != null) {
            try {
                p.channel.close(); // also cancels its key
            } catch (IOException ignored) {
                // closing
            }
            p.channel = null;
        }
    }

    private void read(Pending p) {
        for (;;) {
            DatagramChannel ch = p.channel;
            if (ch == null) {
                return;
            }
            receive.clear();
            int n;
            try {
                n = ch.read(receive);
            } catch (IOException e) {
                // Nobody listens there (ICMP port unreachable), or no way there (host or net
                // unreachable): the next resolver.
                next(p);
                return;
            }
            if (n <= 0) {
                return;
            }
            int id = n < 12 ? -1 : ((receive.get(0) & 0xFF) << 8) | (receive.get(1) & 0xFF);
            if (id != p.id) {
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
                return;
            }
            close(p);
            pending.remove(p);
            done(p.share);
            answer(p.query, answer, true);
            return;
        }
    }

    private void expire(long now) {
        List<Pending> late = null;
        for (Pending p : pending) {
            if (now - p.deadlineNs > 0) {
                if (late == null) {
                    late = new ArrayList<>();
                }
                late.add(p);
            }
        }
        if (late != null) {
            for (Pending p : late) {
                p.answeredByNone = false; // it was reached, and kept silent
                next(p);
            }
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
        try {
            selector.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
