package io.vswitch.dataplane;

import io.netty.buffer.ByteBuf;
import io.vswitch.core.DropReason;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.nativetap.FrameIo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * An 802.1Q trunk on a frame device (a TAP): the device ({@code carrier}) belongs to no network
 * itself; each network the trunk carries has a {@link VlanPort} on it. Frames read from the
 * device go to the port of their tag's VLAN, the tag taken out by moving the 12 bytes of
 * addresses (and the virtio-net header in front of them) 4 bytes on; untagged ones to the
 * native port; others are dropped ({@code vlan-unknown}). Frames sent by a VLAN's port go out
 * with one {@code writev}: the addresses, a 4-byte tag from a scratch of the lane's, and the rest
 * of the frame where it lies (with offloads a copy of the header, its offsets moved by 4, first).
 */
public final class VlanTrunk {
    private static final Logger LOG = LoggerFactory.getLogger(VlanTrunk.class);
    private static final int IOVEC = 16;
    private static final java.lang.foreign.ValueLayout.OfShort LE_SHORT =
            JAVA_SHORT.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private final FdPort carrier;
    private final Dataplane dataplane;
    private volatile VlanPort[] ports = new VlanPort[4096];
    private final List<VlanPort> members = new ArrayList<>();
    /** Per lane: iovecs for one frame (4) and a scratch for its header and tag. */
    private final MemorySegment[] iov;
    private final MemorySegment[] scratch;
    /** Per lane: a batch's frames of one VLAN, handed to its network together. */
    private final ByteBuf[][] group;
    private final Runnable onClose;
    private boolean closed;

    /** Makes {@code carrier} a trunk and starts reading it (its handles on their loops). */
    public static VlanTrunk start(FdPort carrier, Dataplane dataplane, Runnable onClose) throws InterruptedException {
        VlanTrunk t = new VlanTrunk(carrier, dataplane, onClose);
        carrier.carry(t);
        List<LaneHandle> handles = carrier.handles();
        boolean onePerLoop = handles.size() == dataplane.threads();
        List<LaneHandle> registered = new ArrayList<>();
        try {
            for (int i = 0; i < handles.size(); i++) {
                dataplane.register(onePerLoop ? i : i % dataplane.threads(), handles.get(i));
                registered.add(handles.get(i));
            }
        } catch (InterruptedException | RuntimeException e) {
            registered.forEach(dataplane::unregister);
            throw e;
        }
        LOG.info("tap {} is a VLAN trunk ({} queues{})", carrier.name(), handles.size(),
                carrier.offloads() ? ", offloads on" : "");
        return t;
    }

    private VlanTrunk(FdPort carrier, Dataplane dataplane, Runnable onClose) {
        this.carrier = carrier;
        this.dataplane = dataplane;
        this.onClose = onClose;
        int lanes = dataplane.lanes();
        this.iov = new MemorySegment[lanes];
        this.scratch = new MemorySegment[lanes];
        this.group = new ByteBuf[lanes][];
        Arena arena = Arena.ofAuto();
        for (int i = 0; i < lanes; i++) {
            iov[i] = arena.allocate(IOVEC * 4, 8);
            scratch[i] = arena.allocate(16, 8);
            group[i] = new ByteBuf[dataplane.options().batch()];
        }
    }

    public String name() {
        return carrier.name();
    }

    public FdPort carrier() {
        return carrier;
    }

    /** Adds the port of VLAN {@code vlan} (0: the native, untagged network). */
    public synchronized VlanPort add(int vlan) {
        if (ports[vlan] != null) {
            throw new IllegalArgumentException("trunk " + name() + " already carries "
                    + (vlan == 0 ? "an untagged (native) network" : "vlan " + vlan));
        }
        VlanPort p = new VlanPort(this, vlan, dataplane.lanes());
        VlanPort[] next = ports.clone();
        next[vlan] = p;
        ports = next;
        members.add(p);
        return p;
    }

    synchronized void remove(VlanPort p) {
        if (!members.remove(p)) {
            return;
        }
        VlanPort[] next = ports.clone();
        next[p.vlan()] = null;
        ports = next;
        if (members.isEmpty() && !closed) {
            closed = true;
            for (LaneHandle h : carrier.handles()) {
                dataplane.unregister(h);
            }
            dataplane.grace().await(1_000_000_000L);
            carrier.close();
            LOG.info("trunk {} closed", name());
            onClose.run();
        }
    }

    public synchronized List<VlanPort> members() {
        return List.copyOf(members);
    }

    // ---- receive ----------------------------------------------------------------------------

