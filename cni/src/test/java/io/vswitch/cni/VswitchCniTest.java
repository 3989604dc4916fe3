package io.vswitch.cni;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The plugin's answers that need no daemon and no root: versions, and errors in the spec's form. */
class VswitchCniTest {
    private record Answer(int exit, Map<String, Object> json) {
    }

    private static Answer run(String command, String stdin, String... env) throws Exception {
        Map<String, String> vars = new HashMap<>();
        if (command != null) {
            vars.put("CNI_COMMAND", command);
        }
        for (int i = 0; i < env.length; i += 2) {
            vars.put(env[i], env[i + 1]);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit = new VswitchCni(vars, stdin.getBytes(StandardCharsets.UTF_8), new PrintStream(out, true, StandardCharsets.UTF_8)).run();
        return new Answer(exit, VswitchCni.parse(out.toString(StandardCharsets.UTF_8)));
    }

    private static final String DOWN = "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"vswitch-cni\",\"socket\":\"/nonexistent.sock\"}";

    @Test
    void versionListsOneAndOneOne() throws Exception {
        Answer a = run("VERSION", "{\"cniVersion\":\"1.0.0\"}");
        assertEquals(0, a.exit());
        assertEquals(List.of("1.0.0", "1.1.0"), a.json().get("supportedVersions"));
    }

    @Test
    void errorsCarryTheSpecsCodes() throws Exception {
        assertEquals(4, run(null, DOWN).json().get("code"), "no CNI_COMMAND");
        assertEquals(4, run("FROB", DOWN).json().get("code"));
        assertEquals(6, run("ADD", "{nope").json().get("code"));
        assertEquals(1, run("ADD", "{\"cniVersion\":\"0.3.1\",\"name\":\"n\"}").json().get("code"));
        assertEquals(7, run("ADD", "{\"cniVersion\":\"1.0.0\"}").json().get("code"), "no name");
        assertEquals(7, run("ADD", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"socket\":\"relative\"}").json().get("code"));
        assertEquals(4, run("ADD", DOWN, "CNI_NETNS", "/proc/self/ns/net", "CNI_IFNAME", "eth0").json().get("code"),
                "no CNI_CONTAINERID");
        assertEquals(11, run("ADD", DOWN, "CNI_CONTAINERID", "c", "CNI_NETNS", "/proc/self/ns/net", "CNI_IFNAME", "eth0")
                .json().get("code"), "the daemon is not running: try again later");
        Answer status = run("STATUS", DOWN);
        assertEquals(1, status.exit());
        assertEquals(50, status.json().get("code"));
        assertTrue(((String) status.json().get("msg")).contains("not running"));
        assertEquals("1.1.0", status.json().get("cniVersion"));
    }
}
