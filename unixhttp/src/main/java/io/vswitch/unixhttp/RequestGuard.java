package io.vswitch.unixhttp;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.ReferenceCountUtil;

import java.util.regex.Pattern;

/**
 * The control socket's door: a request the decoder could not read (a request line or headers
 * too long, a broken header), a Content-Length that is not a plain number, or a body over the
 * limit is answered at once with 400 or 413, and the connection is closed without reading the
 * rest. Everything else passes on to the aggregator and the dispatch. Once a request of the
 * connection is being handled, what follows it is only dropped: the answer comes first
 * ({@link Dispatch}).
 */
final class RequestGuard extends ChannelInboundHandlerAdapter {
    private static final Pattern DIGITS = Pattern.compile("\\d{1,10}");

    private final int maxBody;
    private long bodyBytes;
    private boolean rejected;

    RequestGuard(int maxBody) {
        this.maxBody = maxBody;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (rejected) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest request) {
            bodyBytes = 0;
            if (request.decoderResult().isFailure()) {
                Throwable cause = request.decoderResult().cause();
                reject(ctx, msg, HttpResponseStatus.BAD_REQUEST, "malformed request: "
                        + (cause == null ? "unreadable" : cause.getMessage()));
                return;
            }
            String length = request.headers().get(HttpHeaderNames.CONTENT_LENGTH);
            if (length != null && !DIGITS.matcher(length.trim()).matches()) {
                reject(ctx, msg, HttpResponseStatus.BAD_REQUEST, "bad Content-Length \"" + length + "\"");
                return;
            }
            if (length != null && Long.parseLong(length.trim()) > maxBody) {
                reject(ctx, msg, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "the body is over " + maxBody + " bytes");
                return;
            }
        }
        if (msg instanceof HttpContent content) {
            if (content.decoderResult().isFailure()) {
                reject(ctx, msg, HttpResponseStatus.BAD_REQUEST, "malformed body: " + content.decoderResult().cause());
                return;
            }
            bodyBytes += content.content().readableBytes();
            if (bodyBytes > maxBody) {
                reject(ctx, msg, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "the body is over " + maxBody + " bytes");
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    private void reject(ChannelHandlerContext ctx, Object msg, HttpResponseStatus status, String reason) {
        ReferenceCountUtil.release(msg);
        rejected = true;
        if (Dispatch.started(ctx.channel())) {
            ctx.channel().config().setAutoRead(false); // a pipelined request: the first one's answer comes first
            return;
        }
        ErrorReply.answerAndClose(ctx, status.code(), reason);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
