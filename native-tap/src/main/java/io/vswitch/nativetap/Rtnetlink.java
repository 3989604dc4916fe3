package io.vswitch.nativetap;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A route netlink socket (rtnetlink(7)) through FFM: links, qdiscs, addresses and routes of the
 * network namespace of the thread that opened it, without running {@code ip} or {@code tc}.
 * Control path only: each call sends one request with NLM_F_ACK and reads until the kernel's
 * acknowledgement, turning an error into a {@link NativeCallException} that names the request,
 * the device and the errno.
 *
 * <p>Wire format (netlink(7), rtnetlink(7)), host byte order, every part 4-byte aligned:
 * <pre>
 *   struct nlmsghdr  { u32 len; u16 type; u16 flags; u32 seq; u32 pid; }               16 bytes
 *   struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change; } 16 bytes
 *   struct tcmsg     { u8 family; u8 pad[3]; s32 ifindex; u32 handle; u32 parent; u32 info; } 20 bytes
 *   struct ifaddrmsg { u8 family; u8 prefixlen; u8 flags; u8 scope; u32 index; }          8 bytes
 *   struct rtmsg     { u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags; } 12 bytes
 *   struct rtattr    { u16 len; u16 type; } + value, padded to 4
 *   NLMSG_ERROR: struct nlmsgerr { s32 error; struct nlmsghdr request; }   error 0 is the ACK
 * </pre>
 * Not thread-safe: one thread uses a socket at a time.
 */
public final class Rtnetlink implements AutoCloseable {
    static final int AF_NETLINK = 16;
    static final int NETLINK_ROUTE = 0;
    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;
    static final int RTM_NEWLINK = 16;
    static final int RTM_DELLINK = 17;
    static final int RTM_GETLINK = 18;
    static final int RTM_NEWADDR = 20;
    static final int RTM_NEWROUTE = 24;
    static final int RTM_NEWQDISC = 36;
    static final int NLM_F_REQUEST = 0x1;
    static final int NLM_F_ACK = 0x4;
    static final int NLM_F_DUMP = 0x300;
    static final int NLM_F_REPLACE = 0x100;
    static final int NLM_F_EXCL = 0x200;
    static final int NLM_F_CREATE = 0x400;
    static final int IFLA_ADDRESS = 1;
    static final int IFLA_IFNAME = 3;
    static final int IFLA_MTU = 4;
    static final int IFLA_QDISC = 6;
    static final int IFLA_OPERSTATE = 16;
    static final int IFLA_STATS64 = 23;
    static final int IFLA_GROUP = 27;
    static final int IFLA_NET_NS_FD = 28;
    static final int IFLA_IFALIAS = 20;
    static final int IFA_ADDRESS = 1;
    static final int IFA_LOCAL = 2;
    static final int IFA_F_NODAD = 0x02;
    static final int RTA_OIF = 4;
    static final int RTA_GATEWAY = 5;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int TCA_KIND = 1;
    public static final int IFF_UP = 0x1;
    private static final int HEADER = NetlinkMessage.HEADER;
    private static final int BUFFER = 64 * 1024;

    // ssize_t send(int fd, const void *buf, size_t len, int flags); ssize_t recv(...)
    private static final MethodHandle SEND = Libc.downcall("send",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle RECV = Libc.downcall("recv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));

    /** What the kernel says of one link. {@code operState} is IF_OPER_* (6 up, 2 down); drops from rtnl_link_stats64. */
    public record Link(int index, String name, int flags, int operState, long rxDropped, long txDropped, String alias,
            long mac, String qdisc) {
        /** Administratively up (IFF_UP), as {@code ip link set X up} sets it. */
        public boolean isUp() {
            return (flags & IFF_UP) != 0;
        }
    }

    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer = arena.allocate(BUFFER, 8);
    private final MemorySegment state = Libc.errnoState(arena);
    private final NetlinkMessage message = new NetlinkMessage(buffer);
    private boolean closed;

    private Rtnetlink(int fd) {
        this.fd = fd;
    }

    /** Opens a socket in the calling thread's network namespace. */
    public static Rtnetlink open() throws NativeCallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.errnoState(a);
            int fd = Libc.socket(st, AF_NETLINK, 3 /* SOCK_RAW */ | Libc.SOCK_CLOEXEC, NETLINK_ROUTE);
            if (fd < 0) {
                throw new NativeCallException("socket(AF_NETLINK, NETLINK_ROUTE)", "rtnetlink", Libc.errno(st));
            }
            return new Rtnetlink(fd);
        }
    }

