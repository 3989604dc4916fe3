package io.vswitch.dataplane;

import io.netty.channel.SelectStrategy;
import io.netty.util.IntSupplier;

/**
 * The event loop's wait policy with busy polling: after the loop last found work it keeps
 * polling epoll without blocking for {@code spinNs}, and only then blocks in epoll_wait.
 * Blocking costs a wake-up per frame when traffic is sparse (a scheduler round trip, and on a
 * virtual machine an IPI to a halted vCPU), which is most of a user-space switch's latency; the
 * spin trades a core's idle time for it, like a DPDK poll-mode thread but bounded. With
 * {@code spinNs} 0 this is Netty's default policy.
 */
final class BusyPoll implements SelectStrategy {
    private final long spinNs;
    private long spinUntil;

    BusyPoll(long spinNs) {
        this.spinNs = spinNs;
    }

    @Override
    public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
        if (spinNs == 0) {
            return hasTasks ? selectNow.get() : SelectStrategy.SELECT;
        }
        int ready = selectNow.get();
        long now = System.nanoTime();
        if (ready > 0 || hasTasks) {
            spinUntil = now + spinNs;
            return ready;
        }
        return now - spinUntil < 0 ? SelectStrategy.CONTINUE : SelectStrategy.SELECT;
    }
}
