package io.vswitch.tapio;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Who holds a namespace, read from a /proc made in a temporary directory: links such as
 * {@code PID/ns/net -> net:[42]} and a mountinfo file, as the kernel shows them.
 */
class NamespaceHoldersTest {
    private static final long NS = 4026532570L;
    private static final long SELF = 999;

    @TempDir
    Path proc;

    private void process(long pid, long ns) throws IOException {
        Files.createDirectories(proc.resolve(pid + "/ns"));
        Files.createDirectories(proc.resolve(pid + "/fd"));
        Files.createSymbolicLink(proc.resolve(pid + "/ns/net"), Path.of("net:[" + ns + "]"));
        // What /proc shows for a pipe: an fd that holds no namespace (a link target inside the
        // directory, so that JUnit's clean-up has nothing outside it to warn about).
        Files.createSymbolicLink(proc.resolve(pid + "/fd/0"), Path.of("pipe:[7]"));
    }

    private NamespaceHolders holders(long pathNames) throws IOException {
        Files.createDirectories(proc.resolve("self"));
        if (!Files.exists(proc.resolve("self/mountinfo"))) {
            Files.writeString(proc.resolve("self/mountinfo"),
                    "22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
                    + "36 35 0:4 net:[4026531840] /run/netns/other rw shared:5 - nsfs nsfs rw\n");
        }
        if (!Files.exists(proc.resolve("sys"))) {
            Files.createDirectories(proc.resolve("sys")); // not a pid: skipped
            process(SELF, NS); // this process's own threads enter namespaces: never a holder
            process(1, 4026531840L);
        }
        return new NamespaceHolders(proc, SELF, path -> pathNames);
    }

    @Test
    void aNamespaceItsPathStillNamesIsHeld() throws IOException {
        assertTrue(holders(NS).held(Path.of("/var/run/netns/web"), NS));
    }

    @Test
    void aNamespaceWhosePathIsGoneAndThatOnlyThisProcessHoldsIsNot() throws IOException {
        NamespaceHolders h = holders(-1);
        assertFalse(h.held(Path.of("/var/run/netns/web"), NS));
        assertFalse(holders(4026531840L).held(Path.of("/var/run/netns/web"), NS), "the path names another namespace now");
    }

    @Test
    void aProcessInItKeepsItHeld() throws IOException {
        NamespaceHolders h = holders(-1);
        process(4242, NS);
        assertTrue(h.held(Path.of("/proc/17/ns/net"), NS), "the pid attached by exited; another process of the container lives");
    }

    @Test
    void aMountOfItKeepsItHeld() throws IOException {
        Files.createDirectories(proc.resolve("self"));
        Files.writeString(proc.resolve("self/mountinfo"), "40 35 0:4 net:[" + NS + "] /run/docker/netns/abc rw - nsfs nsfs rw\n");
        assertTrue(holders(-1).held(null, NS));
    }

    @Test
    void anotherProcesssFdOnItKeepsItHeld() throws IOException {
        NamespaceHolders h = holders(-1);
        process(4243, 4026531840L);
        Files.createSymbolicLink(proc.resolve("4243/fd/7"), Path.of("net:[" + NS + "]"));
        assertTrue(h.held(null, NS));
    }
}
