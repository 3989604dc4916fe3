package io.vswitch.nativetap;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * An AF_PACKET socket on a host interface (an uplink), as packet(7) describes it:
 * <ul>
 *   <li>a TPACKET_V3 receive ring mapped into this process: the kernel fills blocks of frames and
 *       hands each block over by its status word; frames are read where they lie;</li>
 *   <li>PACKET_VNET_HDR: a 10-byte virtio-net header in front of each frame both ways, so GRO'd
 *       and GSO frames cross whole (when {@code vnetHeader});</li>
 *   <li>PACKET_FANOUT: the sockets of one group (one per event loop) share the interface's
 *       traffic by flow hash;</li>
 *   <li>PACKET_IGNORE_OUTGOING: frames the host itself sends out of the interface (ours
 *       included) are not read back; PACKET_QDISC_BYPASS: frames we send skip the qdisc;</li>
 *   <li>the interface in promiscuous mode while the socket is open (a PACKET_MR_PROMISC
 *       membership: the kernel drops it when the socket closes, even on kill -9).</li>
 * </ul>
 * Layouts (x86-64): {@code struct tpacket_req3} is 7 u32; a block starts with {@code struct
 * tpacket_block_desc} (version, offset_to_priv, then tpacket_hdr_v1: block_status at 8,
 * num_pkts at 12, offset_to_first_pkt at 16, blk_len at 20); each frame with {@code struct
 * tpacket3_hdr} (next_offset 0, sec 4, nsec 8, snaplen 12, len 16, status 20, mac 24, net 26,
 * rxhash 28, vlan_tci 32, vlan_tpid 36).
 */
public final class PacketSocket implements AutoCloseable {
    private static final int AF_PACKET = 17;
    private static final int SOCK_RAW = 3;
    private static final int ETH_P_ALL_BE = 0x0300; // htons(0x0003)
    private static final int SOL_PACKET = 263;
    private static final int PACKET_ADD_MEMBERSHIP = 1;
    private static final int PACKET_RX_RING = 5;
    private static final int PACKET_VERSION = 10;
    private static final int PACKET_VNET_HDR = 15;
    private static final int PACKET_FANOUT = 18;
    private static final int PACKET_QDISC_BYPASS = 20;
    private static final int PACKET_IGNORE_OUTGOING = 23;
    private static final int TPACKET_V3 = 2;
    private static final int PACKET_MR_PROMISC = 1;
    private static final int PACKET_FANOUT_HASH = 0;
    /** Fanout groups ignore PACKET_IGNORE_OUTGOING; since Linux 6.4 the group takes this flag. */
    private static final int PACKET_FANOUT_FLAG_IGNORE_OUTGOING = 0x4000;
    private static final int SOL_SOCKET = 1;
    private static final int SO_ERROR = 4;
    private static final int SO_SNDBUFFORCE = 32;
    private static final int SO_SNDBUF = 7;
    private static final long SIOCGIFHWADDR = 0x8927;

    public static final int TP_STATUS_KERNEL = 0;
    public static final int TP_STATUS_USER = 1;
    public static final int TP_STATUS_VLAN_VALID = 0x10;
    public static final int TP_STATUS_VLAN_TPID_VALID = 0x40;
    public static final int BLOCK_STATUS = 8;
    public static final int BLOCK_NUM_PKTS = 12;
    public static final int BLOCK_FIRST = 16;
    public static final int PKT_NEXT = 0;
    public static final int PKT_SNAPLEN = 12;
    public static final int PKT_LEN = 16;
    public static final int PKT_STATUS = 20;
    public static final int PKT_MAC = 24;
    public static final int PKT_VLAN_TCI = 32;
    public static final int PKT_VLAN_TPID = 36;

