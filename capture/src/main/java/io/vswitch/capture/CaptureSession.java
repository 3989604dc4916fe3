package io.vswitch.capture;

import io.netty.buffer.ByteBuf;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.PacketTap;
import io.vswitch.core.Port;
import java.util.concurrent.ArrayBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One capture of a network's frames: on the data path ({@link PacketTap}) each frame of the
 * chosen port (received and sent) or, without a port, each frame the network receives, that
 * passes the filter, is copied into a bounded queue; a thread of its own writes the queue as pcap
 * to {@code out}. The switch never waits for the reader: when the queue is full the frame is
 * lost and counted ({@link #lost}). With a count, exactly that many frames are captured, then
 * the capture ends. It ends too when the output fails (the reader went away) or on {@link #stop}.
 */
public final class CaptureSession implements PacketTap {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureSession.class);
    static final int QUEUE = 4096;
    /** Bytes queued at most (64 KB offload frames would otherwise hold 256 MB). */
    static final long QUEUE_BYTES = 16 << 20;

    /** A copied frame: when, its bytes (up to the snap length) and its length. */
    private record Copy(long nanos, byte[] data, int length) {
    }

    private final long id;
    private final BridgeDomain domain;
    private final String portName;
    private final Bpf filter;
    private final long count;
    private final ArrayBlockingQueue<Copy> queue = new ArrayBlockingQueue<>(QUEUE);
    private final AtomicLong taken = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final long startedNanos = System.currentTimeMillis() * 1_000_000L - System.nanoTime();
    private final Thread writer;
    private volatile boolean stopped;
    private volatile boolean opened;
    /** What unblocks a writer still waiting for its FIFO's reader (it reads once and closes), or null. */
    private Runnable unblock;
    private volatile String endedBecause;
    private final Runnable onEnd;

    CaptureSession(long id, BridgeDomain domain, String portName, Bpf filter, long count, OutputOpener opener,
            Runnable onEnd) {
        this.id = id;
        this.domain = domain;
        this.portName = portName;
        this.filter = filter;
        this.count = count;
        this.onEnd = onEnd;
        this.writer = Thread.ofPlatform().daemon().name("vswitch-capture-" + id).unstarted(() -> write(opener));
    }

    /** Opens the output on the writer thread (opening a FIFO waits for its reader). */
    @FunctionalInterface
    interface OutputOpener {
        OutputStream open() throws IOException;
    }

    void start() {
        domain.addTap(this);
        writer.start();
    }

    public long id() {
        return id;
    }

    public String network() {
        return domain.name();
    }

    public String port() {
        return portName;
    }

    public String filter() {
        return filter == null ? null : filter.expression();
    }

    public long count() {
        return count;
    }

    /** Frames captured so far (queued or written). */
    public long captured() {
        return taken.get();
    }

    public long written() {
        return written.get();
    }

    /** Frames lost because the reader was slower than the switch. */
    public long lost() {
        return lost.get();
    }

    public boolean isRunning() {
        return !stopped;
    }

    @Override
    public void received(Port port, ByteBuf frame, int lane) {
        if (portName == null || portName.equals(port.name())) {
            copy(frame);
        }
    }

    @Override
    public void sent(Port port, ByteBuf frame, int lane) {
        if (portName != null && portName.equals(port.name())) {
            copy(frame);
        }
    }

    private void copy(ByteBuf frame) {
        if (stopped || (filter != null && !filter.matches(frame))) {
            return;
        }
        if (count > 0) {
            long n = taken.incrementAndGet();
            if (n > count) {
                return;
            }
        } else {
            taken.incrementAndGet();
        }
        int size = Math.min(frame.readableBytes(), Pcap.SNAPLEN);
        if (queue.remainingCapacity() == 0 || queuedBytes.get() + size > QUEUE_BYTES) {
            // the reader is behind: lose the frame before copying it
            lost.incrementAndGet();
            if (count > 0) {
                taken.decrementAndGet();
            }
            return;
        }
        int length = frame.readableBytes();
        byte[] data = new byte[Math.min(length, Pcap.SNAPLEN)];
        frame.getBytes(frame.readerIndex(), data);
        queuedBytes.addAndGet(data.length);
        if (!queue.offer(new Copy(startedNanos + System.nanoTime(), data, length))) {
            queuedBytes.addAndGet(-data.length);
            lost.incrementAndGet();
            if (count > 0) {
                taken.decrementAndGet(); // a lost frame leaves its place to the next one
            }
        }
    }

    private void write(OutputOpener opener) {
        String why = "stopped";
        try (OutputStream raw = opener.open(); OutputStream out = new BufferedOutputStream(raw, 1 << 16)) {
            opened = true;
            Pcap.writeHeader(out);
            out.flush();
            while (!stopped) {
                Copy c = queue.poll();
                if (c == null) {
                    out.flush();
                    if (count > 0 && written.get() >= count) {
                        why = "count reached";
                        break;
                    }
                    java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
                    continue;
                }
                queuedBytes.addAndGet(-c.data().length);
                Pcap.writeRecord(out, c.nanos(), c.data(), c.data().length, c.length());
                written.incrementAndGet();
            }
            out.flush();
        } catch (IOException e) {
            why = "output closed (" + e.getMessage() + ")";
        } finally {
            stopped = true;
            domain.removeTap(this);
            endedBecause = why;
            LOG.info("capture {} of network {}{} ended: {}; {} frames written, {} lost", id, domain.name(),
                    portName == null ? "" : " port " + portName, why, written.get(), lost.get());
            onEnd.run();
        }
    }

    /** Why it ended, or null while it runs. */
    public String endedBecause() {
        return endedBecause;
    }

    /** Stops the capture: nothing more is copied, what is queued is dropped, the output closes. */
    public void stop() {
        stopped = true;
        domain.removeTap(this);
        writer.interrupt();
        if (!opened && unblock != null) {
            Thread.ofPlatform().daemon().name("vswitch-capture-unblock-" + id).start(unblock);
        }
    }

    void unblockWith(Runnable r) {
        this.unblock = r;
    }

    /** Waits for the writer thread to finish. */
    public boolean await(long millis) throws InterruptedException {
        writer.join(millis);
        return !writer.isAlive();
    }
}