    void received(Lane lane, ByteBuf[] frames, int count, long start) {
        VlanPort[] byVlan = ports;
        ByteBuf[] g = group[lane.index()];
        boolean vnet = carrier.offloads();
        VlanPort current = null;
        int n = 0;
        for (int i = 0; i < count; i++) {
            ByteBuf f = frames[i];
            int vlan = 0;
            int at = f.readerIndex();
            if (f.readableBytes() >= 18) {
                int type = f.getUnsignedShort(at + 12);
                if (type == EthernetFrame.ETHER_TYPE_VLAN || type == EthernetFrame.ETHER_TYPE_QINQ) {
                    vlan = f.getUnsignedShort(at + 14) & 0x0FFF;
                    pop(f, vnet);
                }
            }
            VlanPort to = byVlan[vlan];
            if (to == null) {
                VlanPort any = current != null ? current : firstMember(byVlan);
                if (any != null) {
                    any.countDrop(lane.index(), DropReason.VLAN_UNKNOWN);
                }
                continue;
            }
            if (to != current && n > 0) {
                lane.forward(current, g, n, start);
                n = 0;
            }
            current = to;
            g[n++] = f;
        }
        if (n > 0) {
            lane.forward(current, g, n, start);
        }
    }

    private static VlanPort firstMember(VlanPort[] byVlan) {
        for (VlanPort p : byVlan) {
            if (p != null) {
                return p;
            }
        }
        return null;
    }

    /** Takes the tag out: the addresses (and the header in front of them) move 4 bytes on. */
    private static void pop(ByteBuf f, boolean vnet) {
        int at = f.readerIndex();
        long a = f.getLong(at);
        int b = f.getInt(at + 8);
        if (vnet) {
            int h = at - VirtioNetHeader.LENGTH;
            long h0 = f.getLong(h);
            short h1 = f.getShort(h + 8);
            f.setLong(h + 4, h0);
            f.setShort(h + 12, h1);
            shift(f, h + 4, -4);
        }
        f.setLong(at + 4, a);
        f.setInt(at + 12, b);
        f.readerIndex(at + 4);
    }

    /** Moves a virtio-net header's offsets (at {@code h} in {@code f}) by {@code delta}. */
    private static void shift(ByteBuf f, int h, int delta) {
        int flags = f.getUnsignedByte(h);
        int gso = f.getUnsignedByte(h + 1);
        if ((flags & VirtioNetHeader.FLAG_NEEDS_CSUM) != 0) {
            f.setShortLE(h + 6, f.getUnsignedShortLE(h + 6) + delta);
        }
        if (gso != VirtioNetHeader.GSO_NONE && f.getUnsignedShortLE(h + 2) != 0) {
            f.setShortLE(h + 2, f.getUnsignedShortLE(h + 2) + delta);
        }
    }

    // ---- send -------------------------------------------------------------------------------

    void send(VlanPort port, ByteBuf frame, int lane) {
        int vlan = port.vlan();
        int length = frame.readableBytes();
        boolean vnet = carrier.offloads();
        long address = frame.memoryAddress() + frame.readerIndex();
        int fd = carrier.txFd(lane);
        int n;
        if (vlan == 0 || length < 14) {
            n = FrameIo.write(fd, vnet ? address - VirtioNetHeader.LENGTH : address,
                    vnet ? length + VirtioNetHeader.LENGTH : length, dataplane.errnoSlot(lane));
        } else {
            MemorySegment v = iov[lane];
            MemorySegment s = scratch[lane];
            int parts = 0;
            if (vnet) {
                MemorySegment.copy(MemorySegment.ofAddress(address - VirtioNetHeader.LENGTH).reinterpret(10), 0, s, 0, 10);
                int flags = s.get(JAVA_BYTE, 0) & 0xFF;
                if ((flags & VirtioNetHeader.FLAG_NEEDS_CSUM) != 0) {
                    s.set(LE_SHORT, 6, (short) (Short.toUnsignedInt(s.get(LE_SHORT, 6)) + 4));
                }
                if ((s.get(JAVA_BYTE, 1) & 0xFF) != VirtioNetHeader.GSO_NONE && s.get(LE_SHORT, 2) != 0) {
                    s.set(LE_SHORT, 2, (short) (Short.toUnsignedInt(s.get(LE_SHORT, 2)) + 4));
                }
                parts = part(v, parts, s.address(), VirtioNetHeader.LENGTH);
            }
            s.set(JAVA_BYTE, 12, (byte) 0x81);
            s.set(JAVA_BYTE, 13, (byte) 0x00);
            s.set(JAVA_BYTE, 14, (byte) (vlan >>> 8));
            s.set(JAVA_BYTE, 15, (byte) vlan);
            parts = part(v, parts, address, 12);
            parts = part(v, parts, s.address() + 12, 4);
            parts = part(v, parts, address + 12, length - 12);
            n = FrameIo.writev(fd, v.address(), parts, dataplane.errnoSlot(lane));
        }
        if (n >= 0) {
            port.sent(lane, length);
        } else {
            carrier.writeFailed(port, -n, lane);
        }
    }

    private static int part(MemorySegment v, int i, long address, int length) {
        v.set(JAVA_LONG, (long) i * IOVEC, address);
        v.set(JAVA_LONG, (long) i * IOVEC + 8, length);
        return i + 1;
    }
}
