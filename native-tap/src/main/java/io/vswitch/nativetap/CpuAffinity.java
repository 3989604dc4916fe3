package io.vswitch.nativetap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** Pins the calling thread to one CPU with {@code sched_setaffinity(0, ...)}. */
public final class CpuAffinity {
    private static final int CPU_SET_BYTES = 128; // cpu_set_t: 1024 CPUs

    private CpuAffinity() {
    }

    public static void pinCurrentThread(int cpu) throws NativeCallException {
        if (cpu < 0 || cpu >= CPU_SET_BYTES * 8) {
            throw new IllegalArgumentException("CPU " + cpu + " is out of range 0.." + (CPU_SET_BYTES * 8 - 1));
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.errnoState(arena);
            MemorySegment mask = arena.allocate(CPU_SET_BYTES, 8);
            long word = mask.get(JAVA_LONG, (cpu / 64) * 8L);
            mask.set(JAVA_LONG, (cpu / 64) * 8L, word | (1L << (cpu % 64)));
            if (Libc.schedSetAffinity(state, 0, CPU_SET_BYTES, mask) < 0) {
                throw new NativeCallException("sched_setaffinity(cpu " + cpu + ")",
                        Thread.currentThread().getName(), Libc.errno(state));
            }
        }
    }
}
