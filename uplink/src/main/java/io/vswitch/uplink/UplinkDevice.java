package io.vswitch.uplink;

import io.netty.buffer.ByteBuf;
import io.vswitch.core.DropReason;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.dataplane.EgressQueue;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.FrameBatch;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.PacketSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A host interface (a NIC, or a veth standing for one) on the switch: one AF_PACKET socket per
 * event loop in a fanout group ({@link PacketSocket}), each read by that loop
 * ({@link UplinkQueue}); frames sent to it are queued per loop and go with one
 * {@code sendmmsg} after each batch.
 *
 * <p>An access uplink is one port of one network, and frames cross as they are (an 802.1Q tag
 * is payload to the network). A trunk is a port of several networks: each network's frames carry
 * its VLAN's tag on the wire (at most one network, the native one, untagged). The tag is pushed
 * as a piece of its own between the MAC addresses and the rest of the frame, which is sent from
 * where it lies; on receive a tag in the frame is taken out by moving the 12 bytes of addresses
 * (and the virtio-net header in front of them) 4 bytes on, and a tag the interface already took
 * out (TP_STATUS_VLAN_VALID) is read from the ring's header.
 */
public final class UplinkDevice implements EgressQueue {
    private static final Logger LOG = LoggerFactory.getLogger(UplinkDevice.class);
    private static final AtomicInteger FANOUT_IDS = new AtomicInteger((int) (ProcessHandle.current().pid() & 0x3FFF) << 2);
    static final int BLOCK_SIZE = 1 << 18;
    static final int BLOCKS = 32;
    static final int RETIRE_MS = 1;

    private final String name;
    private final boolean trunk;
    private final boolean vnet;
    private final Dataplane dataplane;
    /** One socket per loop (none for a device over a test's descriptors), and where each lane sends. */
    private final PacketSocket[] sockets;
    private final int[] txFds;
    private final long hostMac;
    private final UplinkQueue[] queues;
    private final FrameBatch[] batches;
    private final int[][] lengths;
    private final UplinkPort[][] pending;
    private final FrameBatch control = new FrameBatch(1);
    /** By VLAN id (0: untagged) for a trunk; index 0 only for an access uplink. Copy-on-write. */
    private volatile UplinkPort[] ports = new UplinkPort[4096];
    private final List<UplinkPort> members = new ArrayList<>();
    private final Runnable onClose;
    private boolean closed;

    private UplinkDevice(String name, boolean trunk, boolean vnet, Dataplane dataplane, PacketSocket[] sockets,
            int[] txFds, long hostMac, Runnable onClose) {
        this.name = name;
        this.trunk = trunk;
        this.vnet = vnet;
        this.dataplane = dataplane;
        this.sockets = sockets;
        this.txFds = txFds;
        this.hostMac = hostMac;
        this.onClose = onClose;
        int loops = dataplane.threads();
        this.queues = new UplinkQueue[sockets.length];
        for (int i = 0; i < sockets.length; i++) {
            queues[i] = new UplinkQueue(this, sockets[i], RxRing.of(sockets[i]), dataplane.lane(i).ring().length);
        }
        int batch = Math.max(64, dataplane.options().batch() * 4);
        this.batches = new FrameBatch[loops];
        this.lengths = new int[loops][batch];
        this.pending = new UplinkPort[loops][batch];
        for (int i = 0; i < loops; i++) {
            batches[i] = new FrameBatch(batch);
        }
    }

    /**
     * Opens interface {@code name}: a socket per loop, read by that loop from now on. Throws
     * naming the call and errno (no such interface, no CAP_NET_RAW, ...).
     */
    static UplinkDevice open(String name, boolean trunk, boolean vnet, Dataplane dataplane, Runnable onClose)
            throws NativeCallException, InterruptedException {
        int loops = dataplane.threads();
        PacketSocket[] sockets = new PacketSocket[loops];
        int group = FANOUT_IDS.incrementAndGet() & 0xFFFF;
        try {
            for (int i = 0; i < loops; i++) {
                sockets[i] = PacketSocket.open(name, new PacketSocket.Options(BLOCK_SIZE, BLOCKS, RETIRE_MS, vnet,
                        loops > 1 ? group : 0));
            }
        } catch (NativeCallException e) {
            for (PacketSocket s : sockets) {
                if (s != null) {
                    s.close();
                }
            }
            throw e;
        }
        int[] fds = new int[loops];
        for (int i = 0; i < loops; i++) {
            fds[i] = sockets[i].fd();
        }
        UplinkDevice d = new UplinkDevice(name, trunk, vnet, dataplane, sockets, fds, sockets[0].mac(), onClose);
        try {
            for (int i = 0; i < loops; i++) {
                dataplane.register(i, d.queues[i]);
            }
            dataplane.addEgressQueue(d);
        } catch (InterruptedException | RuntimeException e) {
            d.shutdown();
            throw e;
        }
        LOG.info("uplink {} open: {} sockets in a fanout group, TPACKET_V3 rings of {} x {} KB, {}{}", name, loops,
                BLOCKS, BLOCK_SIZE >> 10, vnet ? "virtio-net headers (GSO frames cross whole)" : "plain frames",
                trunk ? ", trunk" : "");
        return d;
    }