    // ---- links ------------------------------------------------------------------------------

    /** The link named {@code name}; ENODEV when there is none. */
    public Link link(String name) throws NativeCallException {
        message.start(RTM_GETLINK, 0);
        message.ifinfo(0, 0, 0);
        message.attr(IFLA_IFNAME, name);
        return oneLink("RTM_GETLINK", name);
    }

    /** The link with index {@code index}. */
    public Link link(int index) throws NativeCallException {
        message.start(RTM_GETLINK, 0);
        message.ifinfo(index, 0, 0);
        return oneLink("RTM_GETLINK", "ifindex " + index);
    }

    private Link oneLink(String what, String device) throws NativeCallException {
        Link[] found = new Link[1];
        transact(what, device, m -> {
            if (buffer.get(JAVA_SHORT, m + 4) == RTM_NEWLINK) {
                found[0] = message.link(m);
            }
        });
        if (found[0] == null) {
            throw new NativeCallException(what, device, Errno.ENODEV);
        }
        return found[0];
    }

    /** Every link of this namespace, in one dump. */
    public List<Link> links() throws NativeCallException {
        message.start(RTM_GETLINK, NLM_F_DUMP);
        message.ifinfo(0, 0, 0);
        List<Link> links = new ArrayList<>();
        transact("RTM_GETLINK(dump)", "all", m -> {
            if (buffer.get(JAVA_SHORT, m + 4) == RTM_NEWLINK) {
                links.add(message.link(m));
            }
        });
        return links;
    }

    /** Puts the link in device group {@code group} ({@code ip link set X group N}). */
    public void setGroup(int index, int group) throws NativeCallException {
        message.start(RTM_NEWLINK, 0);
        message.ifinfo(index, 0, 0);
        message.attr(IFLA_GROUP, group);
        transact("RTM_NEWLINK(group " + group + ")", "ifindex " + index);
    }

    /** Sets the link administratively up or down. */
    public void setUp(int index, boolean up) throws NativeCallException {
        message.start(RTM_NEWLINK, 0);
        message.ifinfo(index, up ? IFF_UP : 0, IFF_UP);
        transact("RTM_NEWLINK(" + (up ? "up" : "down") + ")", "ifindex " + index);
    }

    /** Sets the link's MTU. */
    public void setMtu(int index, int mtu) throws NativeCallException {
        message.start(RTM_NEWLINK, 0);
        message.ifinfo(index, 0, 0);
        message.attr(IFLA_MTU, mtu);
        transact("RTM_NEWLINK(mtu " + mtu + ")", "ifindex " + index);
    }

    /**
     * Deletes every link of device group {@code group} in this namespace in one request: the
     * kernel unregisters them as one batch (one RCU grace period for all, where deleting them
     * one by one costs one each).
     */
    public void deleteGroup(int group) throws NativeCallException {
        message.start(RTM_DELLINK, 0);
        message.ifinfo(0, 0, 0);
        message.attr(IFLA_GROUP, group);
        try {
            transact("RTM_DELLINK(group " + group + ")", "group " + group);
        } catch (NativeCallException e) {
            if (e.errno() != Errno.ENODEV) { // an empty group
                throw e;
            }
        }
    }

