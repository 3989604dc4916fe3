package io.vswitch.vxlan;

import io.vswitch.nativetap.DatagramBatch;
import io.vswitch.nativetap.Errno;
import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.SegmentedDatagram;
import io.vswitch.nativetap.UdpSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plain {@link Underlay}: UDP on the host's underlay address.
 *
 * <h2>Sending</h2>
 * A small pool of sockets bound to ephemeral ports of the local address, shared by the loops:
 * the datagram's entropy (its inner flow's hash) picks the socket, so its source port follows the
 * flow (RFC 7348 section 5), underlay ECMP can spread flows, and the peer's SO_REUSEPORT group
 * hands one flow to one loop whichever of our loops sent it (a source port per loop would reorder
 * a flow whose packets a multi-queue TAP spreads over loops). Each loop queues its datagrams per
 * socket and sends each queue with one {@code sendmmsg} ({@link DatagramBatch}: the header as a
 * second iovec in front of the frame's memory). A run of a GSO frame's segments goes in one
 * {@code sendmsg} with UDP GSO; should the kernel refuse UDP GSO on this path, the sender is told
 * ({@link #takesSegments}) and cuts segments whole from then on.
 *
 * <h2>Receiving</h2>
 * Each loop binds a socket of its own to {@code local:port} with SO_REUSEPORT (the kernel spreads
 * incoming flows over the loops) and reads it with UDP GRO.
 */
public final class UdpUnderlay implements Underlay {
    private static final Logger LOG = LoggerFactory.getLogger(UdpUnderlay.class);
    /** A run's datagrams at most: a 64 KB frame cut at the smallest MSS worth supporting (536). */
    static final int MAX_SEGMENTS = 128;

    private final int local;
    private final int port;
    private final boolean gro;
    private final UdpSocket[] sockets;
    private final DatagramBatch[][] batches;
    private final DatagramBatch controlBatch = new DatagramBatch(1);
    private final int loops;
    private volatile boolean segmentsRefused;

    private UdpUnderlay(int local, int port, int sourceSockets, int loops, boolean gro) {
        this.local = local;
        this.port = port;
        this.gro = gro;
        this.loops = loops;
        this.sockets = new UdpSocket[sourceSockets];
        this.batches = new DatagramBatch[loops][sourceSockets];
        for (int i = 0; i < loops; i++) {
            for (int k = 0; k < sourceSockets; k++) {
                batches[i][k] = new DatagramBatch(MAX_SEGMENTS);
            }
        }
    }

    /**
     * Opens {@code sourceSockets} sending sockets on {@code local} (an IPv4 address as an int) for
     * {@code loops} loops; receivers bind {@code local:port}, with UDP GRO when {@code gro}.
     */
    public static UdpUnderlay open(int local, int port, int sourceSockets, int loops, boolean gro)
            throws NativeCallException {
        UdpUnderlay u = new UdpUnderlay(local, port, sourceSockets, loops, gro);
        try {
            for (int k = 0; k < sourceSockets; k++) {
                u.sockets[k] = UdpSocket.bind(local, 0, 1 << 16, 4 << 20, false);
            }
        } catch (NativeCallException e) {
            u.close();
            throw e;
        }
        return u;
    }

    private int socket(int entropy) {
        return entropy % sockets.length;
    }

    @Override
    public int send(int lane, int entropy, long header, long address, int length, long destination) {
        int socket = socket(entropy);
        if (lane < loops) {
            DatagramBatch batch = batches[lane][socket];
            int dropped = batch.isFull() ? flush(lane, socket) : 0;
            batch.add(header, address, length, destination);
            return dropped;
        }
        synchronized (controlBatch) {
            controlBatch.add(header, address, length, destination);
            return controlBatch.flush(sockets[socket].fd()) == 0 ? 1 : 0;
        }
    }

    @Override
    public int flush(int lane) {
        DatagramBatch[] perSocket = batches[lane];
        int dropped = 0;
        for (int k = 0; k < perSocket.length; k++) {
            if (perSocket[k].size() > 0) {
                dropped += flush(lane, k);
            }
        }
        return dropped;
    }

    private int flush(int lane, int socket) {
        DatagramBatch batch = batches[lane][socket];
        int queued = batch.size();
        return queued - batch.flush(sockets[socket].fd());
    }

    @Override
    public boolean takesSegments() {
        return !segmentsRefused;
    }

    @Override
    public boolean sendSegments(int lane, int entropy, SegmentedDatagram run, long destination, int segmentSize) {
        if (run.send(sockets[socket(entropy)].fd(), destination, segmentSize)) {
            return true;
        }
        int errno = run.lastErrno();
        // No UDP GSO on this path: EINVAL/EOPNOTSUPP from the socket, EMSGSIZE when the route's
        // MTU is too small for the segment, EIO from a device without it.
        if ((errno == Errno.EINVAL || errno == Errno.EOPNOTSUPP || errno == Errno.EMSGSIZE || errno == Errno.EIO)
                && !segmentsRefused) {
            segmentsRefused = true;
            LOG.warn("UDP segmentation offload refused ({}: {}); sending one datagram each from now on",
                    Errno.name(errno), Errno.meaning(errno));
        }
        return false;
    }

    @Override
    public DatagramSource openReceiver(int loop) throws NativeCallException {
        return new UdpSource(UdpSocket.bind(local, port, 4 << 20, gro));
    }

    @Override
    public void close() {
        for (UdpSocket s : sockets) {
            if (s != null) {
                s.close();
            }
        }
    }

    /** A loop's receiving socket as a {@link DatagramSource}. */
    private record UdpSource(UdpSocket socket) implements DatagramSource {
        @Override
        public int fd() {
            return socket.fd();
        }

        @Override
        public int receive(long address, int capacity) {
            return socket.receive(address, capacity);
        }

        @Override
        public int segmentSize() {
            return socket.segmentSize();
        }

        @Override
        public boolean truncated() {
            return socket.truncated();
        }

        @Override
        public int sourceAddress() {
            return socket.sourceAddress();
        }

        @Override
        public void close() {
            socket.close();
        }
    }
}
