package io.vswitch.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.vswitch.core.EthernetFrame;
import io.vswitch.core.Segmenter;
import io.vswitch.core.VirtioNetHeader;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;

/**
 * Software segmentation of one 64 KB TCP/IPv4 GSO frame (MSS 1398, as over a VXLAN underlay of
 * MTU 1500) into 47 segments with their TCP checksums: the send-side work of the overlay for a
 * frame a TAP with offloads handed over, with the payload copied or (headers only) left in
 * place. Pooled direct buffers, as in the daemon. Reported per
 * 64 KB frame; divide 65536 * 8 by it for the Gbit/s one core can segment.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseParallelGC", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Thread)
public class SegmenterBench {
    private static final int PAYLOAD = 65536 - 14 - 20 - 32;
    private static final int MSS = 1398;
    private static final int STRIDE = 1536;

    private ByteBuf frame;
    private ByteBuf scratch;

    @Setup
    public void setUp() {
        int length = VirtioNetHeader.LENGTH + 14 + 20 + 32 + PAYLOAD;
        frame = PooledByteBufAllocator.DEFAULT.directBuffer(length);
        frame.writeZero(length);
        int h = VirtioNetHeader.LENGTH;
        frame.setByte(0, 1); // NEEDS_CSUM
        frame.setByte(1, VirtioNetHeader.GSO_TCPV4);
        frame.setShortLE(4, MSS);
        EthernetFrame.writeMac(frame, h, 0x020000000002L);
        EthernetFrame.writeMac(frame, h + 6, 0x020000000001L);
        frame.setShort(h + 12, 0x0800);
        int ip = h + 14;
        frame.setByte(ip, 0x45);
        frame.setShort(ip + 2, 20 + 32 + PAYLOAD);
        frame.setByte(ip + 8, 64);
        frame.setByte(ip + 9, 6);
        frame.setInt(ip + 12, 0xC6120001);
        frame.setInt(ip + 16, 0xC6120002);
        int tcp = ip + 20;
        frame.setShort(tcp, 40000);
        frame.setShort(tcp + 2, 5201);
        frame.setByte(tcp + 12, (32 / 4) << 4);
        frame.setByte(tcp + 13, 0x18);
        for (int i = tcp + 32; i < length; i++) {
            frame.setByte(i, i * 31 + 7);
        }
        frame.readerIndex(h);
        scratch = PooledByteBufAllocator.DEFAULT.directBuffer(64 * STRIDE);
    }

    @TearDown
    public void tearDown() {
        frame.release();
        scratch.release();
    }

    /** Segments copied out with their headers (a TAP without offloads, or no UDP GSO). */
    @Benchmark
    public int segment64k(Blackhole hole) {
        return Segmenter.segment(frame, scratch, 64, STRIDE, hole::consume);
    }

    /** Headers only, payload left in the frame (the overlay's gathered UDP GSO send). */
    @Benchmark
    public int segmentHeaders64k(Blackhole hole) {
        return Segmenter.segmentHeaders(frame, io.vswitch.core.Layers.UNPARSED, scratch, 64, 256,
                (headers, at, length) -> hole.consume(at));
    }
}
