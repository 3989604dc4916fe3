package io.vswitch.systest;

/**
 * Two "host" namespaces joined by a veth underlay in 198.19.0.0/24: h1 has 198.19.0.1 on u1,
 * h2 has 198.19.0.2 on u2.
 */
final class Underlay {
    final String h1;
    final String h2;

    Underlay(Netns netns, String prefix) {
        h1 = netns.create(prefix + "h1");
        h2 = netns.create(prefix + "h2");
        Sh.must(10, "ip", "-n", h1, "link", "add", "u1", "type", "veth", "peer", "name", "u2", "netns", h2);
        Sh.must(10, "ip", "-n", h1, "addr", "add", "198.19.0.1/24", "dev", "u1");
        Sh.must(10, "ip", "-n", h2, "addr", "add", "198.19.0.2/24", "dev", "u2");
        Sh.must(10, "ip", "-n", h1, "link", "set", "u1", "up");
        Sh.must(10, "ip", "-n", h2, "link", "set", "u2", "up");
    }
}
