package io.vswitch.vxlan;

import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.SegmentedDatagram;

/**
 * What carries an overlay's datagrams between hosts, under the encapsulation: plain UDP sockets
 * ({@link UdpUnderlay}), or a layer that encrypts each datagram on its way to such sockets and
 * decrypts on arrival (WireGuard's transport messages), slotted in here without a change to the
 * encapsulation, the tunnel ports or the batching above it.
 *
 * <p>Sending: {@link TunnelSender} hands each encapsulated datagram over as a header and the
 * frame's own memory ({@link #send}), from any lane; a lane's datagrams are queued and go when
 * the lane's batch is done ({@link #flush}) or its queue is full. The memory stays valid until
 * then. A GSO frame may go as one run of equal datagrams ({@link #sendSegments}) when the
 * underlay takes such runs. Receiving: one {@link DatagramSource} per loop ({@link #openReceiver}).
 *
 * <p>Destinations are IPv4 address and port, packed as {@link io.vswitch.nativetap.DatagramBatch#destination}.
 * Every method but {@link #openReceiver} and {@link #close} runs on the data path: no allocation,
 * exception or log per datagram; each lane touches only its own queues.
 */
public interface Underlay extends AutoCloseable {
    /**
     * Queues one datagram for {@code destination}: the 8 bytes of {@code header} then {@code length}
     * bytes at {@code address}, on the outer flow {@code entropy} picks. From a lane that is not a
     * loop's (the control lane) it goes at once. Returns how many datagrams this call dropped
     * (a queue that was full and could not all be sent, or a refused immediate send).
     */
    int send(int lane, int entropy, long header, long address, int length, long destination);

    /** Sends what lane {@code lane} queued; returns how many of them were dropped. */
    int flush(int lane);

    /** Whether {@link #sendSegments} may be used now (UDP GSO on this path: refused once, it is not). */
    boolean takesSegments();

    /**
     * Sends at once the run of datagrams gathered in {@code run}, each {@code segmentSize} bytes but
     * the last, to {@code destination}, on the outer flow of {@code entropy}. False when the run was
     * not sent (all of it is dropped).
     */
    boolean sendSegments(int lane, int entropy, SegmentedDatagram run, long destination, int segmentSize);

    /** Opens loop {@code loop}'s receiving end, where the peers send. */
    DatagramSource openReceiver(int loop) throws NativeCallException;

    @Override
    void close();
}
