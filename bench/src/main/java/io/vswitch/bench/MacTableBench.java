package io.vswitch.bench;

import io.vswitch.core.MacTable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * MAC table lookups per second on one core while another core learns at the same time: the
 * learner moves MACs between ports and refreshes ages, so lookups run against a table whose
 * cache lines are being written. Also lookups alone, the steady state of a switch.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseParallelGC"})
@State(Scope.Group)
public class MacTableBench {
    private static final int MACS = 4096;

    private MacTable table;
    private long[] macs;

    @Setup(Level.Trial)
    public void fill() {
        table = new MacTable(1, 8192);
        macs = new long[MACS];
        for (int i = 0; i < MACS; i++) {
            macs[i] = 0x02_00_00_00_00_00L | (i * 2654435761L & 0xFF_FFFF_FFFFL);
            table.learn(macs[i], 1 + i % 32, 1, 0);
        }
    }

    /** Each thread walks the MACs from its own offset. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;
        int tick;
    }

    @Benchmark
    @Group("lookupWhileLearning")
    @GroupThreads(1)
    public long lookup(Cursor cursor) {
        int i = cursor.next = (cursor.next + 1) & (MACS - 1);
        return table.lookup(macs[i]);
    }

    @Benchmark
    @Group("lookupWhileLearning")
    @GroupThreads(1)
    public int learn(Cursor cursor) {
        int i = cursor.next = (cursor.next + 7) & (MACS - 1);
        if (i == 0) {
            cursor.tick++;
        }
        // Mostly refreshes of known MACs, one in 8 a move to another port.
        int port = 1 + (i % 32) + ((i & 7) == 0 ? cursor.tick & 1 : 0);
        return table.learn(macs[i], port, 1, cursor.tick);
    }

    @Benchmark
    @Group("lookupOnly")
    @GroupThreads(1)
    public long lookupAlone(Cursor cursor) {
        int i = cursor.next = (cursor.next + 1) & (MACS - 1);
        return table.lookup(macs[i]);
    }
}
