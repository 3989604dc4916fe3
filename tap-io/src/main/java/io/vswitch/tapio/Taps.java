package io.vswitch.tapio;

import io.vswitch.dataplane.Dataplane;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.NetDevice;
import io.vswitch.nativetap.NetworkNamespace;
import io.vswitch.nativetap.Rtnetlink;
import io.vswitch.nativetap.TapDevice;
import io.vswitch.nativetap.TapOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The life of the TAP devices behind {@link TapPort}s: open one queue per loop (IFF_MULTI_QUEUE
 * with several loops), create the device when absent and set its MTU, turn on
 * offloads (IFF_VNET_HDR + TUNSETOFFLOAD), make it persistent (TUNSETPERSIST) so that it
 * outlives the daemon with its container, and, for a persistent one, find it again after a
 * restart in whichever network namespace a runtime moved it to. Releasing a port clears its
 * persistence when the device is to go, then closes its queues.
 *
 * <p>A new TAP stays down in the daemon's namespace: whoever takes it (a runtime moving it into a
 * container, which clears UP anyway, or an operator) brings it up where it will be used. Up here,
 * the kernel's own IPv6 would send router solicitations, MLD reports and DAD probes out of every
 * new TAP, each flooded to every other port: at 1,024 ports that storm alone took a minute of
 * start-up.
 *
 * <h2>Kernel memory and stopping at scale</h2>
 * A new TAP gets the {@code noqueue} root qdisc before it first comes up: by default a
 * multi-queue TAP gets {@code mq} with a {@code pfifo_fast} (three rings of txqueuelen
 * pointers) for each of its 256 possible queues, 6.4 MB of kernel memory, for queues a TAP never
 * needs since it hands frames straight to its reader (measured here: 200 multi-queue TAPs up
 * cost 1.28 GB with the default, 52 MB with noqueue; single-queue 70 KB and 46 KB each).
 * Deleting a TAP costs the kernel about 20 ms of RCU grace periods, and closing the last fd of a
 * non-persistent TAP deletes it, so 1,024 ports took 21 s to stop one by one. Every TAP this
 * process creates without persistence joins one device group, and {@link #deleteCreated}
 * deletes the group in one request per namespace (one batch, one grace period), the namespaces
 * in parallel.
 */
public final class Taps {
    private static final Logger LOG = LoggerFactory.getLogger(Taps.class);

    private final Dataplane dataplane;
    /** The device group of the TAPs this process creates without persistence: 'v' and this pid. */
    private final int group = 0x7600_0000 | (int) (ProcessHandle.current().pid() & 0xFF_FFFF);
    private Rtnetlink rtnetlink;

    private final boolean multiQueue;

    /**
     * {@code multiQueue}: with several loops, open every TAP with one queue per loop (each loop
     * reads its own queue of every port, so even one container's flows spread over the loops);
     * else each TAP has one queue, read by one loop (ports spread over the loops). A multi-queue
     * TAP costs the kernel about 280 KB (its 256 queue structures), a single-queue one 64 KB.
     */
    public Taps(Dataplane dataplane, boolean multiQueue) {
        this.dataplane = dataplane;
        this.multiQueue = multiQueue;
    }

    /** The device group of the TAPs this process creates and deletes again when it stops. */
    public int group() {
        return group;
    }

    /** How a TAP is opened here: one queue per loop when there are several loops and multi-queue is on. */
    public TapOptions options(boolean offload) {
        return new TapOptions(offload, multiQueue && dataplane.threads() > 1);
    }

    public int queuesPerPort(TapOptions options) {
        return options.multiQueue() ? dataplane.threads() : 1;
    }

    /**
     * Opens TAP {@code name} as a port, not yet attached: a persistent one is first looked for in
     * every namespace (re-attached where a runtime moved it; its MTU and link state are then the
     * container's business), else it is created (or taken over) here with {@code mtu}, down.
     * All or nothing: on failure nothing stays open and a device created here is gone.
     */
    public TapPort open(String name, int mtu, boolean persist, boolean offload) throws NativeCallException {
        TapOptions options = options(offload);
        int count = queuesPerPort(options);
        List<TapDevice> queues = persist ? TapDevice.openQueues(name, options, count, true) : List.of();
        if (queues.isEmpty()) {
            queues = TapDevice.openQueues(name, options, count, false);
        }
        try {
            TapDevice first = queues.get(0);
            if (first.namespace() == null) {
                prepare(first, !persist && first.created());
                first.setMtu(mtu);
            }
            if (offload) {
                for (TapDevice q : queues) {
                    q.enableOffloads();
                }
            }
            if (persist) {
                first.setPersistent(true);
            }
        } catch (NativeCallException e) {
            queues.forEach(TapDevice::close);
            throw e;
        }
        TapPort port = new TapPort(queues, persist, dataplane);
        if (queues.get(0).namespace() != null) {
            port.openedIn(java.nio.file.Path.of(queues.get(0).namespace()));
        }
        return port;
    }

    /**
     * Before a device in this namespace first comes up: the noqueue qdisc, and for a device this
     * process creates and deletes again, the group it is deleted with.
     */
    private synchronized void prepare(TapDevice device, boolean grouped) throws NativeCallException {
        if (rtnetlink == null) {
            rtnetlink = Rtnetlink.open();
        }
        int index = NetDevice.index(device.name());
        if (index == 0) {
            throw new NativeCallException("if_nametoindex", device.name(), Errno.ENODEV);
        }
        rtnetlink.setNoQueue(index);
        if (grouped) {
            rtnetlink.setGroup(index, group);
        }
    }

    /** An address to give an interface: 4 or 16 bytes and a prefix length. */
    public record Address(byte[] ip, int prefix) {
    }

    /**
     * Where a TAP goes and what it is there: the container's namespace (a path such as
     * /var/run/netns/X or /proc/PID/ns/net), its name there, its MAC (0: the one it has), its MTU
     * (0: the one it has), its
     * addresses, the gateways of its default routes (none: no route), and an alias naming it
     * for operators and for finding it again after a restart.
     */
    public record Placement(java.nio.file.Path netns, String ifname, long mac, int mtu, List<Address> addresses,
            List<byte[]> gateways, String alias) {
    }

    /**
     * Makes a port's TAP right inside a container, the way a runtime wants it: created there
     * (the TUNSETIFF of a thread that entered the container's namespace), given noqueue, its MAC,
     * MTU and alias, renamed, brought up, given its addresses and default routes, then made
     * persistent, so it outlives a restart of the daemon with its container. Each step is a
     * netlink request (rtnetlink through FFM, no {@code ip}). Made there, it is never moved: a
     * move between namespaces costs the kernel about 20 ms of RCU grace periods. All or nothing:
     * when a step fails its queues are closed and the device, not yet persistent, is gone.
     */
    public TapPort openIn(String portName, int mtu, boolean offload, Placement p) throws NativeCallException {
        TapOptions options = options(offload);
        int count = queuesPerPort(options);
        List<TapDevice> queues;
        try {
            queues = NetworkNamespace.callIn(p.netns(), () -> {
                List<TapDevice> made = TapDevice.openQueues(portName, options, count, false);
                try (Rtnetlink rt = Rtnetlink.open()) {
                    int index = rt.link(portName).index();
                    rt.setNoQueue(index); // before it first comes up: no mq + pfifo_fast memory
                    if (p.mac() != 0) {
                        rt.setMac(index, p.mac());
                    }
                    rt.setMtu(index, p.mtu() > 0 ? p.mtu() : mtu);
                    rt.setAlias(index, p.alias());
                    rt.rename(index, p.ifname());
                    if (offload) {
                        for (TapDevice q : made) {
                            q.enableOffloads();
                        }
                    }
                    rt.setUp(index, true);
                    for (Address a : p.addresses()) {
                        rt.addAddress(index, a.ip(), a.prefix());
                    }
                    for (byte[] gateway : p.gateways()) {
                        rt.addDefaultRoute(index, gateway);
                    }
                } catch (NativeCallException | RuntimeException e) {
                    made.forEach(TapDevice::close);
                    throw e;
                }
                return made;
            });
        } catch (NativeCallException e) {
            throw e;
        } catch (Exception e) {
            throw new NativeCallException("setns", p.netns().toString(), Errno.ENOENT, e.getMessage());
        }
        try {
            queues.get(0).setPersistent(true);
        } catch (NativeCallException e) {
            queues.forEach(TapDevice::close);
            throw e;
        }
        TapPort port = new TapPort(portName, queues, true, dataplane);
        port.markPersistent();
        port.openedIn(p.netns());
        return port;
    }

    /** Gives a TAP in this namespace its addresses and brings it up (a network's gateway port). */
    public synchronized void configureHere(TapPort port, long mac, List<Address> addresses) throws NativeCallException {
        if (rtnetlink == null) {
            rtnetlink = Rtnetlink.open();
        }
        int index = NetDevice.index(port.device().name());
        if (index == 0) {
            throw new NativeCallException("if_nametoindex", port.device().name(), Errno.ENODEV);
        }
        rtnetlink.setMac(index, mac);
        rtnetlink.setUp(index, true);
        for (Address a : addresses) {
            rtnetlink.addAddress(index, a.ip(), a.prefix());
        }
    }

    /**
     * Readies a TAP in this namespace for a runtime that moves and configures it itself (Docker
     * moves the interface it is given into the container, renames it and sets its address):
     * its MAC and alias set, out of the group deleted at stop, persistent so it outlives a
     * restart of the daemon with its container.
     */
    public synchronized void handOver(TapPort port, long mac, String alias) throws NativeCallException {
        if (rtnetlink == null) {
            rtnetlink = Rtnetlink.open();
        }
        int index = NetDevice.index(port.device().name());
        if (index == 0) {
            throw new NativeCallException("if_nametoindex", port.device().name(), Errno.ENODEV);
        }
        rtnetlink.setMac(index, mac);
        rtnetlink.setAlias(index, alias);
        rtnetlink.setGroup(index, 0);
        port.device().setPersistent(true);
        port.markPersistent();
    }

    /**
     * Opens again, after a restart, the TAP of a port that was placed in a container: named
     * {@code ifname} in {@code netns} now, and carrying {@code alias} (so a container's other
     * interface of that name is never taken for it). The port keeps its own name.
     */
    public TapPort reopen(String port, java.nio.file.Path netns, String ifname, String alias, boolean offload)
            throws NativeCallException {
        TapOptions options = options(offload);
        if (netns == null) {
            netns = java.nio.file.Path.of("/proc/" + ProcessHandle.current().pid() + "/ns/net");
        }
        if (ifname == null) {
            ifname = nameByAlias(netns, alias);
        }
        List<TapDevice> queues = TapDevice.openQueuesIn(netns, ifname, options, queuesPerPort(options));
        try {
            String name = ifname;
            java.nio.file.Path where = netns;
            String found = NetworkNamespace.callIn(where, () -> {
                try (Rtnetlink rt = Rtnetlink.open()) {
                    return rt.link(name).alias();
                }
            });
            if (!alias.equals(found)) {
                throw new NativeCallException("reopen", ifname + " in " + netns, Errno.ENODEV,
                        "it is not the endpoint's interface (alias \"" + found + "\", expected \"" + alias + "\")");
            }
            if (offload) {
                for (TapDevice q : queues) {
                    q.enableOffloads();
                }
            }
        } catch (NativeCallException e) {
            queues.forEach(TapDevice::close);
            throw e;
        } catch (Exception e) {
            queues.forEach(TapDevice::close);
            throw new NativeCallException("setns", netns.toString(), Errno.ENOENT, e.getMessage());
        }
        TapPort reopened = new TapPort(port, queues, true, dataplane);
        reopened.openedIn(netns);
        return reopened;
    }

    /** The name of the link carrying {@code alias} in {@code netns} (a runtime renamed it there). */
    private static String nameByAlias(java.nio.file.Path netns, String alias) throws NativeCallException {
        try {
            String name = NetworkNamespace.callIn(netns, () -> {
                try (Rtnetlink rt = Rtnetlink.open()) {
                    for (Rtnetlink.Link l : rt.links()) {
                        if (alias.equals(l.alias())) {
                            return l.name();
                        }
                    }
                    return null;
                }
            });
            if (name == null) {
                throw new NativeCallException("find", "alias \"" + alias + "\" in " + netns, Errno.ENODEV);
            }
            return name;
        } catch (NativeCallException e) {
            throw e;
        } catch (Exception e) {
            throw new NativeCallException("setns", netns.toString(), Errno.ENOENT, e.getMessage());
        }
    }

    /**
     * Deletes the TAPs of {@code ports} that this process created without persistence, in one
     * batch per network namespace they are in now, the namespaces in parallel; their fds then
     * close at once. Call after the loops stopped reading them.
     */
    public void deleteCreated(List<TapPort> ports) {
        Map<Long, Integer> namespaces = new HashMap<>();
        for (TapPort port : ports) {
            if (port.persistent() || port.hasFailed() || !port.device().created()) {
                continue;
            }
            try {
                int ns = port.device().namespaceFd();
                long inode = NetworkNamespace.inodeOf(ns);
                if (namespaces.putIfAbsent(inode, ns) != null) {
                    NetworkNamespace.close(ns);
                }
            } catch (IOException e) {
                // Gone already, or a kernel without TUNGETDEVNETNS: its fd's close deletes it.
            }
        }
        List<Thread> workers = new ArrayList<>();
        for (int ns : namespaces.values()) {
            workers.add(Thread.ofPlatform().name("tap-delete").start(() -> {
                try {
                    NetworkNamespace.enter(ns); // a thread of its own, which ends here
                    try (Rtnetlink rt = Rtnetlink.open()) {
                        rt.deleteGroup(group);
                    }
                } catch (NativeCallException e) {
                    LOG.warn("cannot delete this daemon's TAPs in a namespace at once ({}); they go one by one", e.getMessage());
                } finally {
                    NetworkNamespace.close(ns);
                }
            }));
        }
        for (Thread t : workers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Lets a detached port's device go for good: a persistent one is made non-persistent so it
     * disappears when its queues close. A failed port's device is gone already.
     */
    public void unpersist(TapPort port) {
        if (!port.persistent() || port.hasFailed()) {
            return;
        }
        try {
            port.device().setPersistent(false);
        } catch (NativeCallException e) {
            LOG.warn("port {}: cannot clear persistence, the device stays: {}", port.name(), e.getMessage());
        }
    }

    /** Closes the netlink socket. */
    public synchronized void close() {
        if (rtnetlink != null) {
            rtnetlink.close();
            rtnetlink = null;
        }
    }

    /** Where the port's device was found, for the log. */
    public static String origin(TapPort port) {
        TapDevice d = port.device();
        return d.namespace() != null ? "re-attached in " + d.namespace() : d.created() ? "created" : "existing device";
    }
}
