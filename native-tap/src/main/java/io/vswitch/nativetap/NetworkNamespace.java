package io.vswitch.nativetap;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Running code inside another network namespace, and finding the namespaces of this host.
 *
 * <p>Why: a persistent TAP that a runtime moved into a container's namespace can only be found
 * by name from inside that namespace (TUNSETIFF looks the name up in the namespace of the
 * thread that opened {@code /dev/net/tun}). A restarted daemon therefore enters each candidate
 * namespace on a throwaway thread ({@code setns(2)} changes only the calling thread), opens
 * the device there, and keeps the fd, which goes on working from any thread.
 */
public final class NetworkNamespace {
    private static final int CLONE_NEWNET = 0x4000_0000;
    private static final long NS_GET_NSTYPE = 0xb703L;

    private NetworkNamespace() {
    }

    /** The inode identifying the calling thread's network namespace. */
    public static long currentInode() throws IOException {
        return inodeOf(Path.of("/proc/thread-self/ns/net"));
    }

    static long inodeOf(Path nsFile) throws IOException {
        if (Files.isSymbolicLink(nsFile)) {
            String link = Files.readSymbolicLink(nsFile).toString(); // "net:[4026531840]"
            int open = link.indexOf('[');
            if (link.startsWith("net:") && open > 0) {
                return Long.parseLong(link.substring(open + 1, link.length() - 1));
            }
        }
        return ((Number) Files.getAttribute(nsFile, "unix:ino")).longValue();
    }

    /**
     * Every network namespace reachable here, one path each, the caller's own excluded: named
     * ones ({@code ip netns}, {@code /run/netns}), Docker's, then those of running processes.
     */
    public static List<Path> others() {
        Map<Long, Path> found = new LinkedHashMap<>();
        long own;
        try {
            own = currentInode();
        } catch (IOException e) {
            return List.of();
        }
        for (String dir : new String[] {"/run/netns", "/var/run/docker/netns"}) {
            addAll(found, Path.of(dir), null);
        }
        addAll(found, Path.of("/proc"), "ns/net");
        found.remove(own);
        return new ArrayList<>(found.values());
    }

    private static void addAll(Map<Long, Path> found, Path dir, String suffix) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (suffix != null && !name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                Path ns = suffix == null ? entry : entry.resolve(suffix);
                try {
                    found.putIfAbsent(inodeOf(ns), ns);
                } catch (IOException | RuntimeException e) {
                    // Gone meanwhile, or not a namespace file: skip it.
                }
            }
        } catch (IOException e) {
            // Unreadable directory: nothing from here.
        }
    }

    /**
     * Moves the calling thread into the network namespace of {@code nsFd} ({@code setns(2)} changes
     * only the calling thread). For dedicated platform threads only: never a pooled or virtual
     * thread, which other work would then run on in the wrong namespace.
     */
    public static void enter(int nsFd) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            if (Libc.setns(state, nsFd, CLONE_NEWNET) < 0) {
                throw new NativeCallException("setns(CLONE_NEWNET)", "fd " + nsFd, Libc.errno(state));
            }
        }
    }

    /**
     * Opens the network namespace file at {@code path} ({@code /var/run/netns/NAME},
     * {@code /proc/PID/ns/net}) and returns its fd; the caller closes it. Refuses a file that is
     * not a network namespace.
     */
    public static int open(Path path) throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            int fd = Libc.open(state, arena.allocateFrom(path.toString()), Libc.O_CLOEXEC);
            if (fd < 0) {
                throw new NativeCallException("open", path.toString(), Libc.errno(state));
            }
            // NS_GET_NSTYPE (ioctl_ns(2)): CLONE_NEWNET for a network namespace, ENOTTY for any other file.
            int type = Libc.ioctl(state, fd, NS_GET_NSTYPE, 0L);
            if (type != CLONE_NEWNET) {
                int errno = type < 0 ? Libc.errno(state) : Errno.EINVAL;
                Libc.close(state, fd);
                throw new NativeCallException("ioctl(NS_GET_NSTYPE)", path.toString(), errno, "not a network namespace");
            }
            return fd;
        }
    }

    /** An fd of the calling thread's own network namespace, to {@link #enter} it again later. */
    public static int ownFd() throws NativeCallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            int fd = Libc.open(state, arena.allocateFrom("/proc/thread-self/ns/net"), Libc.O_CLOEXEC);
            if (fd < 0) {
                throw new NativeCallException("open", "/proc/thread-self/ns/net", Libc.errno(state));
            }
            return fd;
        }
    }

    /** The inode identifying the namespace behind {@code nsFd}. */
    public static long inodeOf(int nsFd) throws IOException {
        return inodeOf(Path.of("/proc/self/fd/" + nsFd));
    }

    /** Closes a namespace fd from {@link TapDevice#namespaceFd} or {@link #ownFd}. */
    public static void close(int nsFd) {
        try (Arena arena = Arena.ofConfined()) {
            Libc.close(Libc.errnoState(arena), nsFd);
        }
    }

    /** Runs {@code task} on a new platform thread that first enters the namespace at {@code nsFile}. */
    public static <T> T callIn(Path nsFile, Callable<T> task) throws Exception {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Exception> failure = new AtomicReference<>();
        Thread thread = Thread.ofPlatform().name("netns-" + nsFile.getFileName()).start(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = Libc.errnoState(arena);
                int fd = Libc.open(state, arena.allocateFrom(nsFile.toString()), Libc.O_CLOEXEC);
                if (fd < 0) {
                    throw new NativeCallException("open", nsFile.toString(), Libc.errno(state));
                }
                try {
                    if (Libc.setns(state, fd, CLONE_NEWNET) < 0) {
                        throw new NativeCallException("setns(CLONE_NEWNET)", nsFile.toString(), Libc.errno(state));
                    }
                } finally {
                    Libc.close(state, fd);
                }
                result.set(task.call());
            } catch (Exception e) {
                failure.set(e);
            }
        });
        thread.join();
        if (failure.get() != null) {
            throw failure.get();
        }
        return result.get();
    }
}
