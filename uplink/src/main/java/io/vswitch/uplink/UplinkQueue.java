package io.vswitch.uplink;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vswitch.core.DropReason;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.VirtioNetHeader;
import io.vswitch.dataplane.Lane;
import io.vswitch.dataplane.LaneHandle;
import io.vswitch.nativetap.PacketSocket;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The receive side of one uplink socket, read by one loop: the TPACKET_V3 ring, block by block,
 * frames read in place. Each frame is handed to the pipeline as a view of the ring (one of a
 * fixed set of buffers over the whole ring, re-pointed with {@code setIndex}: nothing allocated
 * per frame) and its block goes back to the kernel once every frame of it was forwarded.
 *
 * <p>Frames of a trunk go to the port of their VLAN (consecutive frames of one VLAN make one
 * batch); an untagged frame to the native port. A frame for no port of the uplink is dropped
 * ({@code vlan-unknown}), and so is one addressed to the interface's own MAC ({@code to-host}: the
 * host's stack has it). A frame the ring could not hold whole (longer than a block) is dropped as
 * {@code oversize}.
 */
final class UplinkQueue extends LaneHandle {
    private static final VarHandle INT = JAVA_INT.varHandle();
    /** Frames at most per wake-up before the loop's other handles get their turn. */
    private static final int BUDGET_BATCHES = 4;

    private final UplinkDevice device;
    /** Where errors are read from; null for a ring that is not a socket's (tests). */
    private final PacketSocket socket;
    private final MemorySegment ring;
    private final ByteBuf[] views;
    private final ByteBuf[] batch;
    private final int blockSize;
    private final int blocks;
    private final long hostMac;
    /** The block being read, how many of its frames are left, where the next one is. */
    private int block;
    private int left;
    private long offset;

    UplinkQueue(UplinkDevice device, PacketSocket socket, RxRing rx, int batchSize) {
        super(rx.fd());
        this.device = device;
        this.socket = socket;
        this.ring = rx.memory();
        this.blockSize = rx.blockSize();
        this.blocks = rx.blocks();
        this.views = new ByteBuf[batchSize];
        this.batch = new ByteBuf[batchSize];
        for (int i = 0; i < batchSize; i++) {
            // A direct ByteBuffer over the mapped ring (through FFM, so no reflection is needed),
            // wrapped once: Netty reads its address, and setIndex points it at one frame.
            views[i] = Unpooled.wrappedBuffer(ring.asByteBuffer());
            if (!views[i].hasMemoryAddress()) {
                throw new IllegalStateException("Netty cannot address the ring's memory directly");
            }
        }
        this.hostMac = rx.hostMac();
    }

    @Override
    protected void ready(Lane lane, boolean error) {
        if (error && socket != null) {
            // The interface went down or away: the error must be read, or a level-triggered
            // EPOLLERR keeps the loop spinning.
            device.socketError(socket.takeError(), lane.index());
        }
        long start = lane.enter();
        try {
            read(lane, start);
        } finally {
            lane.exit(start);
        }
    }

