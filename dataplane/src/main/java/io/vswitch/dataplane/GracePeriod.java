package io.vswitch.dataplane;

import io.vswitch.core.Quiescence;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * Quiescent-state tracking for the data-plane lanes, the RCU idea in a few lines: each lane
 * brackets its work on shared structures with {@link #enter}/{@link #exit}, which bump a
 * per-lane sequence (odd while inside). A control thread that retired a structure calls
 * {@link #await} and returns once every lane that was inside at that moment has left; after
 * that no lane can still be writing to the retired structure.
 *
 * <p>Lanes never wait for anything here: enter and exit are single-writer stores. Only the
 * control thread waits, and only while a lane is in the middle of one batch.
 */
public final class GracePeriod implements Quiescence {
    private static final VarHandle SEQ = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int PAD = 8;

    private final long[] sequences;
    private final int lanes;

    public GracePeriod(int lanes) {
        this.lanes = lanes;
        this.sequences = new long[(lanes + 2) * PAD];
    }

    public void enter(int lane) {
        int i = (lane + 1) * PAD;
        SEQ.setVolatile(sequences, i, (long) SEQ.getOpaque(sequences, i) + 1);
    }

    public void exit(int lane) {
        int i = (lane + 1) * PAD;
        SEQ.setRelease(sequences, i, (long) SEQ.getOpaque(sequences, i) + 1);
    }

    /** Waits until every lane that is inside now has exited; returns false on timeout. */
    @Override
    public boolean await(long timeoutNs) {
        long deadline = System.nanoTime() + timeoutNs;
        long[] snapshot = new long[lanes];
        for (int lane = 0; lane < lanes; lane++) {
            snapshot[lane] = (long) SEQ.getVolatile(sequences, (lane + 1) * PAD);
        }
        for (int lane = 0; lane < lanes; lane++) {
            if ((snapshot[lane] & 1) == 0) {
                continue;
            }
            while ((long) SEQ.getVolatile(sequences, (lane + 1) * PAD) == snapshot[lane]) {
                if (System.nanoTime() - deadline > 0) {
                    return false;
                }
                LockSupport.parkNanos(10_000);
            }
        }
        return true;
    }
}
