package io.vswitch.systest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a command with a time limit and returns its exit code and output. */
final class Sh {
    record Result(int code, String out, String err) {
        boolean ok() {
            return code == 0;
        }

        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private Sh() {
    }

    static Result run(int timeoutSeconds, List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            // Read both streams on their own threads so a chatty command cannot block on a full pipe.
            var out = new StringBuilder();
            var err = new StringBuilder();
            Thread to = Thread.ofVirtual().start(() -> drain(p.getInputStream(), out));
            Thread te = Thread.ofVirtual().start(() -> drain(p.getErrorStream(), err));
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                to.join(1000);
                te.join(1000);
                return new Result(124, out.toString(), err + "\n(timed out after " + timeoutSeconds + " s: " + command + ")");
            }
            to.join(5000);
            te.join(5000);
            return new Result(p.exitValue(), out.toString(), err.toString());
        } catch (IOException e) {
            return new Result(127, "", command.get(0) + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(130, "", "interrupted");
        }
    }

    static Result run(int timeoutSeconds, String... command) {
        return run(timeoutSeconds, List.of(command));
    }

    /** Runs and fails with the whole output when the command fails. */
    static String must(int timeoutSeconds, String... command) {
        Result r = run(timeoutSeconds, command);
        if (!r.ok()) {
            throw new AssertionError(String.join(" ", command) + " failed: " + r);
        }
        return r.out();
    }

    private static void drain(java.io.InputStream in, StringBuilder sink) {
        try (in) {
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) {
                synchronized (sink) {
                    sink.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
            }
        } catch (IOException ignored) {
            // The process ended.
        }
    }
}