    /**
     * A device that sends on {@code txFds} (lane i on fd i mod n) and reads nothing of its own,
     * for fd-level tests: what a packet socket's ring holds is handed to an {@link UplinkQueue}
     * over a ring the test lays out ({@link RxRing}).
     */
    static UplinkDevice over(String name, boolean trunk, boolean vnet, Dataplane dataplane, int[] txFds, long hostMac)
            throws InterruptedException {
        UplinkDevice d = new UplinkDevice(name, trunk, vnet, dataplane, new PacketSocket[0], txFds, hostMac, () -> { });
        dataplane.addEgressQueue(d);
        return d;
    }

    public String name() {
        return name;
    }

    public boolean isTrunk() {
        return trunk;
    }

    public boolean vnetHeader() {
        return vnet;
    }

    int queues() {
        return sockets.length;
    }

    /** The interface's own MAC (frames to it are the host's). */
    long hostMac() {
        return hostMac;
    }

    /** Adds the port of a network: {@link UplinkPort#ACCESS}, {@link UplinkPort#NATIVE} or a VLAN id. */
    synchronized UplinkPort add(int vlan) {
        int index = vlan == UplinkPort.ACCESS ? 0 : vlan;
        if (ports[index] != null) {
            throw new IllegalArgumentException("uplink " + name + " already carries "
                    + (vlan <= 0 ? "an untagged network" : "vlan " + vlan) + " (network " + ports[index].domain() + ")");
        }
        UplinkPort p = new UplinkPort(this, vlan, dataplane.lanes());
        UplinkPort[] next = ports.clone();
        next[index] = p;
        ports = next;
        members.add(p);
        return p;
    }

    synchronized void remove(UplinkPort p) {
        if (!members.remove(p)) {
            return;
        }
        UplinkPort[] next = ports.clone();
        next[p.vlan() == UplinkPort.ACCESS ? 0 : p.vlan()] = null;
        ports = next;
        if (members.isEmpty()) {
            shutdown();
        }
    }

    synchronized List<UplinkPort> members() {
        return List.copyOf(members);
    }

    /** The port of VLAN {@code vlan} (0: untagged), or null. Data path. */
    UplinkPort port(int vlan) {
        return ports[vlan];
    }

    private synchronized void shutdown() {
        if (closed) {
            return;
        }
        closed = true;
        for (UplinkQueue q : queues) {
            dataplane.unregister(q);
        }
        dataplane.removeEgressQueue(this);
        dataplane.grace().await(1_000_000_000L);
        for (PacketSocket s : sockets) {
            s.close();
        }
        LOG.info("uplink {} closed; the interface left promiscuous mode", name);
        onClose.run();
    }

    /** An error the kernel reported on one of the sockets (read and cleared by its loop). */
    void socketError(int errno, int lane) {
        if (errno == 0) {
            return;
        }
        List<UplinkPort> all = members();
        if (errno == Errno.ENODEV || errno == Errno.ENXIO) {
            for (UplinkPort p : all) {
                if (p.fail("uplink " + name + ": " + Errno.name(errno) + " (" + Errno.meaning(errno) + ")")) {
                    dataplane.portFailed(p);
                }
            }
            return;
        }
        if (!all.isEmpty()) {
            all.getFirst().countDrop(lane, errno == Errno.ENETDOWN ? DropReason.LINK_DOWN : DropReason.TX_ERROR);
        }
        if (loggedErrors.add(errno)) {
            LOG.warn("uplink {}: the kernel reports {} ({}); frames go on when it clears", name, Errno.name(errno),
                    Errno.meaning(errno));
        }
    }

    private final java.util.Set<Integer> loggedErrors = java.util.concurrent.ConcurrentHashMap.newKeySet();

    // ---- sending ----------------------------------------------------------------------------

