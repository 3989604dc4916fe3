package io.vswitch.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A dnsperf-like load generator for bench/dns: keeps WINDOW A queries for NAME in flight to
 * SERVER:53 for SECONDS (after a one-second warm-up) from one UDP socket, each under its own id,
 * and prints one JSON line: answers per second, lost queries (unanswered after a second),
 * answers that were not NOERROR with a record, and latency percentiles in microseconds.
 *
 * <pre>java -cp bench.jar io.vswitch.bench.DnsLoad SERVER NAME SECONDS WINDOW</pre>
 */
public final class DnsLoad {
    private DnsLoad() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: DnsLoad SERVER NAME SECONDS WINDOW");
            System.exit(2);
        }
        InetSocketAddress server = new InetSocketAddress(InetAddress.ofLiteral(args[0]), 53);
        byte[] query = query(args[1]);
        long seconds = Long.parseLong(args[2]);
        int window = Integer.parseInt(args[3]);

        long[] sentAt = new long[65536];
        boolean[] inFlight = new boolean[65536];
        int[] histogram = new int[1_000_001]; // microseconds, the last bucket is "a second or more"
        long answered = 0;
        long bad = 0;
        long lost = 0;
        int outstanding = 0;
        int nextId = 0;
        ByteBuffer out = ByteBuffer.allocateDirect(query.length);
        ByteBuffer in = ByteBuffer.allocateDirect(4096);

        try (DatagramChannel ch = DatagramChannel.open(); Selector selector = Selector.open()) {
            ch.connect(server);
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_READ);
            long start = System.nanoTime();
            long measureFrom = start + 1_000_000_000L;
            long end = measureFrom + seconds * 1_000_000_000L;
            long lastSweep = start;
            long measuredAnswers = 0;
            while (true) {
                long now = System.nanoTime();
                if (now >= end) {
                    break;
                }
                while (outstanding < window) {
                    int id = nextId;
                    nextId = (nextId + 1) & 0xFFFF;
                    if (inFlight[id]) {
                        break; // wrapped onto a query still out: wait
                    }
                    query[0] = (byte) (id >>> 8);
                    query[1] = (byte) id;
                    out.clear();
                    out.put(query).flip();
                    if (ch.write(out) == 0) {
                        break;
                    }
                    sentAt[id] = System.nanoTime();
                    inFlight[id] = true;
                    outstanding++;
                }
                selector.select(5);
                selector.selectedKeys().clear();
                for (;;) {
                    in.clear();
                    int n;
                    try {
                        n = ch.read(in);
                    } catch (java.net.PortUnreachableException e) {
                        System.err.println("nobody answers on " + server);
                        System.exit(1);
                        return;
                    }
                    if (n <= 0) {
                        break;
                    }
                    int id = ((in.get(0) & 0xFF) << 8) | (in.get(1) & 0xFF);
                    if (n < 12 || !inFlight[id]) {
                        continue;
                    }
                    long t = System.nanoTime();
                    inFlight[id] = false;
                    outstanding--;
                    if (sentAt[id] >= measureFrom) {
                        int rcode = in.get(3) & 0xF;
                        int answers = ((in.get(6) & 0xFF) << 8) | (in.get(7) & 0xFF);
                        if (rcode != 0 || answers == 0) {
                            bad++;
                        }
                        histogram[(int) Math.min(1_000_000, (t - sentAt[id]) / 1000)]++;
                        measuredAnswers++;
                    }
                    answered++;
                }
                if (now - lastSweep > 100_000_000L) {
                    lastSweep = now;
                    for (int id = 0; id < 65536; id++) {
                        if (inFlight[id] && now - sentAt[id] > 1_000_000_000L) {
                            inFlight[id] = false;
                            outstanding--;
                            if (sentAt[id] >= measureFrom) {
                                lost++;
                            }
                        }
                    }
                }
            }
            double qps = measuredAnswers / (double) seconds;
            System.out.printf("{\"qps\": %.0f, \"answers\": %d, \"lost\": %d, \"not_answered_with_a_record\": %d, "
                    + "\"p50_us\": %d, \"p99_us\": %d, \"window\": %d}%n", qps, measuredAnswers, lost, bad,
                    percentile(histogram, measuredAnswers, 0.50), percentile(histogram, measuredAnswers, 0.99), window);
        }
    }

    private static long percentile(int[] histogram, long total, double p) {
        long want = (long) Math.ceil(total * p);
        long seen = 0;
        for (int us = 0; us < histogram.length; us++) {
            seen += histogram[us];
            if (seen >= want && want > 0) {
                return us;
            }
        }
        return -1;
    }

    static byte[] query(String name) {
        byte[] q = new byte[12 + name.length() + 2 + 4];
        q[2] = 0x01; // RD
        q[5] = 1;
        int p = 12;
        for (String label : name.split("\\.")) {
            byte[] b = label.getBytes(StandardCharsets.US_ASCII);
            q[p++] = (byte) b.length;
            System.arraycopy(b, 0, q, p, b.length);
            p += b.length;
        }
        q[p++] = 0;
        q[p + 1] = 1; // A
        q[p + 3] = 1; // IN
        return Arrays.copyOf(q, p + 4);
    }
}
