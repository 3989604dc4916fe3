package io.vswitch.cluster;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code cluster:} of the config: where etcd is, the prefix this cluster's keys live under, this
 * host's name in it, the TTL of its leases, optionally TLS files, the underlay's prefixes and an
 * etcd user.
 *
 * @param etcd         client URLs, http:// or https://
 * @param prefix       such as {@code /vswitch/v1}: no trailing slash
 * @param host         this host's name: {@code [a-z0-9.-]}, 1-63 characters
 * @param ttl          of this host's leases: its keys vanish this long after it dies
 * @param ca           CA certificate (PEM) for https endpoints, or null
 * @param cert         client certificate (PEM), or null
 * @param key          client key (PKCS#8 PEM), or null
 * @param underlay     the IPv4 prefixes peers' VTEPs must be in ({@code a.b.c.d/len}); null: the
 *                     prefixes of the interface holding this host's VTEP
 * @param user         the etcd user to authenticate as (etcd with {@code auth enable}), or null
 * @param passwordFile the file holding that user's password (its first line), or null
 */
public record ClusterOptions(List<URI> etcd, String prefix, String host, Duration ttl, Path ca, Path cert, Path key,
        List<String> underlay, String user, Path passwordFile) {
    public static final String DEFAULT_PREFIX = "/vswitch/v1";
    public static final Duration DEFAULT_TTL = Duration.ofSeconds(10);

    public ClusterOptions {
        etcd = List.copyOf(etcd);
        underlay = underlay == null ? null : List.copyOf(underlay);
    }

    /** Without an underlay list (the VTEP's interface decides) and without a user. */
    public ClusterOptions(List<URI> etcd, String prefix, String host, Duration ttl, Path ca, Path cert, Path key) {
        this(etcd, prefix, host, ttl, ca, cert, key, null, null, null);
    }
}
