package io.vswitch.daemon;

import com.fasterxml.jackson.databind.SerializationFeature;
import io.vswitch.control.Json;
import io.vswitch.control.NetworkSpec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;

/**
 * The running state, kept next to the config file: every network, port and static MAC entry,
 * rewritten after every change through the API. Writes are atomic (a temp file in the same
 * directory, forced to disk, then renamed over the old one), so a crash leaves either the old
 * or the new state, never half of one. A lock file beside it (an fcntl lock, released by the
 * kernel even on kill -9) keeps a second daemon off the same state and names the holder.
 */
public final class StateFile implements AutoCloseable {
    /** The file's content: version 2 leaves absent what takes a default (version 1 wrote vni 0 for a local network). */
    public record State(int version, List<NetworkSpec> networks) {
    }

    private final Path path;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private StateFile(Path path, FileChannel lockChannel, FileLock lock) {
        this.path = path;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /** The default place: {@code NAME.state.json} beside {@code NAME.yaml}. */
    public static Path besideConfig(Path config) {
        String name = config.getFileName().toString().replaceFirst("\\.ya?ml$", "");
        return config.toAbsolutePath().resolveSibling(name + ".state.json");
    }

    /** Takes the lock; throws naming the holder when another daemon has it. */
    public static StateFile lock(Path path) throws IOException {
        Path lockPath = path.resolveSibling(path.getFileName() + ".lock");
        Files.createDirectories(path.toAbsolutePath().getParent());
        FileChannel channel = FileChannel.open(lockPath, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock();
        if (lock == null) {
            String holder = new String(Files.readAllBytes(lockPath), StandardCharsets.US_ASCII).trim();
            channel.close();
            throw new IOException("state file " + path + " is held by another vswitchd ("
                    + (holder.isEmpty() ? "unknown pid" : "pid " + holder) + "); stop it or use another config");
        }
        channel.truncate(0);
        channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
        channel.force(true);
        return new StateFile(path, channel, lock);
    }

    public Path path() {
        return path;
    }

    public boolean exists() {
        return Files.exists(path);
    }

    public List<NetworkSpec> read() throws IOException {
        State state = Json.LENIENT.readValue(path.toFile(), State.class);
        if (state.networks() == null) {
            return List.of();
        }
        return state.networks().stream().map(n -> n.vni() != null && n.vni() == 0 ? new NetworkSpec(n.name(), n.mtu(),
                n.macAgingSeconds(), n.macLimit(), null, n.peers(), n.persist(), n.offload(), n.ports(), n.statics()) : n)
                .toList();
    }

    public void write(List<NetworkSpec> networks) throws IOException {
        byte[] bytes = Json.LENIENT.writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(new State(2, networks));
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        // Only root reads it: it names every container's interface.
        try (FileChannel out = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                out.write(buf);
            }
            out.force(true);
        }
        try {
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Override
    public void close() throws IOException {
        lock.release();
        lockChannel.close();
    }
}
