package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/** Builds test frames. */
final class Frames {
    private Frames() {
    }

    static ByteBuf frame(long dst, long src, int etherType, int length) {
        ByteBuf buf = Unpooled.directBuffer(length);
        buf.writeZero(length);
        if (length >= 12) {
            EthernetFrame.writeMac(buf, 0, dst);
            EthernetFrame.writeMac(buf, 6, src);
        }
        if (length >= 14) {
            buf.setShort(12, etherType);
        }
        for (int i = 14; i < length; i++) {
            buf.setByte(i, i);
        }
        return buf;
    }

    static ByteBuf frame(long dst, long src) {
        return frame(dst, src, 0x0800, 64);
    }

    static long mac(int n) {
        return 0x02_00_00_00_00_00L | n;
    }
}
