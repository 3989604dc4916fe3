package io.vswitch.systest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** tcpdump on one interface of one namespace: start, send traffic, stop, count what it saw. */
final class Capture implements AutoCloseable {
    private final Process process;
    private final Path out;
    private final Path err;

    private Capture(Process process, Path out, Path err) {
        this.process = process;
        this.out = out;
        this.err = err;
    }

    static Capture start(String ns, String dev, String filter) throws Exception {
        return start(ns, dev, filter, false);
    }

    /** As {@link #start(String, String, String)}; with {@code linkLevel} each line shows MACs and 802.1Q tags (-e). */
    static Capture start(String ns, String dev, String filter, boolean linkLevel) throws Exception {
        Path out = Files.createTempFile("capture-", ".txt");
        Path err = Files.createTempFile("capture-", ".err");
        List<String> cmd = new java.util.ArrayList<>(List.of("ip", "netns", "exec", ns, "tcpdump", "-i", dev, "-n", "-l",
                "--immediate-mode", "-U"));
        if (linkLevel) {
            cmd.add("-e");
        }
        cmd.add(filter);
        Process p = new ProcessBuilder(cmd)
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.readString(err).contains("listening on")) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new AssertionError("tcpdump did not start in " + ns + ": " + Files.readString(err));
            }
            Thread.sleep(20);
        }
        return new Capture(p, out, err);
    }

    /** Stops the capture and returns the packet lines it printed. */
    List<String> stop() throws IOException, InterruptedException {
        Thread.sleep(200); // let the last frames in flight arrive
        process.destroy();
        process.waitFor(5, TimeUnit.SECONDS);
        return Files.readAllLines(out).stream().filter(l -> !l.isBlank()).toList();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
