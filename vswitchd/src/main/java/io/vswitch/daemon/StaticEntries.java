package io.vswitch.daemon;

import io.vswitch.control.StaticEntry;
import io.vswitch.core.MacAddress;
import io.vswitch.core.MacTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's static MAC entries and the MAC table's other edits (an entry removed, dynamic
 * entries flushed). A static entry is saved before it is confirmed; a removed one is saved away
 * first. Conductor thread only; the table itself is lock-free and read by the loops as it changes.
 */
final class StaticEntries {
    private static final Logger LOG = LoggerFactory.getLogger(StaticEntries.class);

    private final NetworkRegistry registry;

    StaticEntries(NetworkRegistry registry) {
        this.registry = registry;
    }

    /** Adds or replaces a static entry. */
    void add(String net, StaticEntry entry) {
        Network network = registry.require(net);
        long mac = NetworkRules.mac(entry.mac(), "mac");
        String before = network.statics.get(mac);
        network.putStatic(mac, entry.port());
        registry.persistence().save(() -> {
            if (before == null) {
                network.statics.remove(mac);
                network.domain.table().remove(mac);
            } else {
                network.putStatic(mac, before);
            }
        });
    }

    /** Removes one MAC, dynamic or static. */
    void remove(String net, String text) {
        Network network = registry.require(net);
        long mac;
        try {
            mac = MacAddress.parse(text == null ? "" : text);
        } catch (IllegalArgumentException e) {
            throw new SpecException("mac", e.getMessage());
        }
        if (network.statics.containsKey(mac)) {
            String mactext = MacAddress.toString(mac);
            registry.persistence().saveAhead(registry.specs().stream().map(s -> !s.name().equals(net) ? s
                    : s.withStatics(s.statics().stream().filter(x -> MacAddress.parse(x.mac()) != mac).toList())).toList());
            network.statics.remove(mac);
            network.domain.table().remove(mac);
            LOG.info("network {}: static entry {} removed", net, mactext);
            return;
        }
        if (!network.domain.table().remove(mac)) {
            throw SpecException.notFound("mac", "network " + net + " has no entry for " + MacAddress.toString(mac));
        }
    }

    /** Flushes dynamic entries, of one port or all; returns how many. */
    int flush(String net, String port) {
        Network network = registry.require(net);
        if (port == null) {
            return network.domain.table().flush();
        }
        int id = network.port(port).id();
        return network.domain.table().removeIf((mac, v) -> !MacTable.isStatic(v) && MacTable.portId(v) == id);
    }
}
