package io.vswitch.tapio;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.GracePeriod;
import io.vswitch.nativetap.CpuAffinity;
import io.vswitch.nativetap.FrameIo;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.TapDevice;
import io.vswitch.nativetap.TapOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The data plane: {@code threads} Netty epoll event loops, each pinned to a CPU and owning one
 * {@link Lane}, plus one control thread. TAP ports are spread over the loops (the least loaded
 * takes the next); each loop reads its own ports and writes directly to any egress port, so a
 * frame is handled start to finish by the thread that read it (run to completion).
 *
 * <p>Lanes 0..threads-1 are the loops; lane {@code threads} is the control thread's, used for
 * counters it bumps (aging) and for frames the control plane injects. The control thread ages
 * MAC tables once a second and does everything that must not run on a loop.
 */
public final class Dataplane implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Dataplane.class);

    /** Start-up settings, validated by the caller. */
    public record Options(int threads, List<Integer> cpus, int batch, int maxFrame, long busyPollNs, boolean pin) {
        public Options {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1");
            }
            cpus = cpus == null ? List.of() : List.copyOf(cpus);
        }

        public Options(int threads, List<Integer> cpus, int batch, int maxFrame) {
            this(threads, cpus, batch, maxFrame, 0, true);
        }

        public static Options defaults(int threads) {
            return new Options(threads, List.of(), 64, 65535);
        }
    }

    /** Told when a port goes down by itself. */
    public interface PortListener {
        void portDown(TapPort port, String reason);
    }

    private final Options options;
    private final MultiThreadIoEventLoopGroup group;
    private final Lane[] loopLanes;
    private final FrameIo.ErrnoSlot[] errnoSlots;
    private final SegmentWriter[] segmentWriters;
    private final int[] portsPerLane;
    private final GracePeriod grace;
    private final ScheduledExecutorService control;
    private final List<BridgeDomain> domains = new CopyOnWriteArrayList<>();
    private final List<TapPort> ports = new CopyOnWriteArrayList<>();
    private final AtomicLong portFailures = new AtomicLong();
    private final long startedNs = System.nanoTime();
    private volatile PortListener listener = (port, reason) -> { };
    private volatile boolean closed;

    private Dataplane(Options options) {
        Epoll.ensureAvailability();
        this.options = options;
        int threads = options.threads();
        int cpuCount = Runtime.getRuntime().availableProcessors();
        AtomicInteger next = new AtomicInteger();
        ThreadFactory pinned = runnable -> {
            int i = next.getAndIncrement();
            int cpu = options.cpus().isEmpty() ? i % cpuCount : options.cpus().get(i % options.cpus().size());
            Thread t = new FastThreadLocalThread(() -> {
                if (options.pin()) {
                    try {
                        CpuAffinity.pinCurrentThread(cpu);
                    } catch (NativeCallException | IllegalArgumentException e) {
                        LOG.warn("event loop {} not pinned to CPU {}: {}", i, cpu, e.getMessage());
                    }
                }
                runnable.run();
            }, "vswitch-loop-" + i + (options.pin() ? "-cpu" + cpu : ""));
            t.setDaemon(false);
            return t;
        };
        this.group = new MultiThreadIoEventLoopGroup(threads, pinned,
                EpollIoHandler.newFactory(0, () -> new BusyPoll(options.busyPollNs())));
        this.grace = new GracePeriod(threads + 1);
        this.loopLanes = new Lane[threads];
        this.errnoSlots = new FrameIo.ErrnoSlot[threads + 1];
        this.portsPerLane = new int[threads];
        int i = 0;
        for (EventExecutor executor : group) {
            loopLanes[i] = new Lane(i, (IoEventLoop) executor, grace, PooledByteBufAllocator.DEFAULT,
                    options.batch(), options.maxFrame());
            errnoSlots[i] = loopLanes[i].errno();
            i++;
        }
        errnoSlots[threads] = new FrameIo.ErrnoSlot();
        this.segmentWriters = new SegmentWriter[threads + 1];
        for (int lane = 0; lane <= threads; lane++) {
            segmentWriters[lane] = new SegmentWriter(PooledByteBufAllocator.DEFAULT, lane);
        }
        this.control = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vswitch-control");
            t.setDaemon(true);
            return t;
        });
        control.scheduleAtFixedRate(this::sweep, 1, 1, TimeUnit.SECONDS);
    }

    public static Dataplane start(Options options) {
        return new Dataplane(options);
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

    public void setPortListener(PortListener listener) {
        this.listener = listener;
    }

    FrameIo.ErrnoSlot errnoSlot(int lane) {
        return errnoSlots[lane];
    }

    SegmentWriter segmentWriter(int lane) {
        return segmentWriters[lane];
    }

    public void addDomain(BridgeDomain domain) {
        domains.add(domain);
    }

    public void removeDomain(BridgeDomain domain) {
        domains.remove(domain);
        if (!closed) {
            control.execute(() -> movesSeen.remove(domain));
        }
    }

    /**
     * How many queues a TAP port gets: one per loop with IFF_MULTI_QUEUE when there are several
     * loops, so each loop owns a queue of every port.
     */
    public TapOptions tapOptions(boolean vnetHeader) {
        return new TapOptions(vnetHeader, loopLanes.length > 1);
    }

    public int queuesPerPort(TapOptions options) {
        return options.multiQueue() ? loopLanes.length : 1;
    }

    /**
     * Opens (creating if absent) the TAP device {@code name} with one queue per loop (or one),
     * sets its MTU and brings it up in the daemon's namespace. The port is not attached yet.
     */
    public TapPort openTap(String name, int mtu, TapOptions tapOptions) throws NativeCallException {
        List<TapDevice> queues = TapDevice.openQueues(name, tapOptions, queuesPerPort(tapOptions), false);
        try {
            queues.get(0).setMtu(mtu);
            queues.get(0).setUp(true);
        } catch (NativeCallException e) {
            queues.forEach(TapDevice::close);
            throw e;
        }
        return new TapPort(queues, this);
    }

    /** Wraps queues opened elsewhere (re-attached in a container's namespace) as a port. */
    public TapPort adopt(List<TapDevice> queues) {
        return new TapPort(queues, this);
    }

    /**
     * Adds the port to its network and starts reading it: queue i on loop i when it has one
     * queue per loop, else its one queue on the least loaded loop. Registration is a task on
     * each loop; nothing loop-owned is touched from here.
     */
    public void attach(BridgeDomain domain, TapPort port) throws InterruptedException {
        int[] lanes = new int[port.queueCount()];
        synchronized (portsPerLane) {
            if (lanes.length == loopLanes.length) {
                for (int i = 0; i < lanes.length; i++) {
                    lanes[i] = i;
                }
            } else {
                int least = 0;
                for (int i = 1; i < portsPerLane.length; i++) {
                    if (portsPerLane[i] < portsPerLane[least]) {
                        least = i;
                    }
                }
                java.util.Arrays.fill(lanes, least);
            }
            for (int lane : lanes) {
                portsPerLane[lane]++;
            }
        }
        domain.addPort(port);
        try {
            for (int i = 0; i < lanes.length; i++) {
                Lane lane = loopLanes[lanes[i]];
                TapQueue queue = port.queue(i);
                IoRegistration registration = lane.loop().register(queue).sync().getNow();
                queue.bind(lane, registration);
                lane.loop().submit(() -> registration.submit(EpollIoOps.EPOLLIN)).sync();
            }
        } catch (InterruptedException | RuntimeException e) {
            unregister(port);
            domain.removePort(port);
            throw e;
        }
        ports.add(port);
    }

    private void unregister(TapPort port) {
        for (int i = 0; i < port.queueCount(); i++) {
            TapQueue queue = port.queue(i);
            Lane lane = queue.lane();
            if (lane == null) {
                continue;
            }
            try {
                lane.loop().submit(queue::unregister).sync();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (portsPerLane) {
                portsPerLane[lane.index()]--;
            }
        }
    }

    /** Stops reading the port, removes it from its network and closes its device. */
    public void detach(TapPort port) {
        BridgeDomain domain = port.domain();
        unregister(port);
        if (domain != null) {
            domain.removePort(port);
        }
        ports.remove(port);
        port.close();
    }

    public List<TapPort> ports() {
        return new ArrayList<>(ports);
    }

    void portFailed(TapPort port, String reason) {
        portFailures.incrementAndGet();
        BridgeDomain domain = port.domain();
        LOG.warn("port {}{} down: {}", port.name(), domain != null ? " (network " + domain.name() + ")" : "", reason);
        if (!closed) {
            control.execute(() -> {
                if (domain != null) {
                    domain.forgetPort(port);
                }
                listener.portDown(port, reason);
            });
        }
    }

    /** Ages every network's table and reports MAC moves; runs on the control thread. */
    private void sweep() {
        long now = System.nanoTime();
        for (BridgeDomain domain : domains) {
            try {
                reportMoves(domain);
                domain.sweep(now, grace, controlLane());
            } catch (RuntimeException e) {
                LOG.error("aging sweep of network {} failed", domain.name(), e);
            }
        }
    }

    private final java.util.Map<BridgeDomain, Long> movesSeen = new java.util.IdentityHashMap<>();

    /**
     * MAC moves are logged from here, once a second at most per network with a count, never
     * from the data path: a MAC flapping between two ports (a loop, or a duplicated MAC) would
     * otherwise log thousands of lines a second.
     */
    private void reportMoves(BridgeDomain domain) {
        long moves = domain.count(io.vswitch.core.NetworkCounter.MOVED);
        Long before = movesSeen.put(domain, moves);
        long delta = moves - (before == null ? 0 : before);
        if (delta > 0) {
            io.vswitch.core.Port to = domain.lastMovedTo();
            String mac = io.vswitch.core.MacAddress.toString(domain.lastMovedMac());
            if (delta == 1) {
                LOG.info("network {}: MAC {} moved to port {}", domain.name(), mac, to == null ? "?" : to.name());
            } else {
                LOG.warn("network {}: {} MAC moves in the last second (latest: {} to port {}); a loop or a duplicated MAC?",
                        domain.name(), delta, mac, to == null ? "?" : to.name());
            }
        }
    }

    /** Runs a task on the control thread. */
    public void onControl(Runnable task) {
        control.execute(task);
    }

    /**
     * Stops the loops (within about a second), then closes every port's device: TAPs this
     * process created and did not make persistent disappear with their fd.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        control.shutdownNow();
        for (TapPort port : ports) {
            for (int i = 0; i < port.queueCount(); i++) {
                TapQueue queue = port.queue(i);
                Lane lane = queue.lane();
                if (lane != null && !lane.loop().isShuttingDown()) {
                    lane.loop().execute(queue::unregister);
                }
            }
        }
        group.shutdownGracefully(0, 500, TimeUnit.MILLISECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
        for (TapPort port : ports) {
            port.close();
        }
        for (Lane lane : loopLanes) {
            lane.releaseBuffers();
        }
        for (SegmentWriter writer : segmentWriters) {
            writer.release();
        }
    }
}
