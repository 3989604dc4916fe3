package io.vswitch.tapio;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.ToLongFunction;

/**
 * Whether anything but this process still holds a container's network namespace.
 *
 * <p>A TAP queue's fd keeps the namespace it was opened in alive (verified on 6.18: the tun
 * file's socket takes a reference on {@code current}'s namespace at {@code open("/dev/net/tun")},
 * and TUNSETIFF makes or finds the device in that namespace). The switch opens the TAPs of
 * attached containers right inside them (a move between namespaces costs ~20 ms), so when a
 * runtime deletes such a namespace ({@code ip netns del}, the last process exiting) nothing
 * happens that the switch could see: the namespace lives on, held by the daemon's fds alone,
 * with the device up, its addresses and routes, answering ARP and ping for the container that
 * is gone, and every frame written to it counted as sent. (A TAP opened elsewhere and moved
 * into a namespace is different: when that namespace goes the kernel unregisters the device,
 * its reads and writes fail with EBADFD and epoll reports EPOLLERR, which the data path sees.)
 *
 * <p>So the link watcher asks, for each port whose fds were opened inside a namespace, whether
 * anybody else still holds it: the path it was named by (a bind mount such as
 * {@code /var/run/netns/NAME}, or {@code /proc/PID/ns/net}) still naming it, a process in it, a
 * mount of it (as runtimes bind-mount theirs), or an fd of another process open on it. Only
 * when the path no longer names it are the others looked for, so a namespace that lives costs
 * one {@code open} and {@code fstat} per sweep. What it cannot see: a namespace held only by a
 * socket another process made in it, or a mount in another mount namespace; such a namespace
 * is taken for gone once its path is.
 */
final class NamespaceHolders {
    private final Path proc;
    private final long selfPid;
    private final ToLongFunction<Path> inodeOfPath;

    /** The host's /proc, this process excluded. */
    NamespaceHolders(ToLongFunction<Path> inodeOfPath) {
        this(Path.of("/proc"), ProcessHandle.current().pid(), inodeOfPath);
    }

    /**
     * {@code proc}: where the processes are ({@code PID/ns/net}, {@code PID/fd/N},
     * {@code self/mountinfo}); {@code inodeOfPath}: the namespace inode a path names, or -1.
     */
    NamespaceHolders(Path proc, long selfPid, ToLongFunction<Path> inodeOfPath) {
        this.proc = proc;
        this.selfPid = selfPid;
        this.inodeOfPath = inodeOfPath;
    }

    /** Whether namespace {@code inode}, once named by {@code name}, is held by anything but this process. */
    boolean held(Path name, long inode) {
        if (name != null && inodeOfPath.applyAsLong(name) == inode) {
            return true;
        }
        String link = "net:[" + inode + "]";
        return mounted(link) || processIn(link);
    }

    /** A mount of the namespace in this process's mount namespace (mountinfo's root field is "net:[INODE]"). */
    private boolean mounted(String link) {
        try {
            for (String line : Files.readAllLines(proc.resolve("self/mountinfo"))) {
                String[] f = line.split(" ", 5);
                if (f.length > 3 && f[3].equals(link) && line.contains(" - nsfs ")) {
                    return true;
                }
            }
        } catch (IOException e) {
            return true; // cannot tell: keep the port
        }
        return false;
    }

    /** A process other than this one in the namespace, or with an fd open on it. */
    private boolean processIn(String link) {
        try (DirectoryStream<Path> pids = Files.newDirectoryStream(proc, p -> isPid(p.getFileName().toString()))) {
            for (Path pid : pids) {
                if (Long.parseLong(pid.getFileName().toString()) == selfPid) {
                    continue;
                }
                if (link.equals(readLink(pid.resolve("ns/net"))) || fdOn(pid.resolve("fd"), link)) {
                    return true;
                }
            }
        } catch (IOException e) {
            return true; // cannot tell: keep the port
        }
        return false;
    }

    private static boolean fdOn(Path fds, String link) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(fds)) {
            for (Path fd : entries) {
                if (link.equals(readLink(fd))) {
                    return true;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Gone meanwhile, or not ours to read.
        }
        return false;
    }

    private static String readLink(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    private static boolean isPid(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (!Character.isDigit(name.charAt(i))) {
                return false;
            }
        }
        return true;
    }
}
