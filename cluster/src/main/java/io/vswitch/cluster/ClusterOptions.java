package io.vswitch.cluster;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code cluster:} of the config: where etcd is, the prefix this cluster's keys live under, this
 * host's name in it, the TTL of its leases and, optionally, TLS files.
 *
 * @param etcd   client URLs, http:// or https://
 * @param prefix such as {@code /vswitch/v1}: no trailing slash
 * @param host   this host's name: {@code [a-z0-9.-]}, 1-63 characters
 * @param ttl    of this host's leases: its keys vanish this long after it dies
 * @param ca     CA certificate (PEM) for https endpoints, or null
 * @param cert   client certificate (PEM), or null
 * @param key    client key (PKCS#8 PEM), or null
 */
public record ClusterOptions(List<URI> etcd, String prefix, String host, Duration ttl, Path ca, Path cert, Path key) {
    public static final String DEFAULT_PREFIX = "/vswitch/v1";
    public static final Duration DEFAULT_TTL = Duration.ofSeconds(10);

    public ClusterOptions {
        etcd = List.copyOf(etcd);
    }
}
