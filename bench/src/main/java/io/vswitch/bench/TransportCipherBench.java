package io.vswitch.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.vswitch.wireguard.TransportCipher;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.modes.ChaCha20Poly1305;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-packet cost of WireGuard's transport AEAD (ChaCha20-Poly1305, a fresh nonce per
 * packet): one op seals a packet in place and opens it again, i.e. one packet sent plus one
 * received. Variants:
 * <ul>
 *   <li>{@code core}: what the core does ({@link TransportCipher}): the JDK's Cipher, a pooled
 *       direct buffer copied through a per-thread scratch array;</li>
 *   <li>{@code jdkHeap}: the JDK's Cipher in place on a heap array (no copies: the floor for the JDK);</li>
 *   <li>{@code jdkDirectBuffer}: the JDK's Cipher on direct ByteBuffers (its own direct path);</li>
 *   <li>{@code bouncyCastle}: BouncyCastle's lightweight ChaCha20Poly1305 (pure Java) on a heap array.</li>
 * </ul>
 * Run: {@code bench/jmh TransportCipherBench -prof gc} (allocation per op in gc.alloc.rate.norm).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseParallelGC", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Thread)
public class TransportCipherBench {
    @Param({"64", "1400"})
    public int size;

    private final byte[] keyBytes = new byte[32];
    private SecretKeySpec key;
    private TransportCipher core;
    private Cipher jdk;
    private ChaCha20Poly1305 bc;
    private KeyParameter bcKey;
    private ByteBuf direct;
    private ByteBuf heap;
    private ByteBuffer nioIn;
    private ByteBuffer nioOut;
    private byte[] array;
    private long counter;

    @Setup
    public void setUp() throws Exception {
        for (int i = 0; i < 32; i++) {
            keyBytes[i] = (byte) i;
        }
        key = new SecretKeySpec(keyBytes, "ChaCha20");
        core = new TransportCipher();
        jdk = Cipher.getInstance("ChaCha20-Poly1305");
        bc = new ChaCha20Poly1305();
        bcKey = new KeyParameter(keyBytes);
        direct = PooledByteBufAllocator.DEFAULT.directBuffer(size + 64);
        direct.writeZero(size + 64);
        heap = Unpooled.buffer(size + 64);
        heap.writeZero(size + 64);
        nioIn = ByteBuffer.allocateDirect(size + 16);
        nioOut = ByteBuffer.allocateDirect(size + 16);
        array = new byte[size + 16];
    }

    @TearDown
    public void tearDown() {
        direct.release();
    }

    @Benchmark
    public boolean core() {
        long c = counter++;
        core.seal(key, c, direct, 16, size);
        return core.open(key, c, direct, 16, size + 16);
    }

    @Benchmark
    public boolean jdkHeap() {
        long c = counter++;
        core.seal(key, c, heap, 16, size);
        return core.open(key, c, heap, 16, size + 16);
    }

    @Benchmark
    public int jdkDirectBuffer() throws Exception {
        long c = counter++;
        nioIn.clear().limit(size);
        nioOut.clear();
        jdk.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(nonce(c)));
        jdk.doFinal(nioIn, nioOut);
        nioOut.flip();
        nioIn.clear();
        jdk.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(nonce(c)));
        return jdk.doFinal(nioOut, nioIn);
    }

    @Benchmark
    public int bouncyCastle() throws Exception {
        long c = counter++;
        bc.init(true, new AEADParameters(bcKey, 128, nonce(c)));
        int n = bc.processBytes(array, 0, size, array, 0);
        n += bc.doFinal(array, n);
        bc.init(false, new AEADParameters(bcKey, 128, nonce(c)));
        int m = bc.processBytes(array, 0, n, array, 0);
        return m + bc.doFinal(array, m);
    }

    private static byte[] nonce(long counter) {
        byte[] n = new byte[12];
        for (int i = 0; i < 8; i++) {
            n[4 + i] = (byte) (counter >>> (8 * i));
        }
        return n;
    }
}
