package io.vswitch.unixhttp;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;

/** The server's own answers ({"error": reason}), written when it refuses a connection or a request itself. */
final class ErrorReply {
    private ErrorReply() {
    }

    /** A response with {@code body}, closing the connection. */
    static FullHttpResponse response(int status, byte[] body, String contentType) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        return response;
    }

    static FullHttpResponse json(int status, String reason) {
        return response(status, ("{\"error\":" + quote(reason) + "}").getBytes(StandardCharsets.UTF_8), "application/json");
    }

    /** Answers {@code reason} with {@code status} and closes the connection once it is written. */
    static void answerAndClose(ChannelHandlerContext ctx, int status, String reason) {
        answerAndClose(ctx.channel(), status, reason);
    }

    static void answerAndClose(Channel channel, int status, String reason) {
        channel.config().setAutoRead(false);
        channel.writeAndFlush(json(status, reason)).addListener(ChannelFutureListener.CLOSE);
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
