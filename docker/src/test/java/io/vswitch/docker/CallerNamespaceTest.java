package io.vswitch.docker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A dockerd in another network namespace than the driver's, seen through a /proc made in a temporary directory. */
class CallerNamespaceTest {
    @TempDir
    Path proc;

    private CallerNamespace with(long callerNs) throws Exception {
        Files.createDirectories(proc.resolve("self/ns"));
        Files.createSymbolicLink(proc.resolve("self/ns/net"), Path.of("net:[4026531840]"));
        Files.createDirectories(proc.resolve("42/ns"));
        Files.createSymbolicLink(proc.resolve("42/ns/net"), Path.of("net:[" + callerNs + "]"));
        return new CallerNamespace(proc);
    }

    @Test
    void aDockerdInAnotherNamespaceIsToldWhyAndWhatToDo() throws Exception {
        CallerNamespace c = with(4026532570L);
        for (String call : new String[] {"/NetworkDriver.CreateNetwork", "/NetworkDriver.CreateEndpoint", "/NetworkDriver.Join"}) {
            String why = c.refusal(42, call);
            assertTrue(why != null && why.startsWith("dockerd (pid 42) runs in network namespace net:[4026532570],"
                    + " the vswitch driver in net:[4026531840]"), call + ": " + why);
            assertTrue(why.contains("Run dockerd in vswitchd's namespace (nsenter --net="), why);
        }
        assertNull(c.refusal(42, "/NetworkDriver.DeleteNetwork"), "what cleans up is never refused");
        assertNull(c.refusal(42, "/NetworkDriver.Leave"));
        assertNull(c.refusal(42, "/Plugin.Activate"));
    }

    @Test
    void theSameNamespaceOrACallerThatCannotBeToldIsNotRefused() throws Exception {
        CallerNamespace c = with(4026531840L);
        assertNull(c.refusal(42, "/NetworkDriver.CreateNetwork"));
        assertNull(c.refusal(0, "/NetworkDriver.CreateNetwork"), "another PID namespace: pid 0");
        assertNull(c.refusal(7, "/NetworkDriver.CreateNetwork"), "gone");
    }
}
