package io.vswitch.systest;

import com.fasterxml.jackson.databind.JsonNode;
import io.vswitch.cluster.EtcdServer;

import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The cluster tests' machines: an underlay (a Linux bridge in a namespace of its own,
 * 198.19.1.0/24), hosts 1..N on it (each a namespace with 198.19.1.i on a veth to the bridge)
 * and one etcd on the underlay at {@link #ETCD}. Namespaces are named {@code TAGu} and
 * {@code TAGhI}; {@link #close} stops etcd and removes them (the daemons are the test's).
 */
final class ClusterLab implements AutoCloseable {
    static final String ETCD = "198.19.1.100";

    final Netns netns;
    final String underlay;
    /** Host i's namespace at index i (index 0 unused). */
    final String[] hosts;
    final EtcdServer etcd;

    private ClusterLab(Netns netns, String underlay, String[] hosts, EtcdServer etcd) {
        this.netns = netns;
        this.underlay = underlay;
        this.hosts = hosts;
        this.etcd = etcd;
    }

    static ClusterLab start(String tag, int count) throws Exception {
        Netns netns = new Netns();
        try {
            String underlay = netns.create(tag + "u");
            Sh.must(10, "ip", "-n", underlay, "link", "add", "br0", "type", "bridge");
            Sh.must(10, "ip", "-n", underlay, "addr", "add", ETCD + "/24", "dev", "br0");
            Sh.must(10, "ip", "-n", underlay, "link", "set", "br0", "up");
            String[] hosts = new String[count + 1];
            for (int i = 1; i <= count; i++) {
                hosts[i] = netns.create(tag + "h" + i);
                Sh.must(10, "ip", "-n", hosts[i], "link", "add", "u" + i, "type", "veth", "peer", "name", "p" + i, "netns",
                        underlay);
                Sh.must(10, "ip", "-n", hosts[i], "addr", "add", "198.19.1." + i + "/24", "dev", "u" + i);
                Sh.must(10, "ip", "-n", hosts[i], "link", "set", "u" + i, "up");
                Sh.must(10, "ip", "-n", underlay, "link", "set", "p" + i, "master", "br0", "up");
            }
            return new ClusterLab(netns, underlay, hosts, EtcdServer.in(underlay, ETCD));
        } catch (Exception | Error e) {
            netns.close();
            throw e;
        }
    }

    /** etcd's JSON gateway, called from the underlay's namespace. */
    EtcdGateway gateway() {
        return new EtcdGateway(underlay, "http://" + ETCD + ":2379");
    }

    /** Waits until the daemon's `cluster show --json` satisfies {@code ok}; returns it. */
    static JsonNode await(Vswitchd d, String what, Predicate<JsonNode> ok, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        JsonNode c = null;
        while (System.nanoTime() < deadline) {
            c = d.json("cluster", "show");
            if (ok.test(c)) {
                return c;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(what + " not seen in " + seconds + " s: " + c + "\n" + d.log());
    }

    @Override
    public void close() throws Exception {
        try {
            etcd.close();
        } finally {
            netns.close();
        }
    }
}
