package io.vswitch.systest;

import io.netty.buffer.ByteBuf;

/** IPv4 ICMP echo requests and replies, built and read in ByteBufs with correct checksums. */
final class IcmpEcho {
    private IcmpEcho() {
    }

    /** Appends an IPv4 ICMP echo ({@code type} 8 request, 0 reply) with {@code payload} bytes. */
    static void write(ByteBuf buf, int source, int destination, int type, int id, int seq, int payload) {
        int start = buf.writerIndex();
        buf.writeByte(0x45).writeByte(0).writeShort(28 + payload).writeShort(id).writeShort(0x4000)
                .writeByte(64).writeByte(1).writeShort(0).writeInt(source).writeInt(destination);
        int icmp = buf.writerIndex();
        buf.writeByte(type).writeByte(0).writeShort(0).writeShort(id).writeShort(seq);
        for (int i = 0; i < payload; i++) {
            buf.writeByte(i);
        }
        buf.setShort(start + 10, checksum(buf, start, 20));
        buf.setShort(icmp + 2, checksum(buf, icmp, 8 + payload));
    }

    /** Whether the IPv4 packet at the reader index is an ICMP echo of {@code type}. */
    static boolean isEcho(ByteBuf ip, int type) {
        int i = ip.readerIndex();
        return ip.readableBytes() >= 28 && (ip.getByte(i) & 0xF0) == 0x40 && ip.getByte(i + 9) == 1
                && (ip.getByte(i + 20) & 0xFF) == type;
    }

    static int id(ByteBuf ip) {
        return ip.getUnsignedShort(ip.readerIndex() + 24);
    }

    static int seq(ByteBuf ip) {
        return ip.getUnsignedShort(ip.readerIndex() + 26);
    }

    /** Writes the echo reply to the request in {@code request} into {@code reply}. */
    static void answer(ByteBuf request, ByteBuf reply) {
        int i = request.readerIndex();
        int headerLength = (request.getByte(i) & 0x0F) * 4;
        int total = request.getUnsignedShort(i + 2);
        int start = reply.writerIndex();
        reply.writeBytes(request, i, total);
        reply.setInt(start + 12, request.getInt(i + 16));
        reply.setInt(start + 16, request.getInt(i + 12));
        reply.setShort(start + 10, 0);
        reply.setShort(start + 10, checksum(reply, start, headerLength));
        int icmp = start + headerLength;
        reply.setByte(icmp, 0);
        reply.setShort(icmp + 2, 0);
        reply.setShort(icmp + 2, checksum(reply, icmp, total - headerLength));
    }

    static int checksum(ByteBuf buf, int offset, int length) {
        long sum = 0;
        for (int i = 0; i + 1 < length; i += 2) {
            sum += buf.getUnsignedShort(offset + i);
        }
        if ((length & 1) != 0) {
            sum += (buf.getUnsignedByte(offset + length - 1) << 8);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }
}
