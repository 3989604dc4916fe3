package io.vswitch.core;

import io.netty.buffer.ByteBuf;

/**
 * The little of DNS (RFC 1035, EDNS RFC 6891) the switch reads and writes: a query's header and
 * its one question, checked strictly because a container can send anything; an answer with A or
 * AAAA records pointing back at the question's name.
 *
 * <p>A query is refused as malformed (and dropped) when it is shorter than its header, is a
 * response, asks anything but exactly one question, carries answer or authority records or more
 * than one additional record (an EDNS OPT, nothing else), or its name is not plain labels: a
 * compression pointer (a question has nothing before it to point at), a label over 63 bytes, a
 * name over 255 bytes, or one that runs past the message.
 */
final class Dns {
    static final int HEADER = 12;
    static final int TYPE_A = 1;
    static final int TYPE_AAAA = 28;
    static final int TYPE_OPT = 41;
    static final int TYPE_ANY = 255;
    static final int CLASS_IN = 1;
    static final int RCODE_NXDOMAIN = 3;
    static final int RCODE_NOTIMP = 4;
    static final int RCODE_REFUSED = 5;
    /** What a client without EDNS takes over UDP. */
    static final int CLASSIC_UDP = 512;
    /** What the switch offers with EDNS: the DNS flag day 2020 size, safe from fragmentation. */
    static final int EDNS_UDP = 1232;

    /** A parsed query: filled in place by {@link #parse}. */
    static final class Question {
        int id;
        int flags;
        /** The name, lower case, labels joined by dots, no final dot; {@code nameLength} bytes of {@code name}. */
        final byte[] name = new byte[256];
        int nameLength;
        /** Offset (from the message's start) just past the question's class: what an answer copies. */
        int end;
        int type;
        int qclass;
        boolean edns;
        int udpSize;

        int opcode() {
            return (flags >>> 11) & 0xF;
        }
    }

    private Dns() {
    }

    /** Reads the query of {@code length} bytes at {@code at}; false when it is malformed. */
    static boolean parse(ByteBuf b, int at, int length, Question q) {
        if (length < HEADER) {
            return false;
        }
        q.id = b.getUnsignedShort(at);
        q.flags = b.getUnsignedShort(at + 2);
        int qd = b.getUnsignedShort(at + 4);
        int an = b.getUnsignedShort(at + 6);
        int ns = b.getUnsignedShort(at + 8);
        int ar = b.getUnsignedShort(at + 10);
        if ((q.flags & 0x8000) != 0 || qd != 1 || an != 0 || ns != 0 || ar > 1) {
            return false;
        }
        int p = at + HEADER;
        int limit = at + length;
        int n = 0;
        while (true) {
            if (p >= limit) {
                return false;
            }
            int label = b.getUnsignedByte(p++);
            if (label == 0) {
                break;
            }
            if (label > 63 || p + label > limit || n + (n > 0 ? 1 : 0) + label > 253) {
                // Pointers (0xC0) and the reserved 0x40/0x80 forms are over 63 too; 253 dotted is 255 on the wire.
                return false;
            }
            if (n > 0) {
                q.name[n++] = '.';
            }
            for (int i = 0; i < label; i++) {
                byte c = b.getByte(p + i);
                q.name[n++] = c >= 'A' && c <= 'Z' ? (byte) (c + 32) : c;
            }
            p += label;
        }
        q.nameLength = n;
        if (p + 4 > limit) {
            return false;
        }
        q.type = b.getUnsignedShort(p);
        q.qclass = b.getUnsignedShort(p + 2);
        p += 4;
        q.end = p - at;
        q.edns = false;
        q.udpSize = CLASSIC_UDP;
        if (ar == 1) {
            // The OPT pseudo-record: root name, type 41, class = UDP size, TTL, RDLENGTH, RDATA.
            if (p + 11 > limit || b.getUnsignedByte(p) != 0 || b.getUnsignedShort(p + 1) != TYPE_OPT) {
                return false;
            }
            int rdLength = b.getUnsignedShort(p + 9);
            if (p + 11 + rdLength > limit) {
                return false;
            }
            q.edns = true;
            q.udpSize = Math.max(CLASSIC_UDP, b.getUnsignedShort(p + 3));
        }
        return true;
    }

    /**
     * Offset just past the question of a message (header and one question), for an answer that
     * must be cut to its question; the header's length when it cannot be read.
     */
    static int questionEnd(byte[] m, int length) {
        int p = HEADER;
        while (p < length) {
            int label = m[p] & 0xFF;
            if (label == 0) {
                return p + 5 <= length ? p + 5 : HEADER;
            }
            if (label > 63) {
                return HEADER;
            }
            p += 1 + label;
        }
        return HEADER;
    }
}
