package io.vswitch.capture;

import io.vswitch.core.BridgeDomain;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The daemon's captures: each one a {@link CaptureSession} writing pcap to a path its client
 * gives, a FIFO the client reads ({@code vswitchctl capture} makes one) or a file that does not
 * exist yet (never an existing file: nothing is overwritten). At most {@link #MAX} at once.
 */
public final class Captures {
    public static final int MAX = 16;

    private final Map<Long, CaptureSession> sessions = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    /**
     * Starts capturing on {@code domain} (one port of it when {@code port} is not null), with a
     * tcpdump filter expression or none, {@code count} frames (0: until stopped), to {@code output}.
     */
    public CaptureSession start(BridgeDomain domain, String port, String filter, long count, Path output)
            throws IOException {
        if (sessions.size() >= MAX) {
            throw new IllegalStateException("at most " + MAX + " captures run at once; stop one first");
        }
        if (count < 0) {
            throw new IllegalArgumentException("count: expected 0 (no end) or more, got " + count);
        }
        if (output == null || !output.isAbsolute()) {
            throw new IllegalArgumentException("output: expected an absolute path (a FIFO, or a file to create)");
        }
        boolean fifo;
        if (Files.exists(output, LinkOption.NOFOLLOW_LINKS)) {
            int mode = (Integer) Files.getAttribute(output, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            fifo = (mode & 0xF000) == 0x1000; // S_IFIFO: not a device, not a socket
            if (!fifo) {
                throw new IllegalArgumentException("output: " + output + " exists and is not a FIFO; captures never"
                        + " overwrite a file");
            }
        } else {
            fifo = false;
            if (output.getParent() == null || !Files.isDirectory(output.getParent())) {
                throw new IllegalArgumentException("output: no directory " + output.getParent());
            }
        }
        Bpf bpf = filter == null || filter.isBlank() ? null : Bpf.compile(filter);
        long id = ids.incrementAndGet();
        CaptureSession.OutputOpener opener = fifo ? () -> new FileOutputStream(output.toFile())
                : () -> Files.newOutputStream(output, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        CaptureSession s = new CaptureSession(id, domain, port, bpf, count, opener, () -> sessions.remove(id));
        if (fifo) {
            // A writer waits in open() until the FIFO has a reader: stopping lets it through.
            s.unblockWith(() -> {
                try (var in = new java.io.FileInputStream(output.toFile())) {
                    in.available();
                } catch (IOException ignored) {
                    // gone: the writer will see it
                }
            });
        }
        sessions.put(id, s);
        s.start();
        return s;
    }

    public List<CaptureSession> list() {
        return sessions.values().stream().sorted(java.util.Comparator.comparingLong(CaptureSession::id)).toList();
    }

    public CaptureSession get(long id) {
        return sessions.get(id);
    }

    /** Stops one capture; false when there is none of that id. */
    public boolean stop(long id) {
        CaptureSession s = sessions.remove(id);
        if (s == null) {
            return false;
        }
        s.stop();
        return true;
    }

    /** Stops the captures of a network (it is going away). */
    public void stopAll(BridgeDomain domain) {
        for (CaptureSession s : List.copyOf(sessions.values())) {
            if (s.network().equals(domain.name())) {
                stop(s.id());
            }
        }
    }

    public void close() {
        for (CaptureSession s : List.copyOf(sessions.values())) {
            stop(s.id());
        }
    }
}
