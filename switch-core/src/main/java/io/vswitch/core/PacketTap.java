package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * Something that watches a network's frames on the data path (a capture): it sees each frame a
 * port receives ({@link #received}) and each frame sent to a port ({@link #sent}), as the
 * network sees them (a tunnel's inner frames), on the lane that handles them. It must not keep,
 * change or block on the frame: it copies what it wants into memory of its own and returns.
 */
public interface PacketTap {
    /** {@code frame} came in on {@code port} (after validation, before it is forwarded). */
    void received(Port port, ByteBuf frame, int lane);

    /** {@code frame} is being sent to {@code port}. */
    void sent(Port port, ByteBuf frame, int lane);
}
