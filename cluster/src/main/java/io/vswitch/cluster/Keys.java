package io.vswitch.cluster;

/**
 * The key layout under the prefix ({@code P}):
 * <pre>
 *   P/networks/NET            {"spec": {...}}            an overlay network of the cluster (created once, by a Txn)
 *   P/hosts/HOST              {"vtep", "port", "since"}  a host's VTEP, leased by that host
 *   P/members/NET/HOST        {}                         HOST has ports in NET, leased by HOST
 *   P/endpoints/NET/MAC       {"ip", "host"}             a MAC of NET behind HOST, leased by HOST
 *   P/addresses/NET/IP        {"host"}                   an address of NET's subnet HOST gave out (compare-create), leased by HOST
 * </pre>
 * Names are {@code [a-z0-9.-]}; MACs are lower-case with colons, so no part holds a slash.
 */
public final class Keys {
    public static final String NETWORKS = "networks/";
    public static final String HOSTS = "hosts/";
    public static final String MEMBERS = "members/";
    public static final String ENDPOINTS = "endpoints/";
    public static final String ADDRESSES = "addresses/";

    private final String prefix;

    public Keys(String prefix) {
        this.prefix = prefix.endsWith("/") ? prefix : prefix + "/";
    }

    /** The prefix with its trailing slash: every key of the cluster starts with it. */
    public String root() {
        return prefix;
    }

    public String network(String net) {
        return prefix + NETWORKS + net;
    }

    public String host(String host) {
        return prefix + HOSTS + host;
    }

    public String member(String net, String host) {
        return prefix + MEMBERS + net + "/" + host;
    }

    public String endpoint(String net, String mac) {
        return prefix + ENDPOINTS + net + "/" + mac;
    }

    public String address(String net, String ip) {
        return prefix + ADDRESSES + net + "/" + ip;
    }

    /** The key without the prefix, or null when it is not under it. */
    public String relative(String key) {
        return key.startsWith(prefix) ? key.substring(prefix.length()) : null;
    }
}
