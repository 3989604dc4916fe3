package io.vswitch.docker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether the dockerd that calls the driver shares the driver's network namespace. Docker moves
 * the interface an endpoint's Join names ({@code SrcName}) into its container by name, looked
 * up in dockerd's own namespace; the switch makes that interface in its own. In two namespaces
 * every {@code docker run} fails late, after the network was made, with Docker's
 * {@code failed to get link by name "vs...": Link not found}. So the calls that lead there are
 * refused at once with the reason and the fix: dockerd in the switch's namespace (or both in
 * the host's). The caller is the process at the other end of the plugin socket (SO_PEERCRED);
 * one that cannot be told (another PID namespace, gone) is not refused.
 */
final class CallerNamespace {
    /** The calls that make something Docker will then look for by name. */
    private static final java.util.Set<String> CHECKED = java.util.Set.of("/NetworkDriver.CreateNetwork",
            "/NetworkDriver.CreateEndpoint", "/NetworkDriver.Join");

    private final Path proc;

    CallerNamespace() {
        this(Path.of("/proc"));
    }

    /** Tests: another /proc. */
    CallerNamespace(Path proc) {
        this.proc = proc;
    }

    /** Why the call from {@code pid} to {@code path} is refused, or null when it is not. */
    String refusal(int pid, String path) {
        if (pid <= 0 || !CHECKED.contains(path)) {
            return null;
        }
        String theirs = namespace(proc.resolve(pid + "/ns/net"));
        String ours = namespace(proc.resolve("self/ns/net"));
        if (theirs == null || ours == null || theirs.equals(ours)) {
            return null;
        }
        return "dockerd (pid " + pid + ") runs in network namespace " + theirs + ", the vswitch driver in " + ours
                + ": Docker moves an endpoint's interface into its container by name from its own namespace and would"
                + " not find it (\"failed to get link by name\"). Run dockerd in vswitchd's namespace (nsenter --net="
                + proc.resolve(ProcessHandle.current().pid() + "/ns/net") + " dockerd ...), or both in the host's";
    }

    private static String namespace(Path link) {
        try {
            return Files.readSymbolicLink(link).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }
}
