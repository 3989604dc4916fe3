package io.vswitch.vxlan;

import io.vswitch.core.Counters;
import io.vswitch.dataplane.Dataplane;
import io.vswitch.dataplane.Lane;
import io.vswitch.nativetap.NativeCallException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.concurrent.RejectedExecutionException;

/**
 * The host's VXLAN tunnel endpoint (VTEP, RFC 7348), put together: the {@link Overlays} (which
 * VNI is which network, and each network's peers, changeable at run time), the {@link Vxlan}
 * encapsulation, the {@link TunnelSender} (encapsulation, batching, GSO) and one
 * {@link TunnelReceiver} per loop (GRO, decapsulation, coalescing), over an {@link Underlay}: UDP
 * sockets on the local address by default, or whatever transport the caller slots in (an
 * encrypting one carries the same datagrams). This class starts them together, stops them
 * together, and holds the counters they share.
 */
public final class VxlanEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VxlanEndpoint.class);
    /** -Dvswitch.vxlan.noGro=true reads one datagram per recvmsg, for measuring what GRO is worth. */
    private static final boolean GRO = !Boolean.getBoolean("vswitch.vxlan.noGro");

    /**
     * Start-up settings. {@code maxFrame} is the largest inner frame of any overlay network (the
     * underlay MTU less the encapsulation, plus the Ethernet header and a tag).
     */
    public record Options(Inet4Address local, int port, int sourceSockets, int maxFrame) {
        public Options {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port must be 1..65535");
            }
            if (sourceSockets < 1) {
                throw new IllegalArgumentException("sourceSockets must be at least 1");
            }
        }
    }

    private final Dataplane dataplane;
    private final Options options;
    private final Counters counters;
    private final Underlay underlay;
    private final TunnelSender sender;
    private final Overlays overlays;
    private final TunnelReceiver[] receivers;

    private VxlanEndpoint(Dataplane dataplane, Options options, Counters counters, Underlay underlay) {
        this.dataplane = dataplane;
        this.options = options;
        this.counters = counters;
        this.underlay = underlay;
        this.sender = new TunnelSender(Vxlan.INSTANCE, underlay, counters, dataplane.threads(), options.maxFrame());
        this.overlays = new Overlays(dataplane, sender, options.port());
        this.receivers = new TunnelReceiver[dataplane.threads()];
    }

    /** Binds the UDP sockets on every loop; fails (and closes what it opened) if any bind fails. */
    public static VxlanEndpoint start(Dataplane dataplane, Options options) throws NativeCallException, InterruptedException {
        return start(dataplane, options, UdpUnderlay.open(ipv4(options.local()), options.port(), options.sourceSockets(),
                dataplane.threads(), GRO));
    }

    /**
     * Starts the endpoint over {@code underlay} (which it closes when it closes, or when it fails
     * to start): the same VXLAN, batching and GSO over another transport.
     */
    public static VxlanEndpoint start(Dataplane dataplane, Options options, Underlay underlay)
            throws NativeCallException, InterruptedException {
        VxlanEndpoint endpoint = new VxlanEndpoint(dataplane, options, new Counters(dataplane.lanes(),
                TunnelCounter.values().length), underlay);
        try {
            endpoint.bind();
        } catch (NativeCallException | InterruptedException | RuntimeException e) {
            endpoint.close();
            throw e;
        }
        LOG.info("vxlan endpoint on {}:{} ({} loops, {} source sockets)", options.local().getHostAddress(),
                options.port(), dataplane.threads(), options.sourceSockets());
        return endpoint;
    }

    private void bind() throws NativeCallException, InterruptedException {
        for (int i = 0; i < receivers.length; i++) {
            receivers[i] = new TunnelReceiver(underlay.openReceiver(i), overlays, Vxlan.INSTANCE, counters, 64,
                    options.maxFrame());
            dataplane.register(i, receivers[i]);
        }
        dataplane.addEgressQueue(sender);
    }

    public Overlays overlays() {
        return overlays;
    }

    public int port() {
        return options.port();
    }

    public Inet4Address local() {
        return options.local();
    }

    public Counters counters() {
        return counters;
    }

    public long count(TunnelCounter counter) {
        return counters.get(counter.ordinal());
    }

    /** An IPv4 address as an int, first octet most significant. */
    static int ipv4(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: " + address.getHostAddress());
        }
        return ((a[0] & 0xFF) << 24) | ((a[1] & 0xFF) << 16) | ((a[2] & 0xFF) << 8) | (a[3] & 0xFF);
    }

    /** Stops receiving, then closes the sockets. Call after the loops stopped sending, or during. */
    @Override
    public void close() {
        dataplane.removeEgressQueue(sender);
        for (TunnelReceiver receiver : receivers) {
            if (receiver == null) {
                continue;
            }
            Lane lane = receiver.lane();
            if (lane == null) {
                receiver.release(); // never registered: nothing reads it
                continue;
            }
            dataplane.unregister(receiver);
            try {
                // On its own loop: no read can be running while the socket and buffers go.
                lane.loop().submit(receiver::release).awaitUninterruptibly(1000);
            } catch (RejectedExecutionException loopGone) {
                receiver.release(); // the loop has stopped: nothing reads any more
            }
        }
        sender.close();
    }
}