    /**
     * Replaces the link's root qdisc with {@code noqueue}. A TAP gets {@code mq} with a
     * {@code pfifo_fast} for each of its 256 possible queues (three rings of txqueuelen entries
     * each) when it comes up: 6 MB of kernel memory per multi-queue TAP, for queues the switch
     * never uses, since a TAP hands frames to its reader's ring directly. Set while the link is
     * down, no default qdisc is ever made.
     */
    public void setNoQueue(int index) throws NativeCallException {
        message.start(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE);
        // struct tcmsg: family, pad, ifindex, handle, parent (TC_H_ROOT), info
        int s = message.reserve(20);
        buffer.set(JAVA_INT, s, 0);
        buffer.set(JAVA_INT, s + 4, index);
        buffer.set(JAVA_INT, s + 8, 0);
        buffer.set(JAVA_INT, s + 12, 0xFFFF_FFFF);
        buffer.set(JAVA_INT, s + 16, 0);
        message.attr(TCA_KIND, "noqueue");
        transact("RTM_NEWQDISC(root noqueue)", "ifindex " + index);
    }

    /**
     * Moves the link into the network namespace of {@code nsFd}, renaming it to {@code newName}
     * there in the same request ({@code ip link set X netns NS name NEW}). The move clears UP and
     * addresses; the link keeps its MAC, MTU, alias and group.
     */
    public void moveToNamespace(int index, int nsFd, String newName) throws NativeCallException {
        message.start(RTM_NEWLINK, 0);
        message.ifinfo(index, 0, 0);
        message.attr(IFLA_NET_NS_FD, nsFd);
        if (newName != null) {
            message.attr(IFLA_IFNAME, newName);
        }
        transact("RTM_NEWLINK(netns" + (newName != null ? ", name " + newName : "") + ")", "ifindex " + index);
    }

    /** Renames a link (it must be down; the kernel refuses an existing name with EEXIST). */
    public void rename(int index, String newName) throws NativeCallException {
        message.start(RTM_NEWLINK, 0);
        message.ifinfo(index, 0, 0);
        message.attr(IFLA_IFNAME, newName);
        transact("RTM_NEWLINK(name " + newName + ")", "ifindex " + index);
    }

    /** Sets the link's MAC address (48 bits, first octet most significant). */
    public void setMac(int index, long mac) throws NativeCallException {
        message.start(RTM_NEWLINK, 0);
        message.ifinfo(index, 0, 0);
        byte[] bytes = new byte[6];
        for (int i = 0; i < 6; i++) {
            bytes[i] = (byte) (mac >>> (40 - 8 * i));
        }
        message.attr(IFLA_ADDRESS, bytes, false);
        transact("RTM_NEWLINK(address)", "ifindex " + index);
    }

    /** Sets the link's alias ({@code ip link set X alias TEXT}): what it is, for operators and for finding it again. */
    public void setAlias(int index, String alias) throws NativeCallException {
        message.start(RTM_NEWLINK, 0);
        message.ifinfo(index, 0, 0);
        message.attr(IFLA_IFALIAS, alias);
        transact("RTM_NEWLINK(alias)", "ifindex " + index);
    }

    /** Deletes the link. */
    public void deleteLink(int index) throws NativeCallException {
        message.start(RTM_DELLINK, 0);
        message.ifinfo(index, 0, 0);
        transact("RTM_DELLINK", "ifindex " + index);
    }

