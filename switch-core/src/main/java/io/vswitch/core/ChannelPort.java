package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * An in-memory port, like gVisor's {@code channel} link endpoint: what the switch transmits is
 * kept in a queue (as copies, since the switch reuses its buffers) or only counted. For tests
 * and benchmarks; never used with real devices. In an offload network it takes frames whole,
 * virtio-net header and all, unless made {@link #plain}: then GSO frames reach it cut into
 * segments, as a TAP without offloads gets them.
 */
public final class ChannelPort extends Port {
    private final boolean keepFrames;
    private final boolean tunnel;
    private final boolean wholeFrames;
    private final ConcurrentLinkedQueue<ByteBuf> sent = new ConcurrentLinkedQueue<>();

    /** {@code tunnel}: behave as a tunnel port for split horizon. */
    public ChannelPort(String name, int lanes, boolean keepFrames, boolean tunnel) {
        this(name, lanes, keepFrames, tunnel, true);
    }

    private ChannelPort(String name, int lanes, boolean keepFrames, boolean tunnel, boolean wholeFrames) {
        super(name, lanes);
        this.keepFrames = keepFrames;
        this.tunnel = tunnel;
        this.wholeFrames = wholeFrames;
    }

    /** A port that keeps what it is sent and takes no virtio-net header (no offloads). */
    public static ChannelPort plain(String name, int lanes) {
        return new ChannelPort(name, lanes, true, false, false);
    }

    @Override
    public boolean offloads() {
        return wholeFrames && inOffloadNetwork();
    }

    public ChannelPort(String name, int lanes) {
        this(name, lanes, true, false);
    }

    @Override
    public boolean isTunnel() {
        return tunnel;
    }

    @Override
    public void transmit(ByteBuf frame, int lane) {
        if (keepFrames) {
            sent.add(Unpooled.copiedBuffer(frame));
        }
        countTx(lane, frame.readableBytes());
    }

    /** The next frame this port transmitted, or null; the caller releases it. */
    public ByteBuf poll() {
        return sent.poll();
    }

    public int pending() {
        return sent.size();
    }

    /** Drops and releases everything kept so far. */
    public void clear() {
        ByteBuf b;
        while ((b = sent.poll()) != null) {
            b.release();
        }
    }

    @Override
    public String kind() {
        return "channel";
    }
}