    /**
     * Queues {@code frame} for the wire from {@code port} (pushing its VLAN tag on a trunk); sent
     * after the lane's batch. From the control lane it goes at once.
     */
    void send(UplinkPort port, ByteBuf frame, int lane) {
        if (lane >= batches.length) {
            sendNow(port, frame, lane);
            return;
        }
        FrameBatch b = batches[lane];
        if (b.isFull()) {
            flush(lane);
        }
        int i = b.size();
        lengths[lane][i] = frame.readableBytes();
        pending[lane][i] = port;
        queue(b, port, frame);
    }

    /** Sends {@code frame} at once (the control lane's frames, and memory reused when this returns). */
    void sendNow(UplinkPort port, ByteBuf frame, int lane) {
        synchronized (control) {
            queue(control, port, frame);
            int length = frame.readableBytes();
            if (control.flush(txFds[0]) == 1) {
                port.sent(lane, length);
            } else {
                port.countDrop(lane, control.lastErrno() == Errno.EAGAIN || control.lastErrno() == Errno.ENOBUFS
                        ? DropReason.TX_FULL : DropReason.TX_ERROR);
            }
        }
    }

    private void queue(FrameBatch b, UplinkPort port, ByteBuf frame) {
        long address = frame.memoryAddress() + frame.readerIndex();
        int length = frame.readableBytes();
        int vlan = port.vlan();
        long scratch = b.begin();
        if (vlan <= 0 || length < 14) {
            if (vnet) {
                b.part(address - VirtioNetHeader.LENGTH, length + VirtioNetHeader.LENGTH);
            } else {
                b.part(address, length);
            }
        } else {
            MemorySegment s = MemorySegment.ofAddress(scratch).reinterpret(16);
            if (vnet) {
                // The header moves with the frame: its offsets count from the frame's start.
                MemorySegment.copy(MemorySegment.ofAddress(address - VirtioNetHeader.LENGTH).reinterpret(10), 0, s, 0, 10);
                fixHeader(s, 0, +4);
                b.part(scratch, VirtioNetHeader.LENGTH);
            }
            MemorySegment tag = MemorySegment.ofAddress(scratch + 12).reinterpret(4);
            tag.set(JAVA_BYTE, 0, (byte) 0x81);
            tag.set(JAVA_BYTE, 1, (byte) 0x00);
            tag.set(JAVA_BYTE, 2, (byte) (vlan >>> 8));
            tag.set(JAVA_BYTE, 3, (byte) vlan);
            b.part(address, 12);
            b.part(scratch + 12, 4);
            b.part(address + 12, length - 12);
        }
        b.end();
    }

    /** Moves a virtio-net header's offsets by {@code delta} bytes (a tag pushed or popped in front of them). */
    static void fixHeader(MemorySegment s, long at, int delta) {
        int flags = s.get(JAVA_BYTE, at) & 0xFF;
        int gso = s.get(JAVA_BYTE, at + 1) & 0xFF;
        if ((flags & VirtioNetHeader.FLAG_NEEDS_CSUM) != 0) {
            int start = Short.toUnsignedInt(s.get(JAVA_SHORT.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), at + 6));
            s.set(JAVA_SHORT.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), at + 6, (short) (start + delta));
        }
        if (gso != VirtioNetHeader.GSO_NONE) {
            int hdr = Short.toUnsignedInt(s.get(JAVA_SHORT.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), at + 2));
            if (hdr != 0) {
                s.set(JAVA_SHORT.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), at + 2, (short) (hdr + delta));
            }
        }
    }

    /** Sends lane {@code lane}'s queue: after each batch, or when it is full. */
    @Override
    public void flush(int lane) {
        FrameBatch b = batches[lane];
        int n = b.size();
        if (n == 0) {
            return;
        }
        int sent = b.flush(txFds[lane % txFds.length]);
        UplinkPort[] who = pending[lane];
        int[] len = lengths[lane];
        int errno = b.lastErrno();
        DropReason why = errno == Errno.EAGAIN || errno == Errno.ENOBUFS ? DropReason.TX_FULL
                : errno == Errno.ENETDOWN ? DropReason.LINK_DOWN : DropReason.TX_ERROR;
        for (int i = 0; i < n; i++) {
            if (i < sent) {
                who[i].sent(lane, len[i]);
            } else {
                who[i].countDrop(lane, why);
            }
            who[i] = null;
        }
    }

    static long readLong(long address) {
        return MemorySegment.ofAddress(address).reinterpret(8).get(JAVA_LONG, 0);
    }
}
