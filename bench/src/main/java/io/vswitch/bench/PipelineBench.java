package io.vswitch.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.vswitch.core.BridgeDomain;
import io.vswitch.core.ChannelPort;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.MacAddress;
import io.vswitch.core.NetworkSettings;
import io.vswitch.core.Pipeline;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The whole per-frame path (a network's arc: validate, learn, lookup, respond, output) over
 * in-memory ports that only count, a batch of 32 frames per call. Reported per frame; run with
 * {@code -prof gc} to see the bytes allocated per frame (expected: about 0).
 *
 * <p>Netty's leak detection is off in the fork: at its default level it wraps about one
 * allocation in 128 to watch it, and a fork whose 32 frames include one such wrapper sees every
 * ByteBuf call site go megamorphic and ran 25-40% slower than its neighbours (forks of one run
 * were 32 or 49 ns/frame), which no change of ours made.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseParallelGC", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        "-Dio.netty.leakDetection.level=disabled"})
@State(Scope.Thread)
public class PipelineBench {
    private static final int BATCH = 32;

    /** known: unicast to a learned port; flood: broadcast to every other port. */
    @Param({"known", "flood"})
    public String traffic;

    @Param({"4"})
    public int ports;

    private BridgeDomain domain;
    private ChannelPort[] members;
    private ByteBuf[] frames;
    private Pipeline pipeline;
    private long now;

    @Setup(Level.Trial)
    public void build() {
        domain = new BridgeDomain(1, NetworkSettings.defaults("bench"), 1);
        members = new ChannelPort[ports];
        for (int i = 0; i < ports; i++) {
            members[i] = new ChannelPort("p" + i, 1, false, false);
            domain.addPort(members[i]);
        }
        long src = 0x02_00_00_00_00_01L;
        long dst = 0x02_00_00_00_00_02L;
        frames = new ByteBuf[BATCH];
        for (int i = 0; i < BATCH; i++) {
            ByteBuf f = PooledByteBufAllocator.DEFAULT.directBuffer(64 + 64);
            f.writerIndex(64 + 64).readerIndex(64);
            EthernetFrame.writeMac(f, 64, traffic.equals("flood") ? MacAddress.BROADCAST : dst);
            EthernetFrame.writeMac(f, 70, src);
            f.setShort(76, 0x0800);
            frames[i] = f;
        }
        // The destination is known on port 1.
        domain.table().learn(dst, members[1].id(), members[1].generation(), 0);
        pipeline = new Pipeline(0, BATCH);
        now = System.nanoTime();
    }

    @TearDown(Level.Trial)
    public void release() {
        for (ByteBuf f : frames) {
            f.release();
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void forwardBatch() {
        pipeline.process(members[0], frames, BATCH, now);
    }
}
