package io.vswitch.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A fixed set of 64-bit counters striped by lane. A lane is one data-plane thread (plus one for
 * the control thread); each lane writes only its own stripe, so an increment is a plain add with
 * no atomic instruction and no shared cache line. Readers (metrics scrapes, {@code show}) sum
 * the stripes with opaque reads at any time and see every increment eventually.
 *
 * <p>Single writer per stripe: {@link #add} must be called only by the thread that owns
 * {@code lane}.
 */
public final class Counters {
    private static final VarHandle CELLS = MethodHandles.arrayElementVarHandle(long[].class);
    /** 64-byte cache lines of padding between stripes. */
    private static final int PAD = 8;

    private final long[] cells;
    private final int width;
    private final int stride;
    private final int lanes;

    public Counters(int lanes, int width) {
        if (lanes < 1 || width < 1) {
            throw new IllegalArgumentException("lanes and width must be positive");
        }
        this.lanes = lanes;
        this.width = width;
        this.stride = ((width + PAD - 1) / PAD) * PAD + PAD;
        this.cells = new long[lanes * stride + PAD];
    }

    public void add(int lane, int counter, long delta) {
        int i = PAD + lane * stride + counter;
        CELLS.setOpaque(cells, i, (long) CELLS.getOpaque(cells, i) + delta);
    }

    public void increment(int lane, int counter) {
        add(lane, counter, 1);
    }

    /** The sum over all lanes. */
    public long get(int counter) {
        if (counter < 0 || counter >= width) {
            throw new IndexOutOfBoundsException(counter);
        }
        long sum = 0;
        for (int lane = 0; lane < lanes; lane++) {
            sum += (long) CELLS.getOpaque(cells, PAD + lane * stride + counter);
        }
        return sum;
    }

    public int lanes() {
        return lanes;
    }

    public int width() {
        return width;
    }
}
