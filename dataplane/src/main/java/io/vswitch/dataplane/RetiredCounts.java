package io.vswitch.dataplane;

import io.vswitch.core.BridgeDomain;
import io.vswitch.core.DropReason;
import io.vswitch.core.NetworkCounter;
import io.vswitch.core.Port;
import io.vswitch.core.PortCounter;

/**
 * What ports and networks that are gone had counted, summed, so that the totals the metrics show
 * never go down when a port is detached or a network removed. Any thread.
 */
final class RetiredCounts {
    private final long[] ports = new long[PortCounter.WIDTH];
    private final long[] networks = new long[NetworkCounter.values().length];

    synchronized void add(Port port) {
        for (int i = 0; i < ports.length; i++) {
            ports[i] += i == PortCounter.dropIndex(DropReason.DEVICE_QUEUE)
                    ? port.drops(DropReason.DEVICE_QUEUE) : port.counters().get(i);
        }
    }

    synchronized void add(BridgeDomain domain) {
        for (NetworkCounter c : NetworkCounter.values()) {
            networks[c.ordinal()] += domain.count(c);
        }
    }

    /** A port counter ({@link PortCounter#dropIndex} for drops) summed over every port retired. */
    synchronized long port(int index) {
        return ports[index];
    }

    synchronized long network(NetworkCounter counter) {
        return networks[counter.ordinal()];
    }
}
