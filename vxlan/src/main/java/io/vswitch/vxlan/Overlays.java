package io.vswitch.vxlan;

import io.netty.util.collection.IntObjectHashMap;
import io.vswitch.core.BridgeDomain;
import io.vswitch.dataplane.Dataplane;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The overlay networks of this VTEP, whatever their {@link Encapsulation}: VNI -> bridge domain,
 * and each network's peers, the remote VTEPs it has a tunnel port to. The peer set can change at run time ({@link #setPeers}): a new
 * peer becomes a tunnel port of the network, a removed one leaves it, and the MACs learned
 * behind it are forgotten with it.
 *
 * <p>Readers (the receive path, on every loop) see copy-on-write snapshots through volatile
 * fields: a VNI map, and per network an int-keyed map of peers by IPv4 address (no boxing, no
 * lookup object per datagram). Changes are serialised by this object's monitor.
 */
public final class Overlays {
    /** One overlay network. */
    static final class Overlay {
        final BridgeDomain domain;
        final int vni;
        volatile Map<Inet4Address, TunnelPort> peers = Map.of();
        volatile IntObjectHashMap<TunnelPort> byAddress = new IntObjectHashMap<>();

        Overlay(BridgeDomain domain, int vni) {
            this.domain = domain;
            this.vni = vni;
        }

        /** The tunnel port of the peer at this IPv4 address, or null. Wait-free. */
        TunnelPort peer(int address) {
            return byAddress.get(address);
        }
    }

    private final Dataplane dataplane;
    private final TunnelSender sender;
    private final int udpPort;
    private volatile IntObjectHashMap<Overlay> byVni = new IntObjectHashMap<>();

    Overlays(Dataplane dataplane, TunnelSender sender, int udpPort) {
        this.dataplane = dataplane;
        this.sender = sender;
        this.udpPort = udpPort;
    }

    /** The overlay network with this VNI, or null. Wait-free; for the receive path. */
    Overlay overlay(int vni) {
        return byVni.get(vni);
    }

    /** Makes {@code domain} an overlay network with {@code vni}, with no peers yet. */
    public synchronized void add(BridgeDomain domain, int vni) {
        Overlay existing = byVni.get(vni);
        if (existing != null) {
            throw new IllegalStateException("vni " + vni + " is already used by network " + existing.domain.name());
        }
        IntObjectHashMap<Overlay> next = new IntObjectHashMap<>();
        next.putAll(byVni);
        next.put(vni, new Overlay(domain, vni));
        byVni = next;
    }

    /** Removes an overlay network: its tunnel ports leave the domain, its VNI is no longer heard. */
    public synchronized void remove(int vni) {
        Overlay overlay = byVni.get(vni);
        if (overlay == null) {
            return;
        }
        IntObjectHashMap<Overlay> next = new IntObjectHashMap<>();
        next.putAll(byVni);
        next.remove(vni);
        byVni = next;
        for (TunnelPort port : overlay.peers.values()) {
            dataplane.detach(port);
        }
    }

    /** What {@link #setPeers} changed. */
    public record PeerChange(List<TunnelPort> added, List<TunnelPort> removed) {
    }

    /**
     * Makes {@code peers} the remote VTEPs of the network with {@code vni}: a tunnel port for each
     * new one, and each one no longer listed leaves the network with the MACs learned behind it.
     * Peers in both sets keep their port, their learned MACs and their counters.
     */
    public synchronized PeerChange setPeers(int vni, List<Inet4Address> peers) throws InterruptedException {
        Overlay overlay = byVni.get(vni);
        if (overlay == null) {
            throw new IllegalArgumentException("no overlay network with vni " + vni);
        }
        Map<Inet4Address, TunnelPort> before = overlay.peers;
        Map<Inet4Address, TunnelPort> after = new LinkedHashMap<>();
        List<TunnelPort> added = new ArrayList<>();
        try {
            for (Inet4Address peer : peers) {
                TunnelPort port = before.get(peer);
                if (port == null && !after.containsKey(peer)) {
                    port = new TunnelPort(sender, vni, peer, udpPort, dataplane.lanes());
                    dataplane.attach(overlay.domain, port, List.of());
                    added.add(port);
                }
                after.putIfAbsent(peer, port);
            }
        } catch (InterruptedException | RuntimeException e) {
            added.forEach(dataplane::detach);
            throw e;
        }
        publish(overlay, after);
        List<TunnelPort> removed = new ArrayList<>();
        for (Map.Entry<Inet4Address, TunnelPort> e : before.entrySet()) {
            if (!after.containsKey(e.getKey())) {
                dataplane.detach(e.getValue());
                removed.add(e.getValue());
            }
        }
        return new PeerChange(added, removed);
    }

    private static void publish(Overlay overlay, Map<Inet4Address, TunnelPort> peers) {
        IntObjectHashMap<TunnelPort> byAddress = new IntObjectHashMap<>();
        for (Map.Entry<Inet4Address, TunnelPort> e : peers.entrySet()) {
            byAddress.put(VxlanEndpoint.ipv4(e.getKey()), e.getValue());
        }
        overlay.byAddress = byAddress;
        overlay.peers = Collections.unmodifiableMap(new LinkedHashMap<>(peers));
    }

    /** The tunnel ports of an overlay network, in the order the peers were given. */
    public List<TunnelPort> peers(int vni) {
        Overlay overlay = byVni.get(vni);
        return overlay == null ? List.of() : List.copyOf(overlay.peers.values());
    }
}
