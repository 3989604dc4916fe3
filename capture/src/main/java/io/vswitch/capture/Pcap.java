package io.vswitch.capture;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The pcap file format (nanosecond variant, magic {@code a1b23c4d}, link type Ethernet) as
 * tcpdump, Wireshark and {@code tcpdump -r -} read it: a 24-byte file header, then per frame a
 * 16-byte record header (seconds, nanoseconds, captured and original length) and its bytes.
 */
public final class Pcap {
    public static final int SNAPLEN = 262_144;
    private static final int MAGIC_NANOS = 0xa1b23c4d;
    private static final int LINKTYPE_ETHERNET = 1;

    private Pcap() {
    }

    public static void writeHeader(OutputStream out) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC_NANOS).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(SNAPLEN)
                .putInt(LINKTYPE_ETHERNET);
        out.write(b.array());
    }

    /** One record: {@code data[0..captured)} of a frame {@code length} bytes long, at {@code epochNanos}. */
    public static void writeRecord(OutputStream out, long epochNanos, byte[] data, int captured, int length)
            throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt((int) (epochNanos / 1_000_000_000L)).putInt((int) (epochNanos % 1_000_000_000L)).putInt(captured)
                .putInt(length);
        out.write(b.array());
        out.write(data, 0, captured);
    }
}
