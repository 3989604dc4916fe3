package io.vswitch.uplink;

import io.vswitch.nativetap.PacketSocket;

import java.lang.foreign.MemorySegment;

/**
 * A TPACKET_V3 receive ring as an {@link UplinkQueue} reads it: the memory the kernel fills
 * block by block, its geometry, the descriptor epoll watches for it, and the interface's own MAC
 * (frames to it are the host's). Taken from an AF_PACKET socket, or laid out by a test in memory
 * of its own the way the kernel does (block descriptor, then {@code tpacket3_hdr} + frame each).
 */
record RxRing(int fd, MemorySegment memory, int blockSize, int blocks, long hostMac) {
    static RxRing of(PacketSocket socket) {
        return new RxRing(socket.fd(), MemorySegment.ofAddress(socket.ring()).reinterpret(socket.ringSize()),
                socket.blockSize(), socket.blocks(), socket.mac());
    }
}
