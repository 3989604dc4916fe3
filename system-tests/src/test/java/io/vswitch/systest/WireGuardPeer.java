package io.vswitch.systest;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.vswitch.nativetap.NetworkNamespace;
import io.vswitch.wireguard.DataPath;
import io.vswitch.wireguard.Device;
import io.vswitch.wireguard.Endpoint;
import io.vswitch.wireguard.MessageType;
import io.vswitch.wireguard.Outbox;
import io.vswitch.wireguard.Peer;
import io.vswitch.wireguard.SendResult;
import io.vswitch.wireguard.Verdict;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Our WireGuard core as a host: a UDP socket opened inside a namespace, one thread that reads
 * it into the core, runs the timers every 100 ms and answers ICMP echo requests to its tunnel
 * address, as a tiny IP stack would. What the test asks of it runs on that thread (tasks).
 * The clock is the monotonic one plus {@link #skewNs}, so a test can move the core's time ahead.
 */
final class WireGuardPeer implements Outbox, AutoCloseable {
    private static final ByteBufAllocator ALLOC = new UnpooledByteBufAllocator(true);

    final Device device;
    private final DatagramSocket socket;
    private final DataPath path;
    private final int tunnelAddress;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Echo replies received, as "id/seq". */
    final Set<String> echoReplies = ConcurrentHashMap.newKeySet();
    /** The latest transport datagram received that carried data, as it arrived. */
    final AtomicReference<byte[]> lastDataDatagram = new AtomicReference<>();
    volatile long skewNs;
    private volatile boolean running = true;

    WireGuardPeer(String ns, InetSocketAddress bind, byte[] privateKey, int tunnelAddress) throws Exception {
        this.device = new Device(privateKey, new Device.Options(new java.security.SecureRandom(),
                () -> System.currentTimeMillis() * 1_000_000L, ALLOC, 256));
        this.path = device.newDataPath();
        this.tunnelAddress = tunnelAddress;
        this.socket = NetworkNamespace.callIn(Path.of("/var/run/netns", ns), () -> new DatagramSocket(bind));
        socket.setSoTimeout(20);
        thread = Thread.ofPlatform().name("wg-peer").start(this::run);
    }

    long now() {
        return System.nanoTime() + skewNs;
    }

    void onLoop(Runnable task) {
        tasks.add(task);
    }

    /** Sends an ICMP echo request from our tunnel address to {@code destination} through {@code peer}. */
    void ping(Peer peer, int destination, int id, int seq) {
        onLoop(() -> {
            ByteBuf packet = ALLOC.directBuffer(256);
            packet.writerIndex(MessageType.TRANSPORT_HEADER_LENGTH).readerIndex(MessageType.TRANSPORT_HEADER_LENGTH);
            IcmpEcho.write(packet, tunnelAddress, destination, 8, id, seq, 56);
            seal(peer, packet);
        });
    }

    private void seal(Peer peer, ByteBuf packet) {
        if (path.seal(peer, packet, now(), this) == SendResult.SEALED) {
            send(path.endpoint(), packet);
        }
    }

    @Override
    public void send(long endpoint, ByteBuf datagram) {
        try {
            byte[] b = new byte[datagram.readableBytes()];
            datagram.getBytes(datagram.readerIndex(), b);
            socket.send(new DatagramPacket(b, b.length, Endpoint.toSocketAddress(endpoint)));
        } catch (IOException e) {
            // The peer is gone or the namespace is being torn down: the datagram is lost, as on a network.
        } finally {
            datagram.release();
        }
    }

    private void run() {
        byte[] buf = new byte[65536];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        long lastTick = 0;
        while (running) {
            Runnable task;
            while ((task = tasks.poll()) != null) {
                task.run();
            }
            try {
                p.setLength(buf.length);
                socket.receive(p);
                receive(buf, p.getLength(), Endpoint.of((InetSocketAddress) p.getSocketAddress()));
            } catch (SocketTimeoutException e) {
                // Nothing arrived: time for the timers.
            } catch (IOException e) {
                if (!running) {
                    return;
                }
            }
            long now = now();
            if (now - lastTick >= 100_000_000L) {
                device.tick(now, this);
                lastTick = now;
            }
        }
    }

    private void receive(byte[] data, int length, long source) {
        ByteBuf d = ALLOC.directBuffer(length + 64);
        try {
            d.writeBytes(data, 0, length);
            Verdict v = path.receive(d, source, now(), this);
            if (v != Verdict.DATA) {
                return;
            }
            lastDataDatagram.set(java.util.Arrays.copyOf(data, length));
            if (IcmpEcho.isEcho(d, 0)) {
                echoReplies.add(IcmpEcho.id(d) + "/" + IcmpEcho.seq(d));
            } else if (IcmpEcho.isEcho(d, 8) && d.getInt(d.readerIndex() + 16) == tunnelAddress) {
                ByteBuf reply = ALLOC.directBuffer(d.readableBytes() + 64);
                reply.writerIndex(MessageType.TRANSPORT_HEADER_LENGTH).readerIndex(MessageType.TRANSPORT_HEADER_LENGTH);
                IcmpEcho.answer(d, reply);
                seal(path.peer(), reply);
            }
        } finally {
            d.release();
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        socket.close();
        thread.join(5000);
        device.close();
    }
}
