package io.vswitch.unixhttp;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;

/**
 * A cap on the connections a socket holds open, that leaves room for the operator: at the cap, a
 * new connection makes room by closing the one that has waited longest for its request to
 * arrive (answered 503), so a flood of clients that connect and say nothing, or say it slowly,
 * can neither exhaust the daemon's file descriptors nor keep {@code vswitchctl} out. Connections
 * whose request is being handled are never closed for another; when every connection at the cap
 * is such, the newcomer is refused (503) instead.
 *
 * <p>Shared by every connection of one server and used only on its one event loop: no lock.
 */
@ChannelHandler.Sharable
final class ConnectionCap extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionCap.class);
    private static final long LOG_EVERY_NS = 10_000_000_000L;
    private static final AttributeKey<Boolean> SPOKE = AttributeKey.valueOf("vswitch.connection.spoke");

    private final int max;
    private final String name;
    /** Connections whose request has not fully arrived, oldest first. */
    private final ArrayDeque<Channel> waiting = new ArrayDeque<>();
    private int open;
    private long closedForRoom;
    private long loggedAtNs = System.nanoTime() - LOG_EVERY_NS;

    ConnectionCap(int max, String name) {
        this.max = max;
        this.name = name;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        open++;
        waiting.addLast(ch);
        if (open > max) {
            Channel oldest = waiting.peekFirst();
            Channel victim = oldest != ch ? oldest : null;
            if (victim != null) {
                waiting.pollFirst();
                ErrorReply.answerAndClose(victim, 503, "too many connections (" + max + "): this one waited longest for its"
                        + " request and was closed to make room");
            } else {
                waiting.remove(ch);
                ErrorReply.answerAndClose(ch, 503, "too many connections (" + max + "), each with a request being handled");
            }
            closedForRoom++;
            long now = System.nanoTime();
            if (now - loggedAtNs >= LOG_EVERY_NS) {
                loggedAtNs = now;
                LOG.warn("{}: {} connections closed so far to stay within {} open at once", name, closedForRoom, max);
            }
        }
        ctx.fireChannelActive();
    }

    /** Notes that the client has sent something: a deadline missed then is answered (408), not just closed. */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!ctx.channel().hasAttr(SPOKE)) {
            ctx.channel().attr(SPOKE).set(true);
        }
        ctx.fireChannelRead(msg);
    }

    /** Whether anything at all arrived on the connection. */
    static boolean spoke(Channel ch) {
        return ch.hasAttr(SPOKE);
    }

    /** The connection's request has arrived and is being handled: it is not closed for another. */
    void running(Channel ch) {
        waiting.remove(ch);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        open--;
        waiting.remove(ctx.channel());
        ctx.fireChannelInactive();
    }

    /** Connections open now (the event loop's view). */
    int open() {
        return open;
    }
}
