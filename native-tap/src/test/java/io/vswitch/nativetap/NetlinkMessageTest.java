package io.vswitch.nativetap;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The netlink flyweight byte by byte: a request as the kernel reads it, a link reply as the kernel writes it. Pure. */
class NetlinkMessageTest {
    @Test
    void aRequestIsHeaderIfinfoAndAttributesPaddedToFour() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(4096, 8);
            NetlinkMessage m = new NetlinkMessage(buffer);
            m.start(Rtnetlink.RTM_NEWLINK, 0);
            m.ifinfo(7, 0, 0);
            m.attr(Rtnetlink.IFLA_IFNAME, "eth0");
            m.attr(Rtnetlink.IFLA_MTU, 1450);
            int length = m.finish();
            assertEquals(16 + 16 + 12 + 8, length, "\"eth0\\0\" is 4 + 5 bytes, padded to 12");
            assertEquals(length, buffer.get(JAVA_INT, 0));
            assertEquals(Rtnetlink.RTM_NEWLINK, buffer.get(JAVA_SHORT, 4));
            assertEquals(Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_ACK, buffer.get(JAVA_SHORT, 6));
            assertEquals(1, buffer.get(JAVA_INT, 8), "the first request's sequence number");
            assertEquals(7, buffer.get(JAVA_INT, 16 + 4), "ifinfomsg index");
            assertEquals(9, buffer.get(JAVA_SHORT, 32), "rtattr len of IFLA_IFNAME: 4 + 5");
            assertEquals("eth0", buffer.getString(36, StandardCharsets.US_ASCII));
            assertEquals(0, buffer.get(JAVA_BYTE, 41), "padding is zeroed");
            assertEquals(1450, buffer.get(JAVA_INT, 48));
            m.start(Rtnetlink.RTM_GETLINK, Rtnetlink.NLM_F_DUMP);
            assertEquals(2, m.seq(), "each request its own sequence number");
        }
    }

    @Test
    void aLinkIsReadFromItsReply() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(4096, 8);
            NetlinkMessage reply = new NetlinkMessage(buffer);
            reply.start(Rtnetlink.RTM_NEWLINK, 0);
            reply.ifinfo(12, Rtnetlink.IFF_UP, 0);
            reply.attr(Rtnetlink.IFLA_IFNAME, "vs0a1b2c3d");
            reply.attr(Rtnetlink.IFLA_ADDRESS, new byte[] {2, 0, 0, 0, 0x12, 0x34}, false);
            reply.attr(Rtnetlink.IFLA_OPERSTATE, new byte[] {6}, false);
            reply.attr(Rtnetlink.IFLA_IFALIAS, "vswitch apps web");
            reply.attr(Rtnetlink.IFLA_QDISC, "noqueue");
            reply.finish();
            Rtnetlink.Link link = reply.link(0);
            assertEquals(12, link.index());
            assertEquals("vs0a1b2c3d", link.name());
            assertEquals(0x0200_0000_1234L, link.mac());
            assertEquals(6, link.operState());
            assertEquals("vswitch apps web", link.alias());
            assertEquals("noqueue", link.qdisc());
            assertEquals(true, link.isUp());
        }
    }
}