    private void read(Lane lane, long start) {
        int budget = views.length * BUDGET_BATCHES;
        int n = 0;
        UplinkPort current = null;
        while (budget > 0) {
            long b = (long) block * blockSize;
            if (left == 0) {
                int status = (int) INT.getAcquire(ring, b + PacketSocket.BLOCK_STATUS);
                if ((status & PacketSocket.TP_STATUS_USER) == 0) {
                    break;
                }
                left = ring.get(JAVA_INT, b + PacketSocket.BLOCK_NUM_PKTS);
                offset = b + ring.get(JAVA_INT, b + PacketSocket.BLOCK_FIRST);
                if (left == 0) {
                    release(b);
                    continue;
                }
            }
            while (left > 0 && n < views.length) {
                long h = offset;
                int next = ring.get(JAVA_INT, h + PacketSocket.PKT_NEXT);
                int snap = ring.get(JAVA_INT, h + PacketSocket.PKT_SNAPLEN);
                int len = ring.get(JAVA_INT, h + PacketSocket.PKT_LEN);
                int status = ring.get(JAVA_INT, h + PacketSocket.PKT_STATUS);
                int mac = Short.toUnsignedInt(ring.get(JAVA_SHORT, h + PacketSocket.PKT_MAC));
                offset += next;
                left--;
                budget--;
                long at = h + mac;
                int length = snap;
                int vlan;
                int tpid = 0;
                if ((status & PacketSocket.TP_STATUS_VLAN_VALID) != 0) {
                    // The interface took the tag out; it is in the ring's header.
                    vlan = ring.get(JAVA_INT, h + PacketSocket.PKT_VLAN_TCI) & 0x0FFF;
                    tpid = (status & PacketSocket.TP_STATUS_VLAN_TPID_VALID) != 0
                            ? Short.toUnsignedInt(ring.get(JAVA_SHORT, h + PacketSocket.PKT_VLAN_TPID))
                            : EthernetFrame.ETHER_TYPE_VLAN;
                } else {
                    vlan = -1;
                }
                UplinkPort to;
                if (!device.isTrunk()) {
                    to = device.port(0);
                    if (to != null && vlan >= 0 && snap >= 12) {
                        // An access uplink passes tags through: put back the one the interface took out.
                        at -= 4;
                        length += 4;
                        insertTag(at, tpid, ring.get(JAVA_INT, h + PacketSocket.PKT_VLAN_TCI) & 0xFFFF);
                    }
                } else {
                    if (vlan < 0 && snap >= 18 && isTag(at + 12)) {
                        vlan = Short.toUnsignedInt(Short.reverseBytes(ring.get(JAVA_SHORT, at + 14))) & 0x0FFF;
                        popTag(at);
                        at += 4;
                        length -= 4;
                    }
                    to = device.port(vlan < 0 ? 0 : vlan);
                }
                if (snap < len) {
                    if (to != null) {
                        to.countDrop(lane.index(), DropReason.OVERSIZE);
                    }
                    continue;
                }
                if (to == null) {
                    UplinkPort any = device.port(0);
                    if (any != null) {
                        any.countDrop(lane.index(), DropReason.VLAN_UNKNOWN);
                    }
                    continue;
                }
                if (length >= 6 && destination(at) == hostMac) {
                    to.countDrop(lane.index(), DropReason.TO_HOST);
                    continue;
                }
                if (current != to && n > 0) {
                    lane.forward(current, batch, n, start);
                    n = 0;
                }
                current = to;
                int index = (int) at; // the views start where the ring does
                views[n].setIndex(index, index + length);
                batch[n] = views[n];
                n++;
            }
            if (n > 0) {
                lane.forward(current, batch, n, start);
                n = 0;
            }
            if (left == 0) {
                release(b);
            }
        }
    }

    private void release(long b) {
        INT.setRelease(ring, b + PacketSocket.BLOCK_STATUS, PacketSocket.TP_STATUS_KERNEL);
        block = block + 1 == blocks ? 0 : block + 1;
        left = 0;
    }

    private boolean isTag(long etherTypeAt) {
        int type = Short.toUnsignedInt(Short.reverseBytes(ring.get(JAVA_SHORT, etherTypeAt)));
        return type == EthernetFrame.ETHER_TYPE_VLAN || type == EthernetFrame.ETHER_TYPE_QINQ;
    }

    private long destination(long at) {
        long mac = 0;
        for (int i = 0; i < 6; i++) {
            mac = (mac << 8) | (ring.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at + i) & 0xFF);
        }
        return mac;
    }

    /**
     * Takes the tag at {@code at + 12} out: the addresses (and a virtio-net header in front of
     * them) move 4 bytes on, so the frame then starts at {@code at + 4}.
     */
    private void popTag(long at) {
        if (device.vnetHeader()) {
            long header = at - VirtioNetHeader.LENGTH;
            MemorySegment.copy(ring, header, ring, header + 4, VirtioNetHeader.LENGTH + 12);
            UplinkDevice.fixHeader(ring, header + 4, -4);
        } else {
            MemorySegment.copy(ring, at, ring, at + 4, 12);
        }
    }

    /**
     * Puts a tag back in front of the frame at {@code at + 4}: its addresses (and header) move 4
     * bytes back, into the room the ring leaves in front of every frame.
     */
    private void insertTag(long at, int tpid, int tci) {
        if (device.vnetHeader()) {
            long header = at + 4 - VirtioNetHeader.LENGTH;
            MemorySegment.copy(ring, header, ring, header - 4, VirtioNetHeader.LENGTH + 12);
            UplinkDevice.fixHeader(ring, header - 4, +4);
        } else {
            MemorySegment.copy(ring, at + 4, ring, at, 12);
        }
        ring.set(java.lang.foreign.ValueLayout.JAVA_BYTE, at + 12, (byte) (tpid >>> 8));
        ring.set(java.lang.foreign.ValueLayout.JAVA_BYTE, at + 13, (byte) tpid);
        ring.set(java.lang.foreign.ValueLayout.JAVA_BYTE, at + 14, (byte) (tci >>> 8));
        ring.set(java.lang.foreign.ValueLayout.JAVA_BYTE, at + 15, (byte) tci);
    }
}
