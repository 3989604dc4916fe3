package io.vswitch.tapio;

import io.vswitch.core.Port;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.NetworkNamespace;
import io.vswitch.nativetap.Rtnetlink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads what the kernel knows of each TAP from the namespace it lives in now: whether its link
 * is up there (a container may set its interface down) and how many frames its own queue
 * dropped before the switch could read them (tx_dropped: a burst the loops did not keep up
 * with). The switch sees neither on its fds, and an operator must: they become the port's link
 * state and its {@code device-queue} drops ({@link Port#setLink}).
 *
 * <p>Runs on a thread of its own, which enters each namespace in turn ({@code setns} changes
 * only the calling thread; the ports' namespaces come from TUNGETDEVNETNS on their fds), asks
 * rtnetlink there, and returns to its own. A sweep asks once per namespace for a dump when it
 * holds many ports, else per port. Sweeps come every 2 s, less often with thousands of ports so
 * that watching costs at most a few percent of a core.
 *
 * <p>A TAP that something else moved into a namespace (Docker does, for its network plugins)
 * comes up there with the kernel's default queueing discipline: for a multi-queue TAP that is
 * mq with a pfifo_fast per queue, 6.4 MB of kernel memory the switch never needs (it reads the
 * TAP as fast as the kernel writes it). The first sweep that finds a TAP in a new namespace
 * with a default discipline gives it noqueue, as the switch does for the TAPs it places itself;
 * a discipline someone chose (tc qdisc add ... netem, htb) is left alone.
 *
 * <p>A container's namespace deleted with its TAP inside: when the TAP's fds were opened in that
 * namespace (the switch places containers' TAPs so) they hold it alive, and nothing fails
 * ({@link NamespaceHolders} explains). Each sweep asks whether anything else still holds it; when
 * nothing does, the port fails (down, counted in {@code port_failures}, told to the registry
 * once), and once no loop can be using its fds any more they are closed, so the namespace and
 * the device go.
 */
public final class LinkWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LinkWatcher.class);

    /** What the kernel attaches on its own when a device comes up. */
    private static final java.util.Set<String> DEFAULT_QDISCS = java.util.Set.of("mq", "pfifo_fast", "fq_codel", "fq");

    private final Dataplane dataplane;
    private final NamespaceHolders holders = new NamespaceHolders(LinkWatcher::namespaceInode);
    private long ownInode;
    private final Thread thread;
    private volatile boolean stopped;
    private boolean warned;
    /** Sweeps begun and sweeps done; guarded by this. */
    private long begun;
    private long sweeps;
    private boolean wanted;
    /** Until when (System.nanoTime) sweeps come quickly: a runtime is moving a TAP right now. */
    private long burstUntilNs;

    private LinkWatcher(Dataplane dataplane) {
        this.dataplane = dataplane;
        this.thread = Thread.ofPlatform().daemon().name("vswitch-links").unstarted(this::run);
    }

    public static LinkWatcher start(Dataplane dataplane) {
        LinkWatcher w = new LinkWatcher(dataplane);
        w.thread.start();
        return w;
    }

    private void run() {
        int own;
        try {
            own = NetworkNamespace.ownFd();
            ownInode = NetworkNamespace.inodeOf(own);
        } catch (IOException e) {
            LOG.warn("link states of TAPs are not watched: {}", e.getMessage());
            return;
        }
        try {
            while (!stopped) {
                synchronized (this) {
                    begun++;
                }
                long began = System.nanoTime();
                int ports = sweep(own);
                long tookMs = (System.nanoTime() - began) / 1_000_000;
                long pauseMs = Math.max(2000, ports * 4L);
                synchronized (this) {
                    if (System.nanoTime() - burstUntilNs < 0) {
                        pauseMs = Math.max(50, tookMs * 4); // quick, yet at most a fifth of a core
                    }
                    sweeps++;
                    notifyAll();
                    long until = System.currentTimeMillis() + pauseMs;
                    while (!wanted && !stopped) {
                        long left = until - System.currentTimeMillis();
                        if (left <= 0) {
                            break;
                        }
                        try {
                            wait(left);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    wanted = false;
                }
            }
        } finally {
            NetworkNamespace.close(own);
        }
    }

    /** One look at every TAP port; returns how many there were. */
    int sweep(int ownNs) {
        Map<Long, List<TapPort>> byNamespace = new LinkedHashMap<>();
        Map<Long, Integer> nsFds = new HashMap<>();
        List<TapPort> abandoned = new ArrayList<>();
        int count = 0;
        for (Port p : dataplane.ports()) {
            if (!(p instanceof TapPort tap) || tap.hasFailed()) {
                continue;
            }
            count++;
            try {
                int ns = tap.device().namespaceFd();
                long inode = NetworkNamespace.inodeOf(ns);
                if (nsFds.putIfAbsent(inode, ns) != null) {
                    NetworkNamespace.close(ns);
                }
                if (tap.openedIn() != null && inode != ownInode && !holders.held(tap.openedIn(), inode)) {
                    abandoned.add(tap);
                    continue;
                }
                byNamespace.computeIfAbsent(inode, k -> new ArrayList<>()).add(tap);
                tap.seenIn(inode);
            } catch (IOException e) {
                // The device is going away: the data path will see it fail.
            }
        }
        try {
            for (Map.Entry<Long, List<TapPort>> e : byNamespace.entrySet()) {
                if (stopped) {
                    break;
                }
                look(nsFds.get(e.getKey()), e.getValue());
            }
        } catch (NativeCallException e) {
            if (!warned) {
                warned = true;
                LOG.warn("cannot read the link state of TAPs: {}", e.getMessage());
            }
        } finally {
            try {
                NetworkNamespace.enter(ownNs);
            } catch (NativeCallException e) {
                LOG.error("the link watcher cannot return to its own namespace: {}; it stops", e.getMessage());
                stopped = true;
            }
            nsFds.values().forEach(NetworkNamespace::close);
        }
        for (TapPort tap : abandoned) {
            abandon(tap);
        }
        return count;
    }

    /**
     * Takes down a port whose namespace only its own fds still hold, then closes the fds (after
     * every loop has let go of them: a closed fd's number is soon another file's), and the
     * namespace goes with its device.
     */
    private void abandon(TapPort tap) {
        if (!tap.fail("its namespace " + tap.openedIn() + " was deleted (only this port's fds held it)")) {
            return;
        }
        dataplane.portFailed(tap);
        try {
            for (io.vswitch.dataplane.LaneHandle h : tap.handles()) {
                if (h.lane() != null) {
                    // Runs after the cancellation portFailed queued on the same loop.
                    h.lane().loop().submit(() -> { }).await(1, java.util.concurrent.TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (dataplane.grace().await(1_000_000_000L)) {
            tap.close();
        }
    }

    /** The inode of the network namespace {@code path} names now, or -1. */
    private static long namespaceInode(java.nio.file.Path path) {
        try {
            int fd = NetworkNamespace.open(path);
            try {
                return NetworkNamespace.inodeOf(fd);
            } finally {
                NetworkNamespace.close(fd);
            }
        } catch (IOException e) {
            return -1;
        }
    }

    private void look(int ns, List<TapPort> ports) throws NativeCallException {
        NetworkNamespace.enter(ns);
        try (Rtnetlink rt = Rtnetlink.open()) {
            Map<String, Rtnetlink.Link> all = null;
            if (ports.size() > 8) {
                all = new HashMap<>();
                for (Rtnetlink.Link l : rt.links()) {
                    all.put(l.name(), l);
                }
            }
            for (TapPort port : ports) {
                try {
                    String name = port.device().currentName();
                    Rtnetlink.Link link = all != null ? all.get(name) : rt.link(name);
                    if (link != null) {
                        port.setLink(link.isUp(), link.txDropped());
                        if (port.movedSinceQueueCheck() && link.isUp()) {
                            port.queueChecked();
                            if (DEFAULT_QDISCS.contains(String.valueOf(link.qdisc()))) {
                                rt.setNoQueue(link.index());
                                LOG.debug("{}: {} replaced by noqueue in its new namespace", name, link.qdisc());
                            }
                        }
                    }
                } catch (NativeCallException gone) {
                    // Renamed or deleted meanwhile: next sweep.
                }
            }
        }
    }

    /**
     * Sweeps every 50 ms or so for {@code ms}: a runtime (Docker, after Join) is about to move a
     * TAP into a container and bring it up there, and the sooner its qdisc is replaced the less
     * likely it is that the container has sent anything yet (the swap drops what is in flight).
     */
    public synchronized void burst(long ms) {
        burstUntilNs = System.nanoTime() + ms * 1_000_000;
        wanted = true;
        notifyAll();
    }

    /**
     * Asks for a sweep now and waits for it, at most {@code timeoutMs}: what an operator reads
     * right after plugging a container in is then what its namespace says now.
     */
    public synchronized void sweepNow(long timeoutMs) {
        // A sweep that began before this call may have read a link before it changed: wait for
        // one that begins after it (sweeps + 1 returned from a sweep already under way).
        long target = begun + 1;
        wanted = true;
        notifyAll();
        long until = System.currentTimeMillis() + timeoutMs;
        while (sweeps < target && !stopped) {
            long left = until - System.currentTimeMillis();
            if (left <= 0) {
                return;
            }
            try {
                wait(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        stopped = true;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
