package io.vswitch.dataplane;

import io.vswitch.core.BridgeDomain;
import io.vswitch.core.MacAddress;
import io.vswitch.core.NetworkCounter;
import io.vswitch.core.Port;
import io.vswitch.core.Quiescence;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The once-a-second work on every network's MAC table, on the data plane's control thread: age
 * out entries not seen for the network's {@code mac-aging}, reclaim entries of removed ports,
 * compact a table whose dead slots pile up (after a grace period), and report MAC moves.
 *
 * <p>Moves are logged from here, at most once a second per network with a count, never from the
 * data path: a MAC flapping between two ports (a loop, or a duplicated MAC) would otherwise log
 * thousands of lines a second.
 */
final class MacAging {
    private static final Logger LOG = LoggerFactory.getLogger(MacAging.class);

    private final List<BridgeDomain> domains = new CopyOnWriteArrayList<>();
    /** Moves counted at the previous sweep; control thread only. */
    private final Map<BridgeDomain, Long> movesSeen = new IdentityHashMap<>();
    private final Quiescence grace;
    private final int lane;

    MacAging(Quiescence grace, int controlLane) {
        this.grace = grace;
        this.lane = controlLane;
    }

    void add(BridgeDomain domain) {
        domains.add(domain);
    }

    /** Stops aging {@code domain}; its move count is forgotten at the next sweep. */
    void remove(BridgeDomain domain) {
        domains.remove(domain);
    }

    /** One sweep of every network; control thread only. */
    void sweep(long nowNs) {
        movesSeen.keySet().retainAll(domains);
        for (BridgeDomain domain : domains) {
            try {
                reportMoves(domain);
                reportBlocks(domain);
                domain.sweep(nowNs, grace, lane);
            } catch (RuntimeException e) {
                LOG.error("aging sweep of network {} failed", domain.name(), e);
            }
        }
    }

    /** Each MAC-move block, once, when it is made. */
    private void reportBlocks(BridgeDomain domain) {
        for (long b : domain.flaps().drainBlocked()) {
            Port port = domain.port((int) (b & 0xFFFF));
            LOG.warn("network {}: MAC {} moves between ports faster than {}/s (a loop, or a duplicated MAC): it stays on"
                    + " port {}, and frames from it on any other port are dropped for {} s (mac-flap)", domain.name(),
                    MacAddress.toString(b >>> 16), domain.flaps().limit(), port == null ? "?" : port.name(),
                    domain.flaps().holdNs() / 1_000_000_000L);
        }
    }

    private void reportMoves(BridgeDomain domain) {
        long moves = domain.count(NetworkCounter.MOVED);
        Long before = movesSeen.put(domain, moves);
        long delta = moves - (before == null ? 0 : before);
        if (delta > 0) {
            Port to = domain.lastMovedTo();
            String mac = MacAddress.toString(domain.lastMovedMac());
            if (delta == 1) {
                LOG.info("network {}: MAC {} moved to port {}", domain.name(), mac, to == null ? "?" : to.name());
            } else {
                LOG.warn("network {}: {} MAC moves in the last second (latest: {} to port {}); a loop or a duplicated MAC?",
                        domain.name(), delta, mac, to == null ? "?" : to.name());
            }
        }
    }
}
