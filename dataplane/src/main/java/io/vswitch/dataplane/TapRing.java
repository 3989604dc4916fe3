package io.vswitch.dataplane;

import io.netty.buffer.ByteBuf;
import io.vswitch.nativetap.IoUring;

/**
 * One lane's io_uring: the reads of a TAP queue's batch and the writes a batch sends to TAPs,
 * each set handed to the kernel with one io_uring_enter instead of a system call per frame.
 *
 * <p>Writes: during a batch ({@link Lane#forward}) every frame for an {@link FdPort} is queued
 * here, its buffer retained, and the whole set goes out when the pipeline is done with the batch
 * ({@link #flush}: the lane's first {@link EgressQueue}), before the ring buffers are reused;
 * then each write is counted on its port as a direct write would have been, and the buffers
 * released. A frame a later port changes in place (a checksum finished for a port without
 * offloads) stays whole: the write reads the memory at flush, and the change keeps the frame and
 * its virtio-net header consistent. Writes from scratch memory that is reused at once (GSO
 * segments cut for a port without offloads) and writes outside a batch go directly, after what
 * is queued.
 *
 * <p>Reads: {@link FdQueue} queues as many reads as the last batches suggest will find a frame
 * (what the last batch found and a quarter more, at least {@link #MIN_READS}, doubling
 * while they all find one), submits them with one enter and
 * takes the frames that came; the rest fail with EAGAIN without waiting. Loop thread only.
 */
final class TapRing implements EgressQueue, AutoCloseable {
    /**
     * Reads queued at least per batch: one for the frame that woke the loop, one to see whether
     * another came behind it (what the epoll path does with its second, EAGAIN, read). A read
     * that finds nothing is not free (~0.4 us, {@code bench/jmh RingReadBench}), so the count
     * follows what the last batches found.
     */
    static final int MIN_READS = 2;

    private final IoUring ring;
    private final FdPort[] ports;
    private final ByteBuf[] buffers;
    private final int[] lengths;
    private int writes;
    private Lane lane;
    /** Frames written and system calls made, for syscalls per frame in {@code show}. */
    private long framesWritten;
    private long framesRead;

    TapRing(IoUring ring) {
        this.ring = ring;
        this.ports = new FdPort[ring.capacity()];
        this.buffers = new ByteBuf[ring.capacity()];
        this.lengths = new int[ring.capacity()];
    }

    IoUring ring() {
        return ring;
    }

    /** The lane whose io_uring this is (set once, by the lane). */
    void attach(Lane owner) {
        this.lane = owner;
    }

    /** Whether writes are being queued: inside one of the lane's batches. */
    boolean batching() {
        return lane.inBatch();
    }

    /** Queues a write of {@code length + header} bytes starting {@code header} bytes before {@code frame}'s data. */
    void write(FdPort port, int fd, ByteBuf frame, int header, int lane) {
        if (ring.queued() == ring.capacity()) {
            flush(lane);
        }
        int length = frame.readableBytes();
        int slot = ring.write(fd, frame.memoryAddress() + frame.readerIndex() - header, length + header);
        ports[slot] = port;
        buffers[slot] = frame.retain();
        lengths[slot] = length;
        writes++;
    }

    /** Submits the queued writes and counts each on its port. */
    @Override
    public void flush(int lane) {
        if (writes == 0) {
            return;
        }
        int n = writes;
        ring.submit();
        writes = 0;
        framesWritten += n;
        for (int slot = 0; slot < n; slot++) {
            FdPort port = ports[slot];
            port.written(ring.result(slot), lengths[slot], lane);
            buffers[slot].release();
            buffers[slot] = null;
            ports[slot] = null;
        }
    }

    void countReads(int frames) {
        framesRead += frames;
    }

    long framesRead() {
        return framesRead;
    }

    long framesWritten() {
        return framesWritten;
    }

    long enters() {
        return ring.enters();
    }

    @Override
    public void close() {
        ring.close();
    }
}
