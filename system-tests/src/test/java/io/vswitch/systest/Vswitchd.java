package io.vswitch.systest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real daemon, started with bin/vswitchd inside a namespace, as an operator would. */
final class Vswitchd implements AutoCloseable {
    static final Path ROOT = Path.of(System.getProperty("vswitch.root", "..")).toAbsolutePath().normalize();

    private final Process process;
    private final Path stdout;
    private final Path stderr;
    private final Path socket;

    private Vswitchd(Process process, Path stdout, Path stderr, Path socket) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
        this.socket = socket;
    }

    static Path writeConfig(String yaml) throws IOException {
        Path file = Files.createTempFile("vswitch-test-", ".yaml");
        Files.writeString(file, yaml);
        return file;
    }

    /** Starts the daemon in {@code ns} without waiting. */
    static Vswitchd launch(String ns, Path config) throws IOException {
        return launch(ns, config, Files.createTempDirectory("vswitchd-").resolve("vswitchd.sock"));
    }

    /** Starts the daemon in {@code ns} with a given control socket (a restart uses the same). */
    static Vswitchd launch(String ns, Path config, Path socket) throws IOException {
        return launch(ns, config, socket, java.util.Map.of());
    }

    /** As {@link #launch(String, Path, Path)} with more environment (NOTIFY_SOCKET, VSWITCHD_JAVA_OPTS). */
    static Vswitchd launch(String ns, Path config, Path socket, java.util.Map<String, String> env) throws IOException {
        Path out = Files.createTempFile("vswitchd-", ".out");
        Path err = Files.createTempFile("vswitchd-", ".err");
        ProcessBuilder pb = new ProcessBuilder(List.of("ip", "netns", "exec", ns,
                ROOT.resolve("bin/vswitchd").toString(), "--config", config.toString(),
                "--control-socket", socket.toString()))
                .redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        return new Vswitchd(pb.start(), out, err, socket);
    }

    static Vswitchd start(String ns, Path config, Path socket, java.util.Map<String, String> env) throws Exception {
        Vswitchd d = launch(ns, config, socket, env);
        d.awaitStdout("vswitchd ready", 30);
        return d;
    }

    /** The JVM's pid (ip netns exec and bin/vswitchd exec into it). */
    long pid() {
        return process.pid();
    }

    /** CPU seconds (user + system) the daemon has used so far, from /proc. */
    double cpuSeconds() throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid() + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime, stime in clock ticks
    }

    Path socket() {
        return socket;
    }

    /** Runs bin/vswitchctl against this daemon. */
    Sh.Result ctl(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(ROOT.resolve("bin/vswitchctl").toString(),
                "--socket", socket.toString()));
        command.addAll(List.of(args));
        return Sh.run(60, command);
    }

    /** Runs a vswitchctl read command with --json and parses the output. */
    com.fasterxml.jackson.databind.JsonNode json(String... args) throws IOException {
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.add("--json");
        Sh.Result r = ctl(all.toArray(String[]::new));
        if (!r.ok()) {
            throw new AssertionError("vswitchctl " + all + " failed: " + r);
        }
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
    }

    static Vswitchd start(String ns, Path config, Path socket) throws Exception {
        Vswitchd d = launch(ns, config, socket);
        d.awaitStdout("vswitchd ready", 30);
        return d;
    }

    /** Kills the daemon with SIGKILL: no clean-up of any kind runs. */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Starts the daemon in {@code ns} and waits for "vswitchd ready". */
    static Vswitchd start(String ns, Path config) throws Exception {
        Vswitchd d = launch(ns, config);
        d.awaitStdout("vswitchd ready", 30);
        return d;
    }

    void awaitStdout(String text, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!Files.readString(stdout).contains(text)) {
            if (!process.isAlive()) {
                throw new AssertionError("vswitchd exited " + process.exitValue() + " before printing '" + text
                        + "'\n" + Files.readString(stderr));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("vswitchd did not print '" + text + "' in " + seconds + " s\n" + Files.readString(stderr));
            }
            Thread.sleep(50);
        }
    }

    /** Waits until stderr (the log) contains {@code text}. */
    void awaitLog(String text, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!log().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("log has no '" + text + "' after " + seconds + " s:\n" + log());
            }
            Thread.sleep(50);
        }
    }

    String log() throws IOException {
        return Files.readString(stderr);
    }

    String stdout() throws IOException {
        return Files.readString(stdout);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Waits for the daemon to exit by itself; returns the exit code, or -1 on timeout. */
    int awaitExit(int seconds) throws InterruptedException {
        return process.waitFor(seconds, TimeUnit.SECONDS) ? process.exitValue() : -1;
    }

    /** Sends SIGTERM and returns the exit code, or -1 if it had not exited within {@code seconds}. */
    int terminate(int seconds) throws InterruptedException {
        process.toHandle().destroy(); // SIGTERM
        return awaitExit(seconds);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }
}