    /**
     * Adds {@code address/prefix} to the link (an IPv4 or IPv6 address as its 4 or 16 bytes). An
     * IPv6 address skips duplicate address detection: it was allocated here, and DAD would keep it
     * unusable for a second or two after the container starts.
     */
    public void addAddress(int index, byte[] address, int prefix) throws NativeCallException {
        boolean v6 = address.length == 16;
        message.start(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
        int s = message.reserve(8);
        buffer.set(JAVA_BYTE, s, (byte) (v6 ? AF_INET6 : AF_INET));
        buffer.set(JAVA_BYTE, s + 1, (byte) prefix);
        buffer.set(JAVA_BYTE, s + 2, (byte) (v6 ? IFA_F_NODAD : 0));
        buffer.set(JAVA_BYTE, s + 3, (byte) 0); // RT_SCOPE_UNIVERSE
        buffer.set(JAVA_INT, s + 4, index);
        message.attr(IFA_LOCAL, address, false);
        message.attr(IFA_ADDRESS, address, false);
        transact("RTM_NEWADDR", "ifindex " + index);
    }

    /** Adds a default route via {@code gateway} (4 or 16 bytes) out of the link, in the main table. */
    public void addDefaultRoute(int index, byte[] gateway) throws NativeCallException {
        boolean v6 = gateway.length == 16;
        message.start(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
        int s = message.reserve(12);
        buffer.set(JAVA_BYTE, s, (byte) (v6 ? AF_INET6 : AF_INET));
        buffer.set(JAVA_BYTE, s + 1, (byte) 0);   // dst_len: default
        buffer.set(JAVA_BYTE, s + 2, (byte) 0);   // src_len
        buffer.set(JAVA_BYTE, s + 3, (byte) 0);   // tos
        buffer.set(JAVA_BYTE, s + 4, (byte) 254); // RT_TABLE_MAIN
        buffer.set(JAVA_BYTE, s + 5, (byte) 3);   // RTPROT_BOOT, as ip route add
        buffer.set(JAVA_BYTE, s + 6, (byte) 0);   // RT_SCOPE_UNIVERSE
        buffer.set(JAVA_BYTE, s + 7, (byte) 1);   // RTN_UNICAST
        buffer.set(JAVA_INT, s + 8, 0);
        message.attr(RTA_GATEWAY, gateway, false);
        message.attr(RTA_OIF, index);
        transact("RTM_NEWROUTE(default via gateway)", "ifindex " + index);
    }

    // ---- messages ---------------------------------------------------------------------------

    /** Sees one reply message at an offset of the buffer, valid only during the call. */
    @FunctionalInterface
    private interface Replies {
        void reply(int offset);
    }

    /** Sends the request built in the buffer and reads until its acknowledgement. */
    private void transact(String what, String device) throws NativeCallException {
        transact(what, device, m -> { });
    }

    /**
     * Sends the request built in the buffer and reads until its acknowledgement (or the end of a
     * dump), showing every other message of the answer to {@code replies} as it arrives.
     */
    private void transact(String what, String device, Replies replies) throws NativeCallException {
        int request = message.finish();
        int expect = message.seq();
        long n;
        try {
            n = (long) SEND.invokeExact(state, fd, buffer.address(), (long) request, 0);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (n < 0) {
            throw new NativeCallException("send(" + what + ")", device, Libc.errno(state));
        }
        for (;;) {
            try {
                n = (long) RECV.invokeExact(state, fd, buffer.address(), (long) BUFFER, 0);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
            if (n < 0) {
                int errno = Libc.errno(state);
                if (errno == Errno.EINTR) {
                    continue;
                }
                throw new NativeCallException("recv(" + what + ")", device, errno);
            }
            for (int m = 0; m + HEADER <= n; ) {
                int length = buffer.get(JAVA_INT, m);
                if (length < HEADER) {
                    break;
                }
                int type = buffer.get(JAVA_SHORT, m + 4) & 0xFFFF;
                if (buffer.get(JAVA_INT, m + 8) == expect) {
                    if (type == NLMSG_ERROR) {
                        int error = buffer.get(JAVA_INT, m + HEADER);
                        if (error != 0) {
                            throw new NativeCallException(what, device, -error);
                        }
                        return;
                    }
                    if (type == NLMSG_DONE) {
                        return;
                    }
                    replies.reply(m);
                }
                m += (length + 3) & ~3;
            }
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (Arena a = Arena.ofConfined()) {
            Libc.close(Libc.errnoState(a), fd);
        }
        arena.close();
    }
}
