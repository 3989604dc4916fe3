package io.vswitch.dataplane;

/**
 * Writes a lane queued during a batch, sent together when the batch is done ("batch complete is
 * where you flush", as Netty's read loops): the lane's io_uring (TAP writes), the overlay's
 * sender (one sendmmsg per socket), an uplink's sockets. Every kind of port that batches its
 * writes registers one with the data plane ({@link Dataplane#addEgressQueue}); each lane flushes
 * all of them after every batch it forwards and after work it runs outside a batch
 * ({@link Lane#afterWork}), in the order they were registered, the lane's io_uring first.
 */
@FunctionalInterface
public interface EgressQueue {
    /** Sends what lane {@code lane} queued. On that lane's loop only. */
    void flush(int lane);
}
