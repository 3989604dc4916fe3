package io.vswitch.nativetap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One open queue of a Linux TAP device: a non-blocking file descriptor from which every
 * {@code read} returns exactly one Ethernet frame and to which every {@code write} injects one.
 *
 * <p>{@link #open} attaches to the device of that name, creating it when absent. A device this
 * process created and did not make persistent disappears when its last queue is closed; that is
 * how a clean stop removes the TAPs it made. A device that existed before (persistent, made by
 * {@code ip tuntap add} or by an earlier run with persistence on) is only detached from.
 *
 * <p>The fd stays valid after the device is moved to another network namespace: it keeps
 * reading and writing that namespace's frames. When that namespace is deleted the device is
 * unregistered and the fd reports EBADFD (or EPOLLERR) from then on.
 */
public final class TapDevice implements AutoCloseable {
    private static final long TUNSETIFF = 0x400454caL;
    private static final long TUNSETPERSIST = 0x400454cbL;
    private static final long TUNSETOFFLOAD = 0x400454d0L;
    private static final long TUNSETVNETHDRSZ = 0x400454d8L;
    private static final long TUNGETFEATURES = 0x800454cfL;
    private static final long TUNGETIFF = 0x800454d2L;
    private static final long TUNGETDEVNETNS = 0x54e3L;

    private final String name;
    private final int fd;
    private final TapOptions options;
    private final boolean created;
    private final String namespace;
    private boolean closed;

    private TapDevice(String name, int fd, TapOptions options, boolean created, String namespace) {
        this.name = name;
        this.fd = fd;
        this.options = options;
        this.created = created;
        this.namespace = namespace;
    }

    /**
     * A queue over a descriptor that frames as a TAP does but is none (one end of a
     * {@link FramePipe}), so what reads and writes TAP queues is tested without root or a device.
     * Not created here, never persistent; {@link #close} closes the descriptor; the TAP ioctls
     * fail on it (ENOTTY).
     */
    public static TapDevice overFrameFd(String name, int fd, TapOptions options) {
        return new TapDevice(name, fd, options, false, null);
    }

    /**
     * Opens one queue of TAP device {@code name} (1 to 15 bytes), creating the device when absent.
     * The fd is non-blocking and close-on-exec.
     *
     * @throws NativeCallException naming the call, the device and the errno: EPERM (needs root
     *         or CAP_NET_ADMIN), EBUSY (held by another process), EINVAL (a device of that name
     *         exists and is not a TAP of these flags)
     */
    public static TapDevice open(String name, TapOptions options) throws NativeCallException {
        if (name.isEmpty() || name.length() >= IfReq.IFNAMSIZ) {
            throw new IllegalArgumentException("TAP name \"" + name + "\" must be 1 to 15 characters");
        }
        boolean existed = NetDevice.exists(name);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            int fd = Libc.open(state, arena.allocateFrom("/dev/net/tun"),
                    Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
            if (fd < 0) {
                throw new NativeCallException("open(/dev/net/tun)", name, Libc.errno(state));
            }
            MemorySegment req = IfReq.allocate(arena, name);
            IfReq.flags(req, options.ifrFlags());
            if (Libc.ioctl(state, fd, TUNSETIFF, req) < 0) {
                int errno = Libc.errno(state);
                Libc.close(state, fd);
                String detail = switch (errno) {
                    case Errno.EBUSY -> "device busy: held by another process";
                    case Errno.EINVAL -> existed
                            ? "a device named " + name + " exists and is not a TAP opened with these flags"
                            : null;
                    default -> null;
                };
                throw new NativeCallException("ioctl(TUNSETIFF)", name, errno, detail);
            }
            return new TapDevice(IfReq.name(req), fd, options, !existed, null);
        }
    }

    /** The features this kernel's TUN driver supports (IFF_* bits), from TUNGETFEATURES. */
    public static int features() throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            int fd = Libc.open(state, arena.allocateFrom("/dev/net/tun"), Libc.O_RDWR | Libc.O_CLOEXEC);
            if (fd < 0) {
                throw new NativeCallException("open(/dev/net/tun)", "tun", Libc.errno(state));
            }
            try {
                MemorySegment out = arena.allocate(4);
                if (Libc.ioctl(state, fd, TUNGETFEATURES, out) < 0) {
                    throw new NativeCallException("ioctl(TUNGETFEATURES)", "tun", Libc.errno(state));
                }
                return out.get(java.lang.foreign.ValueLayout.JAVA_INT, 0);
            } finally {
                Libc.close(state, fd);
            }
        }
    }

    /**
     * Re-attaches to a persistent TAP named {@code name} wherever it now is: in the caller's
     * namespace, or in any other namespace of this host (where a runtime moved it). Returns null
     * when no namespace has a device of that name that accepts this open.
     */
    public static TapDevice reattach(String name, TapOptions options) throws NativeCallException {
        if (NetDevice.exists(name)) {
            return open(name, options);
        }
        for (java.nio.file.Path ns : NetworkNamespace.others()) {
            try {
                TapDevice found = NetworkNamespace.callIn(ns, () -> NetDevice.exists(name) ? open(name, options) : null);
                if (found != null) {
                    return new TapDevice(found.name, found.fd, options, false, ns.toString());
                }
            } catch (NativeCallException e) {
                if (e.errno() == Errno.EBUSY) {
                    throw e;
                }
                // A different kind of device with that name there: keep looking.
            } catch (Exception e) {
                // The namespace went away while we looked: keep looking.
            }
        }
        return null;
    }

    /**
     * Opens {@code count} queues of TAP {@code name} (IFF_MULTI_QUEUE when more than one is
     * asked for by the options). With {@code reattach}, the first queue is looked for in every
     * namespace of the host ({@link #reattach}) and the others are opened where it was found;
     * returns an empty list when no namespace has it. All or nothing: on failure what was
     * opened is closed again.
     */
    public static java.util.List<TapDevice> openQueues(String name, TapOptions options, int count, boolean reattach)
            throws NativeCallException {
        java.util.List<TapDevice> queues = new java.util.ArrayList<>();
        try {
            TapDevice first = reattach ? reattach(name, options) : open(name, options);
            if (first == null) {
                return queues;
            }
            queues.add(first);
            for (int i = 1; i < count; i++) {
                if (first.namespace == null) {
                    queues.add(open(name, options));
                } else {
                    TapDevice q = NetworkNamespace.callIn(java.nio.file.Path.of(first.namespace), () -> open(name, options));
                    queues.add(new TapDevice(q.name, q.fd, options, false, first.namespace));
                }
            }
            return queues;
        } catch (NativeCallException e) {
            queues.forEach(TapDevice::close);
            throw e;
        } catch (Exception e) {
            queues.forEach(TapDevice::close);
            throw new NativeCallException("open queue", name, Errno.ENODEV, e.getMessage());
        }
    }

    /**
     * Opens {@code count} queues of the TAP now named {@code name} in the network namespace at
     * {@code netns}, where a runtime or an earlier attach put (and maybe renamed) it. Nothing is
     * created: a name that is no TAP there fails (EINVAL), and so does one that is absent, since
     * TUNSETIFF would make a new one, which is then closed again.
     */
    public static java.util.List<TapDevice> openQueuesIn(java.nio.file.Path netns, String name, TapOptions options, int count)
            throws NativeCallException {
        try {
            return NetworkNamespace.callIn(netns, () -> {
                if (!NetDevice.exists(name)) {
                    throw new NativeCallException("open", name + " in " + netns, Errno.ENODEV);
                }
                java.util.List<TapDevice> queues = new java.util.ArrayList<>();
                try {
                    for (int i = 0; i < count; i++) {
                        TapDevice q = open(name, options);
                        queues.add(new TapDevice(q.name, q.fd, options, false, netns.toString()));
                    }
                } catch (NativeCallException e) {
                    queues.forEach(TapDevice::close);
                    throw e;
                }
                return queues;
            });
        } catch (NativeCallException e) {
            throw e;
        } catch (Exception e) {
            throw new NativeCallException("setns", netns.toString(), Errno.ENOENT, e.getMessage());
        }
    }

    /** Where the device was found by {@link #reattach}: a namespace path, or null for our own. */
    public String namespace() {
        return namespace;
    }

    public String name() {
        return name;
    }

    /** The raw file descriptor, for registration with an event loop. */
    public int fd() {
        return fd;
    }

    public TapOptions options() {
        return options;
    }

    /** Whether this open created the device (it was absent before). */
    public boolean created() {
        return created;
    }

    /** The device's name now (a runtime may have renamed it in its namespace), from TUNGETIFF. */
    public String currentName() throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            MemorySegment req = IfReq.allocate(arena, "");
            if (Libc.ioctl(state, fd, TUNGETIFF, req) < 0) {
                throw new NativeCallException("ioctl(TUNGETIFF)", name, Libc.errno(state));
            }
            return IfReq.name(req);
        }
    }

    /**
     * A new file descriptor for the network namespace the device is in now (TUNGETDEVNETNS,
     * Linux 5.2+), wherever a runtime moved it; the caller closes it.
     */
    public int namespaceFd() throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            int ns = Libc.ioctl(state, fd, TUNGETDEVNETNS, 0L);
            if (ns < 0) {
                throw new NativeCallException("ioctl(TUNGETDEVNETNS)", name, Libc.errno(state));
            }
            return ns;
        }
    }

    /** Keeps the device after its last fd closes (TUNSETPERSIST), or lets it go with the fd. */
    public void setPersistent(boolean persistent) throws NativeCallException {
        ioctlValue(TUNSETPERSIST, persistent ? 1 : 0, "ioctl(TUNSETPERSIST)");
    }

    /** Enables offloads (TUN_F_* bits) the kernel may hand over; needs {@code vnetHeader}. */
    public void setOffload(int tunFlags) throws NativeCallException {
        ioctlValue(TUNSETOFFLOAD, tunFlags, "ioctl(TUNSETOFFLOAD)");
    }

    public static final int TUN_F_CSUM = 0x01;
    public static final int TUN_F_TSO4 = 0x02;
    public static final int TUN_F_TSO6 = 0x04;
    public static final int TUN_F_TSO_ECN = 0x08;
    public static final int TUN_F_USO4 = 0x20;
    public static final int TUN_F_USO6 = 0x40;

    /**
     * Turns on checksum and TCP segmentation offloads (and UDP segmentation where this kernel
     * has it) with a 10-byte virtio_net_hdr: the kernel may then hand over 64 KB frames with
     * their checksums left to do. Needs a device opened with {@code vnetHeader}. Returns the
     * TUN_F_* bits in force.
     */
    public int enableOffloads() throws NativeCallException {
        if (!options.vnetHeader()) {
            throw new IllegalStateException("offloads need a TAP opened with IFF_VNET_HDR: " + name);
        }
        setVnetHeaderSize(10);
        int tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
        try {
            setOffload(tcp | TUN_F_USO4 | TUN_F_USO6);
            return tcp | TUN_F_USO4 | TUN_F_USO6;
        } catch (NativeCallException e) {
            if (e.errno() != Errno.EINVAL) {
                throw e;
            }
            setOffload(tcp); // a kernel before 6.2 has no USO
            return tcp;
        }
    }

    /** Sets the virtio_net_hdr size (10, or 12 with num_buffers). */
    public void setVnetHeaderSize(int bytes) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            MemorySegment value = arena.allocate(4);
            value.set(java.lang.foreign.ValueLayout.JAVA_INT, 0, bytes);
            if (Libc.ioctl(state, fd, TUNSETVNETHDRSZ, value) < 0) {
                throw new NativeCallException("ioctl(TUNSETVNETHDRSZ)", name, Libc.errno(state));
            }
        }
    }

    public void setUp(boolean up) throws NativeCallException {
        NetDevice.setUp(name, up);
    }

    public void setMtu(int mtu) throws NativeCallException {
        NetDevice.setMtu(name, mtu);
    }

    private void ioctlValue(long request, long value, String what) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            if (Libc.ioctl(state, fd, request, value) < 0) {
                throw new NativeCallException(what, name, Libc.errno(state));
            }
        }
    }

    /** Closes this queue; a non-persistent device goes away with its last queue. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (Arena arena = Arena.ofConfined()) {
            Libc.close(Libc.errnoState(arena), fd);
        }
    }

    @Override
    public String toString() {
        return "tap " + name + " (fd " + fd + ")";
    }
}
