package io.vswitch.daemon;

import io.vswitch.vxlan.VxlanEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The remote VTEPs of overlay networks: the operator's ({@code network set --peer}), saved, or
 * the cluster's (the hosts with ports in the network, with a static entry for each remote
 * endpoint), not saved: the cluster holds them. Conductor thread only.
 */
final class Peers {
    private static final Logger LOG = LoggerFactory.getLogger(Peers.class);

    private final NetworkRegistry registry;
    private final VxlanEndpoint vxlan;
    private final Attachments attachments;

    Peers(NetworkRegistry registry, VxlanEndpoint vxlan, Attachments attachments) {
        this.registry = registry;
        this.vxlan = vxlan;
        this.attachments = attachments;
    }

    /** Makes {@code texts} the remote VTEPs of an overlay network; the MACs behind removed ones go with them. */
    Network set(String net, List<String> texts) {
        Network network = registry.require(net);
        if (network.vni() == null) {
            throw new SpecException("peers", "network " + net + " is not an overlay network (it has no vni)");
        }
        if (registry.cluster() != null) {
            throw SpecException.conflict("peers", "network " + net + " takes its peers from the cluster: they are the hosts"
                    + " with ports in it");
        }
        List<Inet4Address> peers = NetworkRules.peers(texts, registry.host(), "peers");
        List<Inet4Address> before = network.peers;
        Map<Long, String> staticsBefore = new LinkedHashMap<>(network.statics);
        try {
            vxlan.overlays().setPeers(network.vni(), peers);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SpecException("peers", "interrupted while changing the peers of " + net);
        }
        network.peers = List.copyOf(peers);
        network.statics.values().removeIf(port -> network.domain.port(port) == null);
        registry.persistence().save(() -> {
            try {
                vxlan.overlays().setPeers(network.vni(), before);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            network.peers = before;
            network.statics.clear();
            network.statics.putAll(staticsBefore);
        });
        LOG.info("network {}: peers now {}", net, texts);
        return network;
    }

    /**
     * Applies a change of what the cluster says of overlay network {@code net}: its peers become
     * its tunnel ports, each remote MAC a static entry on its VTEP's tunnel port, and the remote
     * addresses are answered (ARP, NS) and never handed out here. Not saved: the cluster holds
     * it. A static entry of the operator's wins over the cluster's.
     */
    void applyCluster(String net, ClusterEntries.Update update) throws InterruptedException {
        if (!registry.has(net)) {
            return;
        }
        Network n = registry.require(net);
        if (n.vni() == null || vxlan == null) {
            return;
        }
        n.cluster.apply(net, vxlan.overlays(), n.vni(), n.domain, n.statics.keySet(), update);
        attachments.updateRemote(net, update.neighbors());
    }
}
