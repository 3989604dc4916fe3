package io.vswitch.daemon.api;

import com.fasterxml.jackson.databind.ObjectWriter;
import io.vswitch.control.Json;
import io.vswitch.control.Views;
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
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The control API's transport: HTTP/1.1 with JSON bodies on a unix socket (mode 0600), served by
 * its own event loop, off the data plane. Requests are handled one at a time on one worker
 * thread, so changes are serialised; a change reaches the data plane as commands run on the
 * loops (see {@link ControlApi}).
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
    /** The largest request body taken. */
    static final int MAX_BODY = 1 << 20;
    /** A connection idle this long is closed (-Dvswitch.api.idleSeconds to change it). */
    static final int IDLE_SECONDS = Integer.getInteger("vswitch.api.idleSeconds", 10);

    private final Path socket;
    private final MultiThreadIoEventLoopGroup group;
    private final ExecutorService worker;
    private final Channel channel;

    private ControlServer(Path socket, MultiThreadIoEventLoopGroup group, ExecutorService worker, Channel channel) {
        this.socket = socket;
        this.group = group;
        this.worker = worker;
        this.channel = channel;
    }

    /**
     * Binds {@code socket}. A socket file that a live daemon answers on is refused, naming that
     * daemon's pid; a stale file left by a killed daemon is replaced.
     */
    public static ControlServer start(Path socket, ControlApi api) throws IOException, InterruptedException {
        if (Files.exists(socket)) {
            String holder = io.vswitch.control.ControlClient.holderOf(socket);
            if (holder != null) {
                throw new IOException("control socket " + socket + " is held by another vswitchd (" + holder
                        + "); stop it or choose another --control-socket");
            }
            Files.delete(socket);
        }
        Path parent = socket.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                (java.util.concurrent.ThreadFactory) r -> new Thread(r, "vswitch-api-io"), EpollIoHandler.newFactory());
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "vswitch-api");
            t.setDaemon(true);
            return t;
        });
        ObjectWriter json = Json.LENIENT.writerWithDefaultPrettyPrinter();
        try {
            Channel channel = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<DomainSocketChannel>() {
                        @Override
                        protected void initChannel(DomainSocketChannel ch) {
                            ch.pipeline().addLast(new IdleStateHandler(0, 0, IDLE_SECONDS), new HttpServerCodec(),
                                    new RequestGuard(MAX_BODY), new HttpObjectAggregator(MAX_BODY),
                                    new Handler(api, worker, json));
                        }
                    })
                    .bind(new DomainSocketAddress(socket.toString())).sync().channel();
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            LOG.info("control API on {}", socket);
            return new ControlServer(socket, group, worker, channel);
        } catch (IOException | InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
            worker.shutdownNow();
            throw e;
        }
    }

    public Path socket() {
        return socket;
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final ControlApi api;
        private final ExecutorService worker;
        private final ObjectWriter json;

        Handler(ControlApi api, ExecutorService worker, ObjectWriter json) {
            this.api = api;
            this.worker = worker;
            this.json = json;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String method = request.method().name();
            String uri = request.uri();
            int query = uri.indexOf('?');
            String path = query < 0 ? uri : uri.substring(0, query);
            String body = request.content().toString(StandardCharsets.UTF_8);
            worker.execute(() -> {
                ControlApi.Reply reply;
                try {
                    reply = api.handle(method, path, body);
                } catch (RuntimeException e) {
                    LOG.error("control API {} {} failed", method, path, e);
                    reply = new ControlApi.Reply(500, new Views.Error("internal error: " + e));
                }
                int status = reply.status();
                byte[] bytes;
                try {
                    bytes = json.writeValueAsBytes(reply.body());
                } catch (IOException e) {
                    status = 500;
                    bytes = ("{\"error\":\"cannot encode the response\"}").getBytes(StandardCharsets.UTF_8);
                }
                FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.valueOf(status), Unpooled.wrappedBuffer(bytes));
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
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
            LOG.warn("cannot remove control socket {}: {}", socket, e.getMessage());
        }
    }
}
