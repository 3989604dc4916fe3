package io.vswitch.dataplane;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.EventExecutor;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.NetworkCounter;
import io.vswitch.core.Port;
import io.vswitch.core.PortCounter;
import io.vswitch.nativetap.FrameIo;
import io.vswitch.nativetap.IoUring;
import io.vswitch.nativetap.NativeCallException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The data plane: {@code threads} Netty epoll event loops, each pinned to a CPU and owning one
 * {@link Lane}, plus one control thread. Any {@link Port} is attached to a network together with
 * the {@link LaneHandle}s it brings (a TAP's queues; a tunnel port brings none, its endpoint's
 * sockets are registered once with {@link #register}); each loop reads its own handles and
 * writes directly to any egress port, so a frame is handled start to finish by the thread that
 * read it (run to completion).
 *
 * <p>Lanes 0..threads-1 are the loops; lane {@code threads} is the control thread's, used for
 * counters it bumps (aging) and for frames the control plane injects. The control thread ages
 * MAC tables once a second ({@link MacAging}) and reports ports that fail.
 *
 * <p>Changes (attach, detach, register) come from one control-plane thread at a time; they reach
 * the loops as tasks run on them, so nothing loop-owned is touched from outside.
 */
public final class Dataplane implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Dataplane.class);

    /** Start-up settings, validated by the caller. */
    public record Options(int threads, List<Integer> cpus, int batch, int maxFrame, long busyPollNs, boolean pin,
            Io io) {
        public Options {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1");
            }
            cpus = cpus == null ? List.of() : List.copyOf(cpus);
            io = io == null ? Io.AUTO : io;
        }

        public Options(int threads, List<Integer> cpus, int batch, int maxFrame, long busyPollNs, boolean pin) {
            this(threads, cpus, batch, maxFrame, busyPollNs, pin, Io.AUTO);
        }

        public static Options defaults(int threads) {
            return new Options(threads, List.of(), 64, 65535 + 18, 0, false, Io.AUTO);
        }
    }

    /**
     * How TAP frames are read and written: {@code IO_URING} batches a batch's reads and its
     * writes into one io_uring_enter each (epoll still says which queues are readable);
     * {@code EPOLL} makes one read(2) or write(2) per frame; {@code AUTO} takes io_uring when
     * the kernel allows it and falls back to epoll, saying why.
     */
    public enum Io {
        AUTO, IO_URING, EPOLL;

        /** The config and API spelling: auto, io_uring, epoll. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** {@link Options#busyPollNs} for adaptive polling: poll after frames while they keep coming. */
    public static final long ADAPTIVE_POLL = BusyPoll.ADAPTIVE;

    /** io_uring entries per lane: a batch's reads, or its writes, fit in one submission. */
    static final int RING_ENTRIES = 256;

    /** Told, on the control thread, when a port went down by itself (its device failed). */
    public interface PortListener {
        void portFailed(Port port, BridgeDomain domain, String reason);
    }

    private final Options options;
    private final MultiThreadIoEventLoopGroup group;
    private final Lane[] loopLanes;
    private final FrameIo.ErrnoSlot[] errnoSlots;
    private final int[] handlesPerLane;
    private final GracePeriod grace;
    private final MacAging aging;
    private final ScheduledExecutorService control;
    private final Map<Port, List<LaneHandle>> attached = new IdentityHashMap<>();
    private final AtomicLong portFailures = new AtomicLong();
    private final long startedNs = System.nanoTime();
    private final PortListener listener;
    private final Io io;
    private final String ioNote;
    /** What ports and networks no longer here had counted, so that totals never go down. */
    private final RetiredCounts retired = new RetiredCounts();
    private volatile boolean stopped;
    private volatile boolean closed;

    private Dataplane(Options options, PortListener listener) {
        Epoll.ensureAvailability();
        this.options = options;
        String refused = options.io() == Io.EPOLL ? null : IoUring.unavailableReason();
        if (options.io() == Io.IO_URING && refused != null) {
            throw new IllegalStateException("dataplane.io is io_uring but the kernel refuses it: " + refused);
        }
        this.io = options.io() == Io.EPOLL || refused != null ? Io.EPOLL : Io.IO_URING;
        this.ioNote = options.io() == Io.EPOLL ? "configured" : refused == null ? "" : "io_uring unavailable: " + refused;
        this.listener = listener;
        int threads = options.threads();
        this.group = new MultiThreadIoEventLoopGroup(threads, new LoopThreads(options.cpus(), options.pin()),
                EpollIoHandler.newFactory(0, () -> new BusyPoll(options.busyPollNs())));
        this.grace = new GracePeriod(threads + 1);
        this.loopLanes = new Lane[threads];
        this.errnoSlots = new FrameIo.ErrnoSlot[threads + 1];
        this.handlesPerLane = new int[threads];
        int i = 0;
        for (EventExecutor executor : group) {
            errnoSlots[i] = new FrameIo.ErrnoSlot();
            loopLanes[i] = new Lane(i, (IoEventLoop) executor, grace, PooledByteBufAllocator.DEFAULT,
                    options.batch(), options.maxFrame(), errnoSlots[i], io == Io.IO_URING ? openRing() : null);
            i++;
        }
        errnoSlots[threads] = new FrameIo.ErrnoSlot();
        this.aging = new MacAging(grace, threads);
        this.control = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vswitch-control");
            t.setDaemon(true);
            return t;
        });
        control.scheduleAtFixedRate(() -> aging.sweep(System.nanoTime()), 1, 1, TimeUnit.SECONDS);
    }

    /** Starts the loops. {@code listener} hears of ports that fail by themselves. */
    public static Dataplane start(Options options, PortListener listener) {
        return new Dataplane(options, listener);
    }

    /** Lanes in all: one per loop and one for the control thread. */
    public int lanes() {
        return loopLanes.length + 1;
    }

    public int controlLane() {
        return loopLanes.length;
    }

    public int threads() {
        return loopLanes.length;
    }

    public Options options() {
        return options;
    }

    /** The lane of event loop {@code index} (0..threads-1). */
    public Lane lane(int index) {
        return loopLanes[index];
    }

    public GracePeriod grace() {
        return grace;
    }

    public long uptimeNs() {
        return System.nanoTime() - startedNs;
    }

    public long portFailures() {
        return portFailures.get();
    }

    /** How TAP frames are read and written: {@link Io#IO_URING} or {@link Io#EPOLL}, chosen at start. */
    public Io io() {
        return io;
    }

    /** Why the I/O is what it is when that is not the default's choice ("configured", or io_uring's refusal); else "". */
    public String ioNote() {
        return ioNote;
    }

    /** io_uring_enter calls and TAP frames read and written through io_uring by all lanes so far. */
    public long[] ringCounts() {
        long[] c = new long[3];
        for (Lane lane : loopLanes) {
            TapRing r = lane.tapRing();
            if (r != null) {
                c[0] += r.enters();
                c[1] += r.framesRead();
                c[2] += r.framesWritten();
            }
        }
        return c;
    }

    /** The io_uring of loop lane {@code lane}, or null (epoll I/O, or the control lane). */
    TapRing tapRing(int lane) {
        return lane < loopLanes.length ? loopLanes[lane].tapRing() : null;
    }

    private static TapRing openRing() {
        try {
            return new TapRing(IoUring.open(RING_ENTRIES));
        } catch (NativeCallException e) {
            throw new IllegalStateException("io_uring for a data-plane loop: " + e.getMessage(), e);
        }
    }

    /** The errno slot of lane {@code lane} (the control lane's too), for native calls made on it. */
    public FrameIo.ErrnoSlot errnoSlot(int lane) {
        return errnoSlots[lane];
    }

    /**
     * Has every loop lane flush {@code queue} after each batch from now on (and after work run
     * outside a batch): the one way a port kind that batches its writes gets them sent.
     */
    public void addEgressQueue(EgressQueue queue) throws InterruptedException {
        for (Lane lane : loopLanes) {
            lane.loop().submit(() -> lane.addEgressQueue(queue)).sync();
        }
    }

    /** Stops flushing {@code queue}; returns once no loop will flush it again (or the loops stopped). */
    public void removeEgressQueue(EgressQueue queue) {
        for (Lane lane : loopLanes) {
            try {
                lane.loop().submit(() -> lane.removeEgressQueue(queue)).sync();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RejectedExecutionException stopped) {
                // The loop is gone: nothing flushes any more.
            }
        }
    }

    /** Starts aging {@code domain}'s MAC table. */
    public void addDomain(BridgeDomain domain) {
        aging.add(domain);
    }

    public void removeDomain(BridgeDomain domain) {
        aging.remove(domain);
        retired.add(domain);
    }

    /** The sum of a port counter ({@link PortCounter#dropIndex} for drops) over every port detached so far. */
    public long retiredPortCount(int index) {
        return retired.port(index);
    }

    /** The sum of a network counter over every network removed so far. */
    public long retiredNetworkCount(NetworkCounter counter) {
        return retired.network(counter);
    }

    /**
     * Adds {@code port} to {@code domain} and starts reading its handles: handle i on loop i when
     * it brings one per loop, else each on the least loaded loop. Registration is a task on each
     * loop. All or nothing: on failure the port is out of the domain again and nothing reads it.
     */
    public void attach(BridgeDomain domain, Port port, List<? extends LaneHandle> handles) throws InterruptedException {
        List<LaneHandle> registered = new ArrayList<>();
        domain.addPort(port);
        try {
            boolean onePerLoop = handles.size() == loopLanes.length;
            for (int i = 0; i < handles.size(); i++) {
                LaneHandle handle = handles.get(i);
                register(onePerLoop ? i : leastLoaded(), handle);
                registered.add(handle);
            }
        } catch (InterruptedException | RuntimeException e) {
            registered.forEach(this::unregister);
            domain.removePort(port);
            throw e;
        }
        synchronized (attached) {
            attached.put(port, List.copyOf(handles));
        }
    }

    private int leastLoaded() {
        synchronized (handlesPerLane) {
            int least = 0;
            for (int i = 1; i < handlesPerLane.length; i++) {
                if (handlesPerLane[i] < handlesPerLane[least]) {
                    least = i;
                }
            }
            return least;
        }
    }

    /** Registers {@code handle} with the loop of lane {@code laneIndex} and arms it for EPOLLIN. */
    public void register(int laneIndex, LaneHandle handle) throws InterruptedException {
        Lane lane = loopLanes[laneIndex];
        IoRegistration registration = lane.loop().register(handle).sync().getNow();
        lane.loop().submit(() -> {
            handle.bind(lane, registration);
            registration.submit(EpollIoOps.EPOLLIN);
        }).sync();
        synchronized (handlesPerLane) {
            handlesPerLane[laneIndex]++;
        }
    }

    /** Stops reading {@code handle} and waits until its loop has let go of it. */
    public void unregister(LaneHandle handle) {
        Lane lane = handle.lane();
        if (lane == null) {
            return;
        }
        try {
            lane.loop().submit(handle::cancel).sync();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RejectedExecutionException e) {
            handle.cancel(); // the loop has stopped: nothing reads the handle any more
        }
        synchronized (handlesPerLane) {
            handlesPerLane[lane.index()]--;
        }
    }

    /** Stops reading the port, removes it from its network and closes it. */
    public void detach(Port port) {
        List<LaneHandle> handles;
        synchronized (attached) {
            handles = attached.remove(port);
        }
        if (handles != null) {
            handles.forEach(this::unregister);
        }
        BridgeDomain domain = port.domain();
        if (domain != null) {
            domain.removePort(port);
        }
        // A lane may still be in a batch that writes to the port: let it finish before its fds
        // close (a closed fd's number is soon another device's), then keep its sums.
        grace.await(1_000_000_000L);
        port.close();
        retired.add(port);
    }

    /** Every attached port. */
    public List<Port> ports() {
        synchronized (attached) {
            return new ArrayList<>(attached.keySet());
        }
    }

    /**
     * A port's device failed ({@code reason} names the call and errno): its handles stop being
     * read, and on the control thread its MACs are forgotten and the listener is told. Called
     * once per port, from any thread.
     */
    public void portFailed(Port port) {
        portFailures.incrementAndGet();
        List<LaneHandle> handles;
        synchronized (attached) {
            handles = attached.getOrDefault(port, List.of());
        }
        for (LaneHandle h : handles) {
            h.cancel();
        }
        BridgeDomain domain = port.domain();
        if (!stopped) {
            try {
                control.execute(() -> {
                    if (domain != null) {
                        domain.forgetPort(port);
                    }
                    listener.portFailed(port, domain, port.failure());
                });
            } catch (RejectedExecutionException stopping) {
                // Closing: nobody to tell.
            }
        }
    }

    /**
     * Stops the loops, within about a second; nothing reads or forwards afterwards. Ports stay
     * open (a caller may delete their devices in a batch first). Idempotent.
     */
    public void stopLoops() {
        if (stopped) {
            return;
        }
        stopped = true;
        control.shutdownNow();
        synchronized (attached) {
            for (List<LaneHandle> handles : attached.values()) {
                handles.forEach(LaneHandle::cancel);
            }
        }
        group.shutdownGracefully(0, 500, TimeUnit.MILLISECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    /**
     * Stops the loops, then closes every port: TAPs this process created and did not make
     * persistent disappear with their fd. Closing may block in the kernel (unregistering a device
     * waits for RCU grace periods, about 20 ms each), so ports close on up to 32 threads at once,
     * whose waits overlap.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopLoops();
        List<Port> ports;
        synchronized (attached) {
            ports = new ArrayList<>(attached.keySet());
        }
        ParallelCloser.closeAll(ports);
        for (Lane lane : loopLanes) {
            lane.releaseBuffers();
        }
    }
}
