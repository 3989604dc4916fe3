package io.vswitch.unixhttp;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/1.1 on a unix socket, read by an event loop of its own (never a data-plane loop), each
 * request handled on a virtual thread of its own, so one slow call holds up no other. Every
 * connection answers one request and closes. What a hostile or buggy client can do is bounded:
 * malformed and oversized requests are answered at once ({@link RequestGuard}); the headers and
 * the body each have a deadline ({@link RequestDeadlines}); pipelined requests are never
 * executed ({@link Dispatch}); the connections held open are capped with room left for the
 * operator ({@link ConnectionCap}).
 */
public final class UnixHttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UnixHttpServer.class);
    /** The largest request body taken. */
    public static final int MAX_BODY = 1 << 20;

    /**
     * A request as received; {@code receivedNs} ({@link System#nanoTime}) is when its call starts;
     * {@code peerPid} the process that connected (SO_PEERCRED), 0 when not known (another PID
     * namespace).
     */
    public record Request(String method, String path, String body, long receivedNs, int peerPid) {
    }

    /** An answer: status, body, its content type. */
    public record Reply(int status, byte[] body, String contentType) {
    }

    /** Answers one request, on a thread of its own. */
    @FunctionalInterface
    public interface Handler {
        Reply handle(Request request);
    }

    /**
     * What a client may take: connections open at once ({@code -Dvswitch.api.maxConnections},
     * default 256), the time from connecting to the end of the headers
     * ({@code -Dvswitch.api.headerMillis}, 5000) and from there to the end of the body
     * ({@code -Dvswitch.api.bodyMillis}, 10000).
     */
    public record Limits(int maxConnections, Duration header, Duration body) {
        public static Limits fromProperties() {
            return new Limits(Integer.getInteger("vswitch.api.maxConnections", 256),
                    Duration.ofMillis(Long.getLong("vswitch.api.headerMillis", 5000)),
                    Duration.ofMillis(Long.getLong("vswitch.api.bodyMillis", 10_000)));
        }
    }

    private final Path socket;
    private final MultiThreadIoEventLoopGroup group;
    private final ExecutorService worker;
    private final Channel channel;

    private UnixHttpServer(Path socket, MultiThreadIoEventLoopGroup group, ExecutorService worker, Channel channel) {
        this.socket = socket;
        this.group = group;
        this.worker = worker;
        this.channel = channel;
    }

    /** Binds {@code socket} (replacing a stale file), with {@code permissions} such as rw-------, and the limits the properties set. */
    public static UnixHttpServer start(Path socket, String permissions, String name, Handler handler)
            throws IOException, InterruptedException {
        return start(socket, permissions, name, Limits.fromProperties(), handler);
    }

    public static UnixHttpServer start(Path socket, String permissions, String name, Limits limits, Handler handler)
            throws IOException, InterruptedException {
        Files.deleteIfExists(socket);
        Path parent = socket.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                (ThreadFactory) r -> new Thread(r, name + "-io"), EpollIoHandler.newFactory());
        ExecutorService worker = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name(name + "-", 0).factory());
        ConnectionCap cap = new ConnectionCap(limits.maxConnections(), name);
        try {
            Channel channel = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<DomainSocketChannel>() {
                        @Override
                        protected void initChannel(DomainSocketChannel ch) {
                            ch.pipeline().addLast(cap, new HttpServerCodec(), new RequestDeadlines(limits.header(), limits.body()),
                                    new RequestGuard(MAX_BODY), new HttpObjectAggregator(MAX_BODY),
                                    new Dispatch(handler, worker, cap));
                        }
                    })
                    .bind(new DomainSocketAddress(socket.toString())).sync().channel();
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString(permissions));
            return new UnixHttpServer(socket, group, worker, channel);
        } catch (IOException | InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
            worker.shutdownNow();
            throw e;
        }
    }

    public Path socket() {
        return socket;
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(1000);
        group.shutdownGracefully(0, 200, TimeUnit.MILLISECONDS).awaitUninterruptibly(1000);
        worker.shutdownNow();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.warn("cannot remove socket {}: {}", socket, e.getMessage());
        }
    }
}
