package io.vswitch.daemon;

import io.vswitch.control.EndpointSpec;
import io.vswitch.control.Requests;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.NetworkNamespace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;

/**
 * A container's network namespace as a caller names it: a path (/var/run/netns/NAME) or a
 * process's, checked to be a namespace this process can open; and an endpoint found by what
 * detach names it by, its namespace matched by path or by inode (the same namespace under
 * another name).
 */
final class ContainerNamespace {
    private ContainerNamespace() {
    }

    /** The namespace file of {@code netns} or {@code pid} (one of them), checked; refusals name the field. */
    static Path of(String netns, Integer pid) {
        if (netns != null && pid != null) {
            throw new SpecException("netns", "give a namespace path or a pid, not both");
        }
        Path p;
        if (pid != null) {
            if (pid < 1) {
                throw new SpecException("pid", "expected a process id, got " + pid);
            }
            p = Path.of("/proc/" + pid + "/ns/net");
            if (!Files.exists(p)) {
                throw new SpecException("pid", "no process " + pid + " (no " + p + ")");
            }
        } else if (netns != null) {
            p = Path.of(netns);
            if (!p.isAbsolute()) {
                throw new SpecException("netns", "expected an absolute path such as /var/run/netns/NAME, got \"" + netns + "\"");
            }
            if (!Files.exists(p)) {
                throw new SpecException("netns", "network namespace " + netns + " does not exist");
            }
        } else {
            throw new SpecException("netns", "say where the container is: a namespace path or a pid");
        }
        try {
            NetworkNamespace.close(NetworkNamespace.open(p));
        } catch (NativeCallException e) {
            throw new SpecException("netns", e.getMessage());
        }
        return p;
    }

    /** The endpoint of {@code network} that {@code r} names; throws 404-kind when none matches. */
    static Attachments.Endpoint find(String network, Collection<Attachments.Endpoint> endpoints, Requests.Detach r) {
        Long inode = null;
        Path ns = null;
        if (r.netns() != null || r.pid() != null) {
            ns = r.pid() != null ? Path.of("/proc/" + r.pid() + "/ns/net") : Path.of(r.netns());
            inode = inode(ns);
        }
        for (Attachments.Endpoint e : endpoints) {
            EndpointSpec s = e.spec();
            boolean match = r.id() != null ? r.id().equals(s.id())
                    : r.name() != null ? r.name().equals(s.name())
                    : ns != null && s.netns() != null && (s.netns().equals(ns.toString())
                            || (inode != null && inode.equals(inode(Path.of(s.netns())))));
            if (match) {
                return e;
            }
        }
        String what = r.id() != null ? "id " + r.id() : r.name() != null ? "name " + r.name()
                : ns != null ? "namespace " + ns : null;
        if (what == null) {
            throw new SpecException("detach", "say which endpoint: an id, a name, a namespace path or a pid");
        }
        throw SpecException.notFound("endpoint", "network " + network + " has no endpoint with " + what);
    }

    private static Long inode(Path ns) {
        try {
            int fd = NetworkNamespace.open(ns);
            try {
                return NetworkNamespace.inodeOf(fd);
            } finally {
                NetworkNamespace.close(fd);
            }
        } catch (IOException e) {
            return null;
        }
    }
}
