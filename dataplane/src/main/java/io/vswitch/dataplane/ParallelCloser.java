package io.vswitch.dataplane;

import io.vswitch.core.Port;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Closes many ports at once when the data plane stops. Closing a TAP may block in the kernel
 * (unregistering a device waits for RCU grace periods, about 20 ms each), so ports close on up to
 * 32 threads at once (one per 16 ports), whose waits overlap.
 */
final class ParallelCloser {
    private ParallelCloser() {
    }

    static void closeAll(List<Port> ports) {
        int threads = Math.min(32, Math.max(1, ports.size() / 16));
        AtomicInteger next = new AtomicInteger();
        List<Thread> closers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            closers.add(Thread.ofPlatform().name("vswitch-close-" + t).start(() -> {
                for (int i; (i = next.getAndIncrement()) < ports.size(); ) {
                    ports.get(i).close();
                }
            }));
        }
        for (Thread t : closers) {
            try {
                t.join(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
