package io.vswitch.systest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The README's own commands, run as written: a fenced block that follows a line
 * {@code <!-- DocsTest: NAME -->} is what {@link #block} returns, so the README cannot drift from
 * what the tests run. Before a script runs, the names a test must not share with anything else on
 * the machine (namespaces, /tmp directories, the Docker plugin's name) are replaced, each as a
 * whole word, by names of the test's own: only those, and the test says which.
 */
final class Readme {
    private static final Pattern MARK = Pattern.compile("<!-- DocsTest: ([a-z0-9-]+) -->\n```[a-z]*\n(.*?)```", Pattern.DOTALL);

    private Readme() {
    }

    /** Every marked block of the README, by name. */
    static Map<String, String> blocks() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = MARK.matcher(Files.readString(Vswitchd.ROOT.resolve("README.md")));
        while (m.find()) {
            if (out.put(m.group(1), m.group(2)) != null) {
                throw new AssertionError("README.md marks two blocks " + m.group(1));
            }
        }
        return out;
    }

    static String block(String name) throws IOException {
        String b = blocks().get(name);
        if (b == null) {
            throw new AssertionError("README.md has no block marked <!-- DocsTest: " + name + " -->");
        }
        return b;
    }

    /** {@code text} with each key replaced by its value where it stands as a whole word (not inside a longer name), in order. */
    static String rename(String text, Map<String, String> names) {
        String out = text;
        for (Map.Entry<String, String> e : names.entrySet()) {
            out = Pattern.compile("(?<![\\w.-])" + Pattern.quote(e.getKey()) + "(?![\\w-])").matcher(out)
                    .replaceAll(Matcher.quoteReplacement(e.getValue()));
        }
        return out;
    }

    /** What a script printed (stdout and stderr together, with bash's +-trace of each command) and how it ended. */
    record Run(int code, String output) {
        boolean ok() {
            return code == 0;
        }

        @Override
        public String toString() {
            return "exit " + code + "\n" + output;
        }
    }

    /**
     * Runs {@code script} with bash ({@code set -euxo pipefail}) from the repository's root, in a
     * session of its own, with {@code env} added; its output goes to a file (daemons it starts in
     * the background keep writing there). Whatever of the session is still running at the end
     * (the daemons of a script that failed half-way) is stopped: SIGTERM to the session's
     * process group, SIGKILL after 20 s.
     */
    static Run run(String script, Map<String, String> env, int timeoutSeconds, Path work) throws Exception {
        Path log = work.resolve("readme-script.log");
        List<String> command = List.of("setsid", "bash", "-c", "set -euxo pipefail\n" + script);
        ProcessBuilder pb = new ProcessBuilder(command).directory(Vswitchd.ROOT.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("PATH", Vswitchd.ROOT.resolve("bin") + ":/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin");
        pb.environment().putAll(env);
        Process p = pb.start();
        long group = p.pid(); // setsid execs bash as the leader of a new session and process group
        int code;
        try {
            code = p.waitFor(timeoutSeconds, TimeUnit.SECONDS) ? p.exitValue() : 124;
        } finally {
            stopGroup(group);
        }
        String output = Files.readString(log);
        return new Run(code, code == 124 ? output + "\n(timed out after " + timeoutSeconds + " s)" : output);
    }

    private static void stopGroup(long group) throws InterruptedException {
        if (!Sh.run(10, "kill", "-TERM", "--", "-" + group).ok()) {
            return; // nothing of it is left
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (Sh.run(10, "kill", "-0", "--", "-" + group).ok()) {
            if (System.nanoTime() > deadline) {
                Sh.run(10, "kill", "-KILL", "--", "-" + group);
                return;
            }
            Thread.sleep(100);
        }
    }

    /** The lines of {@code output} that are not bash's trace of the commands. */
    static List<String> printed(String output) {
        List<String> out = new ArrayList<>();
        for (String line : output.split("\n")) {
            if (!line.startsWith("+")) {
                out.add(line);
            }
        }
        return out;
    }
}
