package io.vswitch.cluster;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KV;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;

/**
 * The session's etcd client, made from {@link ClusterOptions} (TLS files; a user and its password
 * file when etcd has authentication on), and replaced after a failed attempt ({@link #renew}):
 * the channel of one that saw etcd go away waits out its reconnect backoff (seconds), a fresh
 * one connects when etcd answers, so this host's lease is kept alive well within its TTL after
 * etcd returns. Responses may be up to {@link #MAX_MESSAGE} bytes: a watch response carries
 * every event of the revisions it covers.
 */
final class EtcdClients implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EtcdClients.class);
    static final int MAX_MESSAGE = 32 << 20;

    private final ClientBuilder builder;
    private volatile Client client;
    private volatile KV kv;

    EtcdClients(ClusterOptions options) throws EtcdStore.StoreException {
        ClientBuilder b = Client.builder().endpoints(options.etcd().toArray(URI[]::new))
                .connectTimeout(Duration.ofSeconds(2))
                .retryMaxAttempts(2)
                .retryMaxDuration(Duration.ofSeconds(2))
                .keepaliveTime(Duration.ofSeconds(5))
                .keepaliveTimeout(Duration.ofSeconds(3))
                .maxInboundMessageSize(MAX_MESSAGE);
        if (options.ca() != null || options.cert() != null) {
            try {
                b.sslContext(ssl -> {
                    if (options.ca() != null) {
                        ssl.trustManager(options.ca().toFile());
                    }
                    if (options.cert() != null) {
                        ssl.keyManager(options.cert().toFile(), options.key().toFile());
                    }
                });
            } catch (Exception e) {
                throw new EtcdStore.StoreException("cluster: cannot read the TLS files: " + e.getMessage(), e);
            }
        }
        if (options.user() != null) {
            String password;
            try {
                password = Files.readString(options.passwordFile()).strip();
            } catch (IOException e) {
                throw new EtcdStore.StoreException("cluster: cannot read the password file " + options.passwordFile() + ": "
                        + e.getMessage(), e);
            }
            b.user(ByteSequence.from(options.user(), StandardCharsets.UTF_8))
                    .password(ByteSequence.from(password, StandardCharsets.UTF_8));
        }
        this.builder = b;
        this.client = b.build();
        this.kv = client.getKVClient();
    }

    Client client() {
        return client;
    }

    KV kv() {
        return kv;
    }

    void renew() {
        Client old = client;
        try {
            Client fresh = builder.build();
            client = fresh;
            kv = fresh.getKVClient();
        } catch (RuntimeException e) {
            LOG.debug("cluster: cannot make a new etcd client yet: {}", e.toString());
            return;
        }
        try {
            old.close();
        } catch (RuntimeException ignored) {
            // going anyway
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
