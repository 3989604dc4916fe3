package io.vswitch.vxlan;

/**
 * One loop's receiving end of an {@link Underlay}: a file descriptor the loop's epoll watches,
 * and reads of datagrams into memory by address, as {@link io.vswitch.nativetap.UdpSocket} makes
 * them with UDP GRO: one read returns a run of datagrams of one flow laid end to end, each
 * {@link #segmentSize} bytes but the last, all from {@link #sourceAddress}. An encrypting layer
 * hands on what it decrypted the same way. One thread reads it; nothing is allocated per read.
 */
public interface DatagramSource extends AutoCloseable {
    /** The descriptor that is readable when a datagram is waiting. */
    int fd();

    /** Reads a run of datagrams into {@code capacity} bytes at {@code address}; their length, or -errno. */
    int receive(long address, int capacity);

    /** The size of each datagram of the last run but its last. */
    int segmentSize();

    /** Whether the last run was longer than {@code capacity} (its end was lost). */
    boolean truncated();

    /** The peer the last run came from: an IPv4 address as an int, first octet most significant. */
    int sourceAddress();

    @Override
    void close();
}
