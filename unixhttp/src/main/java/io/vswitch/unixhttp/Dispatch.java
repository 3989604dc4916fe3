package io.vswitch.unixhttp;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * One request per connection, handled off the event loop. The first complete request is handed
 * to the handler on a thread of its own (a virtual thread: a slow call holds only its own), and
 * nothing more is read from the connection. Requests the client pipelined behind it are never
 * executed: each one already received is answered, in order after the first answer, 503 "not
 * executed", and the connection closes.
 */
final class Dispatch extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(Dispatch.class);
    private static final AttributeKey<Boolean> STARTED = AttributeKey.valueOf("vswitch.request.started");
    /** Pipelined requests answered; more are dropped with the connection. */
    static final int MAX_REFUSED = 16;

    private final UnixHttpServer.Handler handler;
    private final Executor worker;
    private final ConnectionCap cap;
    private int refused;
    private boolean answered;

    Dispatch(UnixHttpServer.Handler handler, Executor worker, ConnectionCap cap) {
        this.handler = handler;
        this.worker = worker;
        this.cap = cap;
    }

    /** Whether the connection's request is being handled (what follows it is not answered on its own). */
    static boolean started(Channel ch) {
        return ch.hasAttr(STARTED);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (started(ctx.channel())) {
            refused++;
            if (answered) {
                return; // written and closing: nothing more goes out
            }
            if (refused > MAX_REFUSED) {
                ctx.channel().config().setAutoRead(false);
            }
            return;
        }
        ctx.channel().attr(STARTED).set(true);
        ctx.channel().config().setAutoRead(false);
        cap.running(ctx.channel());
        String uri = request.uri();
        int query = uri.indexOf('?');
        UnixHttpServer.Request r = new UnixHttpServer.Request(request.method().name(), query < 0 ? uri : uri.substring(0, query),
                request.content().toString(StandardCharsets.UTF_8), System.nanoTime(), peerPid(ctx.channel()));
        try {
            worker.execute(() -> {
                UnixHttpServer.Reply reply;
                try {
                    reply = handler.handle(r);
                } catch (RuntimeException e) {
                    LOG.error("{} {} failed", r.method(), r.path(), e);
                    reply = new UnixHttpServer.Reply(500, "{\"error\":\"internal error\"}".getBytes(StandardCharsets.UTF_8),
                            "application/json");
                }
                UnixHttpServer.Reply answer = reply;
                ctx.executor().execute(() -> answer(ctx, answer));
            });
        } catch (RejectedExecutionException stopping) {
            ErrorReply.answerAndClose(ctx, 503, "the daemon is stopping");
        }
    }

    /** Who connected (SO_PEERCRED); 0 when not known. */
    private static int peerPid(Channel ch) {
        if (ch instanceof EpollDomainSocketChannel unix) {
            try {
                return unix.peerCredentials().pid();
            } catch (java.io.IOException e) {
                return 0;
            }
        }
        return 0;
    }

    /** The answer, then a refusal for each request pipelined behind it, then the connection closes. */
    private void answer(ChannelHandlerContext ctx, UnixHttpServer.Reply reply) {
        answered = true;
        ChannelFuture last = ctx.write(ErrorReply.response(reply.status(), reply.body(), reply.contentType()));
        for (int i = 0; i < Math.min(refused, MAX_REFUSED); i++) {
            last = ctx.write(ErrorReply.json(503, "not executed: one request per connection, and this one was pipelined"
                    + " behind another"));
        }
        ctx.flush();
        last.addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
