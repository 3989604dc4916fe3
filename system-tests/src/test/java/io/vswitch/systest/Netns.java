package io.vswitch.systest;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The network namespaces one test class makes. Every name carries this JVM's prefix, and
 * {@link #close} (also run from a shutdown hook) deletes every namespace it made and nothing
 * else. Addresses used inside are from 198.18.0.0/15 only; no namespace gets a default route.
 */
final class Netns implements AutoCloseable {
    private static final String PREFIX = "vst" + (ProcessHandle.current().pid() % 100000) + "-";
    private final List<String> made = Collections.synchronizedList(new ArrayList<>());
    private final Thread hook = new Thread(this::deleteAll, "netns-cleanup");

    Netns() {
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Whether this JVM can make namespaces: root, with iproute2. */
    static boolean available() {
        return "root".equals(System.getProperty("user.name"))
                && Sh.run(10, "ip", "netns", "list").ok();
    }

    /** Creates a namespace with loopback up and returns its full name. */
    String create(String shortName) {
        String name = PREFIX + shortName;
        Sh.run(10, "ip", "netns", "del", name);
        Sh.must(10, "ip", "netns", "add", name);
        made.add(name);
        Sh.must(10, "ip", "-n", name, "link", "set", "lo", "up");
        return name;
    }

    /**
     * Creates a namespace without IPv6 and with no router solicitations or other chatter, so the
     * only frames its interfaces send are the ones a test causes.
     */
    String createQuiet(String shortName) {
        String name = create(shortName);
        Sh.must(10, "ip", "netns", "exec", name, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
        Sh.must(10, "ip", "netns", "exec", name, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1");
        return name;
    }

    Sh.Result exec(int timeoutSeconds, String ns, String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(command));
        return Sh.run(timeoutSeconds, full);
    }

    String must(int timeoutSeconds, String ns, String... command) {
        Sh.Result r = exec(timeoutSeconds, ns, command);
        if (!r.ok()) {
            throw new AssertionError("in " + ns + ": " + String.join(" ", command) + " failed: " + r);
        }
        return r.out();
    }

    /** Moves {@code dev} from {@code from} into {@code to}, gives it an address and brings it up. */
    void plug(String from, String dev, String to, String cidr) {
        Sh.must(10, "ip", "-n", from, "link", "set", dev, "netns", to);
        Sh.must(10, "ip", "-n", to, "addr", "add", cidr, "dev", dev);
        Sh.must(10, "ip", "-n", to, "link", "set", dev, "up");
    }

    /**
     * Waits until the switch has given {@code dev}, moved into {@code ns} by hand, the noqueue
     * qdisc (its link watcher does within a sweep; the swap drops what is in flight, so a test
     * that counts every packet waits for it).
     */
    void awaitNoqueue(String ns, String dev) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!Sh.run(10, "ip", "-n", ns, "link", "show", dev).out().contains("qdisc noqueue")) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(dev + " in " + ns + " did not get noqueue within 10 s");
            }
            Thread.sleep(50);
        }
    }

    /** The names of the tun/tap devices in {@code ns}. */
    List<String> taps(String ns) {
        String out = Sh.run(10, "ip", "-n", ns, "-o", "link", "show", "type", "tun").out();
        List<String> names = new ArrayList<>();
        for (String line : out.split("\n")) {
            String[] parts = line.split(": ");
            if (parts.length > 1) {
                names.add(parts[1].split("@")[0]);
            }
        }
        return names;
    }

    void delete(String ns) {
        Sh.run(10, "ip", "netns", "del", ns);
        made.remove(ns);
    }

    /** Takes a namespace made by other means (a README's commands) under this object's care: {@link #close} deletes it. */
    void adopt(String ns) {
        made.add(ns);
    }

    /** The full name {@link #create} gives {@code shortName}. */
    static String name(String shortName) {
        return PREFIX + shortName;
    }

    private void deleteAll() {
        List<String> copy;
        synchronized (made) {
            copy = new ArrayList<>(made);
        }
        for (String ns : copy) {
            // Stop whatever still runs in the namespace: only processes this test started live there.
            String pids = Sh.run(10, "ip", "netns", "pids", ns).out().trim();
            for (String pid : pids.split("\\s+")) {
                if (!pid.isEmpty()) {
                    ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
            Sh.run(10, "ip", "netns", "del", ns);
            // What ip netns exec gives the namespace (vswitchd writes its resolv.conf on attach).
            Sh.run(10, "rm", "-rf", "/etc/netns/" + ns);
        }
        made.clear();
    }

    @Override
    public void close() {
        deleteAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // Already shutting down.
        }
    }
}
