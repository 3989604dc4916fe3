package io.vswitch.unixhttp;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Deadlines for a slow client (slowloris): the request line and headers must have arrived
 * {@code header} after the connection was accepted, and the body {@code body} after the headers;
 * a byte now and then does not extend them, unlike an idle timeout. A connection that misses one
 * is answered 408 and closed (one that sent nothing at all is only closed: there is no request
 * to answer). Once the request is complete its call has a deadline of its own
 * (the handler's); only the connection's first request is timed ({@link Dispatch}).
 */
final class RequestDeadlines extends ChannelInboundHandlerAdapter {
    private final Duration header;
    private final Duration body;
    private ScheduledFuture<?> timer;
    private boolean headersIn;
    private boolean done;

    RequestDeadlines(Duration header, Duration body) {
        this.header = header;
        this.body = body;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        timer = schedule(ctx, header, "the request line and headers did not arrive within " + seconds(header));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!done) {
            if (msg instanceof HttpRequest && !headersIn) {
                headersIn = true;
                cancel();
                timer = schedule(ctx, body, "the request's body did not arrive within " + seconds(body)
                        + " after its headers");
            }
            if (msg instanceof LastHttpContent && headersIn) {
                done = true;
                cancel();
            }
        }
        ctx.fireChannelRead(msg);
    }

    private ScheduledFuture<?> schedule(ChannelHandlerContext ctx, Duration after, String reason) {
        return ctx.executor().schedule(() -> {
            if (!done && ctx.channel().isActive() && !Dispatch.started(ctx.channel())) {
                done = true;
                if (ConnectionCap.spoke(ctx.channel())) {
                    ErrorReply.answerAndClose(ctx, 408, reason);
                } else {
                    ctx.close(); // it said nothing: there is no request to answer
                }
            }
        }, after.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }
}
