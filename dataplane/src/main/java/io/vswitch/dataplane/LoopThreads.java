package io.vswitch.dataplane;

import io.netty.util.concurrent.FastThreadLocalThread;
import io.vswitch.nativetap.CpuAffinity;
import io.vswitch.nativetap.NativeCallException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The data plane's loop threads: loop i runs on CPU {@code cpus[i]} (the named CPUs in turn, or
 * CPU i of the machine), pinned to it when {@code pin} is on. A CPU that refuses the pin (not in
 * the process's affinity mask) leaves its loop unpinned, with a warning.
 */
final class LoopThreads implements ThreadFactory {
    private static final Logger LOG = LoggerFactory.getLogger(LoopThreads.class);

    private final List<Integer> cpus;
    private final boolean pin;
    private final int cpuCount = Runtime.getRuntime().availableProcessors();
    private final AtomicInteger next = new AtomicInteger();

    LoopThreads(List<Integer> cpus, boolean pin) {
        this.cpus = cpus;
        this.pin = pin;
    }

    @Override
    public Thread newThread(Runnable runnable) {
        int i = next.getAndIncrement();
        int cpu = cpus.isEmpty() ? i % cpuCount : cpus.get(i % cpus.size());
        Thread t = new FastThreadLocalThread(() -> {
            if (pin) {
                try {
                    CpuAffinity.pinCurrentThread(cpu);
                } catch (NativeCallException | IllegalArgumentException e) {
                    LOG.warn("event loop {} not pinned to CPU {}: {}", i, cpu, e.getMessage());
                }
            }
            runnable.run();
        }, "vswitch-loop-" + i + (pin ? "-cpu" + cpu : ""));
        t.setDaemon(false);
        return t;
    }
}