    private static final int PROT_READ_WRITE = 3;
    private static final int MAP_SHARED = 1;
    // void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
    private static final MethodHandle MMAP = Libc.downcall("mmap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = Libc.downcall("munmap",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle SETSOCKOPT = Libc.downcall("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));

    /**
     * How to open it: ring of {@code blocks} blocks of {@code blockSize} bytes (a power of two
     * of at least a page, holding the largest frame), {@code retireMillis} after which a block
     * that is not full is handed over anyway; a fanout group id (0: none).
     */
    public record Options(int blockSize, int blocks, int retireMillis, boolean vnetHeader, int fanoutGroup) {
    }

    private final String ifname;
    private final int fd;
    private final int ifindex;
    private final long ring;
    private final long ringSize;
    private final Options options;
    private final long mac;
    private volatile boolean closed;

    private PacketSocket(String ifname, int fd, int ifindex, long ring, long ringSize, Options options, long mac) {
        this.ifname = ifname;
        this.fd = fd;
        this.ifindex = ifindex;
        this.ring = ring;
        this.ringSize = ringSize;
        this.options = options;
        this.mac = mac;
    }

    /** Opens a socket on {@code ifname} with its receive ring; throws naming the call and errno. */
    public static PacketSocket open(String ifname, Options o) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            int ifindex = Libc.ifNameToIndex(state, arena.allocateFrom(ifname));
            if (ifindex <= 0) {
                throw new NativeCallException("if_nametoindex", ifname, Libc.errno(state));
            }
            // Protocol 0: nothing is received until bind names the interface (and ETH_P_ALL).
            int fd = Libc.socket(state, AF_PACKET, SOCK_RAW | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, 0);
            if (fd < 0) {
                throw new NativeCallException("socket(AF_PACKET)", ifname, Libc.errno(state));
            }
            long ring = 0;
            long size = (long) o.blockSize() * o.blocks();
            try {
                setInt(arena, state, fd, PACKET_IGNORE_OUTGOING, 1, ifname, "PACKET_IGNORE_OUTGOING");
                if (o.vnetHeader()) {
                    setInt(arena, state, fd, PACKET_VNET_HDR, 1, ifname, "PACKET_VNET_HDR");
                }
                setInt(arena, state, fd, PACKET_VERSION, TPACKET_V3, ifname, "PACKET_VERSION TPACKET_V3");
                MemorySegment req = arena.allocate(28, 4);
                req.set(JAVA_INT, 0, o.blockSize());
                req.set(JAVA_INT, 4, o.blocks());
                req.set(JAVA_INT, 8, 2048); // tp_frame_size: only checked for alignment with V3
                req.set(JAVA_INT, 12, (int) (size / 2048));
                req.set(JAVA_INT, 16, o.retireMillis());
                req.set(JAVA_INT, 20, 0);
                req.set(JAVA_INT, 24, 0);
                setopt(state, fd, PACKET_RX_RING, req, ifname, "PACKET_RX_RING");
                try {
                    ring = (long) MMAP.invokeExact(state, 0L, size, PROT_READ_WRITE, MAP_SHARED, fd, 0L);
                } catch (Throwable t) {
                    throw new AssertionError(t);
                }
                if (ring == -1L) {
                    ring = 0;
                    throw new NativeCallException("mmap of the receive ring", ifname, Libc.errno(state));
                }
                MemorySegment sll = arena.allocate(20, 4);
                sll.set(JAVA_SHORT, 0, (short) AF_PACKET);
                sll.set(JAVA_SHORT, 2, (short) ETH_P_ALL_BE);
                sll.set(JAVA_INT, 4, ifindex);
                if (Libc.bind(state, fd, sll) != 0) {
                    throw new NativeCallException("bind", ifname, Libc.errno(state));
                }
                if (o.fanoutGroup() != 0) {
                    // By flow hash (fragments of a datagram hash together: by addresses). Not
                    // DEFRAG: reassembled datagrams would exceed the MTU and be dropped.
                    try {
                        setInt(arena, state, fd, PACKET_FANOUT, (o.fanoutGroup() & 0xFFFF)
                                | ((PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_IGNORE_OUTGOING) << 16), ifname,
                                "PACKET_FANOUT");
                    } catch (NativeCallException e) {
                        if (e.errno() != Errno.EINVAL) {
                            throw e;
                        }
                        throw new NativeCallException("setsockopt(PACKET_FANOUT with IGNORE_OUTGOING)", ifname, e.errno(),
                                "this kernel cannot keep the host's own frames out of a fanout group (Linux 6.4+);"
                                        + " run the daemon with dataplane.threads: 1 for this uplink");
                    }
                }
                setInt(arena, state, fd, PACKET_QDISC_BYPASS, 1, ifname, "PACKET_QDISC_BYPASS");
                // Room for a batch of 64 KB GSO frames: the default (~208 KB) drops a batch's tail.
                try {
                    setSocketInt(arena, state, fd, SO_SNDBUFFORCE, 8 << 20);
                } catch (NativeCallException e) {
                    setSocketInt(arena, state, fd, SO_SNDBUF, 8 << 20);
                }
                MemorySegment mreq = arena.allocate(16, 4);
                mreq.set(JAVA_INT, 0, ifindex);
                mreq.set(JAVA_SHORT, 4, (short) PACKET_MR_PROMISC);
                setopt(state, fd, PACKET_ADD_MEMBERSHIP, mreq, ifname, "PACKET_ADD_MEMBERSHIP promiscuous");
                long mac = hardwareAddress(arena, state, fd, ifname);
                return new PacketSocket(ifname, fd, ifindex, ring, size, o, mac);
            } catch (NativeCallException | RuntimeException e) {
                if (ring != 0) {
                    munmap(state, ring, size);
                }
                Libc.close(state, fd);
                throw e;
            }
        }
    }

    private static long hardwareAddress(Arena arena, MemorySegment state, int fd, String ifname)
            throws NativeCallException {
        MemorySegment ifr = arena.allocate(40, 8);
        byte[] name = ifname.getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(name, 0, ifr, JAVA_BYTE, 0, Math.min(name.length, 15));
        if (Libc.ioctl(state, fd, SIOCGIFHWADDR, ifr) != 0) {
            throw new NativeCallException("ioctl(SIOCGIFHWADDR)", ifname, Libc.errno(state));
        }
        long mac = 0;
        for (int i = 0; i < 6; i++) {
            mac = (mac << 8) | (ifr.get(JAVA_BYTE, 18 + i) & 0xFF); // ifr_hwaddr: sa_family (2), then sa_data
        }
        return mac;
    }

    private static void setInt(Arena arena, MemorySegment state, int fd, int option, int value, String ifname, String what)
            throws NativeCallException {
        MemorySegment v = arena.allocate(JAVA_INT);
        v.set(JAVA_INT, 0, value);
        setopt(state, fd, option, v, ifname, what);
    }

    private static void setopt(MemorySegment state, int fd, int option, MemorySegment value, String ifname, String what)
            throws NativeCallException {
        int r;
        try {
            r = (int) SETSOCKOPT.invokeExact(state, fd, SOL_PACKET, option, value, (int) value.byteSize());
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (r != 0) {
            throw new NativeCallException("setsockopt(" + what + ")", ifname, Libc.errno(state));
        }
    }

    private static void setSocketInt(Arena arena, MemorySegment state, int fd, int option, int value)
            throws NativeCallException {
        MemorySegment v = arena.allocate(JAVA_INT);
        v.set(JAVA_INT, 0, value);
        int r;
        try {
            r = (int) SETSOCKOPT.invokeExact(state, fd, SOL_SOCKET, option, v, 4);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (r != 0) {
            throw new NativeCallException("setsockopt(SOL_SOCKET " + option + ")", "", Libc.errno(state));
        }
    }

    // int getsockopt(int fd, int level, int name, void *value, socklen_t *length)
    private static final MethodHandle GETSOCKOPT = Libc.downcall("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));

    /**
     * Reads and clears the socket's pending error (SO_ERROR): the kernel sets one on a packet
     * socket when its interface goes down (ENETDOWN) or away (ENODEV), and epoll reports
     * EPOLLERR until it is read. Returns the errno, 0 for none.
     */
    public int takeError() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            MemorySegment v = arena.allocate(JAVA_INT);
            MemorySegment len = arena.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, 4);
            int r;
            try {
                r = (int) GETSOCKOPT.invokeExact(state, fd, SOL_SOCKET, SO_ERROR, v, len);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
            return r == 0 ? v.get(JAVA_INT, 0) : Libc.errno(state);
        }
    }

    private static void munmap(MemorySegment state, long address, long size) {
        try {
            int ignored = (int) MUNMAP.invokeExact(state, address, size);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    public int fd() {
        return fd;
    }

    public String ifname() {
        return ifname;
    }

    public int ifindex() {
        return ifindex;
    }

    /** The interface's own MAC: frames to it are the host's. */
    public long mac() {
        return mac;
    }

    /** Where the ring is mapped, and how big it is. */
    public long ring() {
        return ring;
    }

    public long ringSize() {
        return ringSize;
    }

    public int blockSize() {
        return options.blockSize();
    }

    public int blocks() {
        return options.blocks();
    }

    public boolean vnetHeader() {
        return options.vnetHeader();
    }

    /** Unmaps the ring and closes the socket (the interface leaves promiscuous mode with it). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            munmap(state, ring, ringSize);
            Libc.close(state, fd);
        }
    }
}
