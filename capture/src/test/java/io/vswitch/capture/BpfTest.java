package io.vswitch.capture;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** tcpdump's filter expressions, compiled by tcpdump, run by our interpreter. */
class BpfTest {
    private static ByteBuf udp(int srcIp, int dstIp, int dport, boolean vlan) {
        ByteBuf f = Unpooled.buffer(80);
        f.writeZero(80);
        int o = 0;
        f.setLong(0, 0x0200_0000_0001L << 16);
        f.setShort(12, vlan ? 0x8100 : 0x0800);
        if (vlan) {
            f.setShort(14, 10);
            f.setShort(16, 0x0800);
            o = 4;
        }
        f.setByte(14 + o, 0x45);
        f.setByte(23 + o, 17);
        f.setInt(26 + o, srcIp);
        f.setInt(30 + o, dstIp);
        f.setShort(34 + o, 40000);
        f.setShort(36 + o, dport);
        f.setIndex(10, 80); // the frame starts at 10: offsets are relative to the reader index
        ByteBuf shifted = Unpooled.buffer(90);
        shifted.writeZero(10);
        shifted.writeBytes(f, 0, 80);
        shifted.readerIndex(10);
        return shifted;
    }

    @Test
    void tcpdumpsExpressionsMatchWhatTheySay() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/tcpdump")) || Files.isExecutable(Path.of("/usr/sbin/tcpdump")));
        ByteBuf dns = udp(0xC6120002, 0xC6120001, 53, false);
        ByteBuf other = udp(0xC6120003, 0xC6120001, 9999, false);
        ByteBuf tagged = udp(0xC6120002, 0xC6120001, 53, true);
        Bpf port53 = Bpf.compile("udp port 53");
        assertTrue(port53.matches(dns));
        assertFalse(port53.matches(other));
        Bpf host = Bpf.compile("src host 198.18.0.2 and udp");
        assertTrue(host.matches(dns));
        assertFalse(host.matches(other));
        Bpf inVlan = Bpf.compile("vlan 10 and udp port 53");
        assertTrue(inVlan.matches(tagged));
        assertFalse(inVlan.matches(dns));
        assertFalse(Bpf.compile("tcp").matches(dns));
        assertTrue(Bpf.compile("greater 60").matches(dns));
        // A load past the end rejects rather than reading another frame's bytes.
        ByteBuf runt = Unpooled.buffer(14).writeZero(14);
        runt.setShort(12, 0x0800);
        assertFalse(port53.matches(runt));
    }

    @Test
    void programsTheKernelWouldRefuseAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Bpf.parse("x", "1\n21 0 0 1\n")); // no return
        assertThrows(IllegalArgumentException.class, () -> Bpf.parse("x", "2\n21 5 0 1\n6 0 0 1\n")); // jump out
        assertThrows(IllegalArgumentException.class, () -> Bpf.parse("x", "2\n2 0 0 99\n6 0 0 1\n")); // bad slot
        assertThrows(IllegalArgumentException.class, () -> Bpf.parse("x", "3\n6 0 0 1\n"));
    }
}
