package io.vswitch.unixhttp;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/1.1 on a unix socket, served by an event loop of its own (never a data-plane loop) and
 * handled one request at a time on one worker thread, so the changes requests make are
 * serialised. Every connection answers one request and closes. The {@link RequestGuard} answers
 * malformed, oversized and idle requests itself.
 */
public final class UnixHttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UnixHttpServer.class);
    /** The largest request body taken. */
    public static final int MAX_BODY = 1 << 20;
    /** A connection idle this long is closed (-Dvswitch.api.idleSeconds to change it). */
    public static final int IDLE_SECONDS = Integer.getInteger("vswitch.api.idleSeconds", 10);

    /** An answer: status, body, its content type. */
    public record Reply(int status, byte[] body, String contentType) {
    }

    /** Answers one request; runs on the worker thread. */
    @FunctionalInterface
    public interface Handler {
        Reply handle(String method, String path, String body);
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

    /** Binds {@code socket} (replacing a stale file), with {@code permissions} such as rw-------. */
    public static UnixHttpServer start(Path socket, String permissions, String name, Handler handler)
            throws IOException, InterruptedException {
        Files.deleteIfExists(socket);
        Path parent = socket.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                (ThreadFactory) r -> new Thread(r, name + "-io"), EpollIoHandler.newFactory());
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        try {
            Channel channel = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<DomainSocketChannel>() {
                        @Override
                        protected void initChannel(DomainSocketChannel ch) {
                            ch.pipeline().addLast(new IdleStateHandler(0, 0, IDLE_SECONDS), new HttpServerCodec(),
                                    new RequestGuard(MAX_BODY), new HttpObjectAggregator(MAX_BODY),
                                    new Dispatch(handler, worker));
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

    private static final class Dispatch extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Handler handler;
        private final ExecutorService worker;

        Dispatch(Handler handler, ExecutorService worker) {
            this.handler = handler;
            this.worker = worker;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String method = request.method().name();
            String uri = request.uri();
            int query = uri.indexOf('?');
            String path = query < 0 ? uri : uri.substring(0, query);
            String body = request.content().toString(StandardCharsets.UTF_8);
            worker.execute(() -> {
                Reply reply;
                try {
                    reply = handler.handle(method, path, body);
                } catch (RuntimeException e) {
                    LOG.error("{} {} failed", method, path, e);
                    reply = new Reply(500, ("{\"error\":\"internal error\"}").getBytes(StandardCharsets.UTF_8),
                            "application/json");
                }
                FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.valueOf(reply.status()), Unpooled.wrappedBuffer(reply.body()));
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, reply.contentType())
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body().length)
                        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
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
