package io.vswitch.cluster;

import java.util.Locale;

/**
 * Why a value read from etcd was not applied. Each is a counter ({@code
 * vswitch_cluster_refused_total{reason}}) and a line in {@code vswitchctl cluster show}; the
 * value itself is never applied, and the key's earlier accepted value (if any) stays in force.
 */
public enum Refusal {
    /** The key is not one of the layout's ({@link Keys}), or a name in it is not a name. */
    KEY("not a key of the layout"),
    /** The key or the value is larger than any the daemons write. */
    SIZE("larger than any value the daemons write"),
    /** The value is not a JSON object. */
    JSON("not a JSON object"),
    /** A field is missing or of the wrong type. */
    SCHEMA("a field missing or of the wrong type"),
    /** A network's spec does not name the key's network, or has no usable vni or subnet. */
    NETWORK("a network spec that does not fit its key"),
    /** A VTEP that is not a unicast address: 0/8, 127/8, multicast, 240/4, broadcast. */
    VTEP("a VTEP that is not a unicast address"),
    /** A VTEP outside the underlay. */
    VTEP_UNDERLAY("a VTEP outside the underlay"),
    /** Another host names this host's VTEP. */
    VTEP_OURS("another host names this host's VTEP"),
    /** A VXLAN port other than this host's, or not a port at all. */
    PORT("a VXLAN port other than this host's"),
    /** An endpoint's MAC that is a group (multicast or broadcast) or zero address. */
    MAC("a group or zero MAC as an endpoint"),
    /** An address that cannot be read, or of the wrong family. */
    IP("an address that cannot be read"),
    /** An address outside the network's subnet. */
    SUBNET("an address outside the network's subnet"),
    /** An endpoint's address claimed by another host than the endpoint's. */
    CLAIM("an endpoint's address claimed by another host"),
    /** A key without a lease, or under another lease than its host's. */
    LEASE("a key not under its host's lease"),
    /** A key that names this host, which this host did not write: deleted again. */
    FORGED_SELF("names this host, which did not write it"),
    /** This host's own key written by someone else (its MAC or address claimed by another): written back. */
    OURS("overwrites a key of this host");

    private final String meaning;

    Refusal(String meaning) {
        this.meaning = meaning;
    }

    /** The metric's label: lower case. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** A short phrase for logs and {@code cluster show}. */
    public String meaning() {
        return meaning;
    }
}
