package io.vswitch.systest;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A 10 MB TCP transfer between two namespaces, checked by SHA-256 at both ends (python3). */
final class Transfer {
    private static final String RECEIVER = """
            import socket, hashlib, sys
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((sys.argv[1], 5001)); s.listen(1); s.settimeout(60)
            print('ready', flush=True)
            c, _ = s.accept(); c.settimeout(60); h = hashlib.sha256(); n = 0
            while True:
                b = c.recv(65536)
                if not b: break
                h.update(b); n += len(b)
            print(n, h.hexdigest(), flush=True)
            """;
    private static final String SENDER = """
            import socket, hashlib, random, sys
            random.seed(7); data = random.randbytes(10 * 1024 * 1024)
            c = socket.create_connection((sys.argv[1], 5001), timeout=60); c.sendall(data); c.close()
            print(len(data), hashlib.sha256(data).hexdigest(), flush=True)
            """;

    private Transfer() {
    }

    /** Sends 10 MB from {@code fromNs} to {@code toIp} in {@code toNs}; asserts size and hash. */
    static void tenMegabytes(Netns netns, String fromNs, String toNs, String toIp) throws Exception {
        Process rx = new ProcessBuilder("ip", "netns", "exec", toNs, "python3", "-c", RECEIVER, toIp)
                .redirectErrorStream(true).start();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(rx.getInputStream()))) {
            assertEquals("ready", lines.readLine());
            Sh.Result tx = netns.exec(120, fromNs, "python3", "-c", SENDER, toIp);
            assertTrue(tx.ok(), tx.toString());
            String received = lines.readLine();
            assertTrue(rx.waitFor(30, TimeUnit.SECONDS));
            assertEquals(tx.out().trim(), received, "bytes and sha256 at the receiver");
            assertTrue(received.startsWith("10485760 "));
        } finally {
            rx.destroyForcibly();
        }
    }
}
