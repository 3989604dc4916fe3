package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EthernetFrameTest {
    @Test
    void readsMacsAndEtherTypeAtTheReaderIndex() {
        ByteBuf buf = Frames.frame(0x0a0b0c0d0e0fL, 0x021122334455L, 0x86dd, 80);
        try {
            assertEquals(0x0a0b0c0d0e0fL, EthernetFrame.destination(buf));
            assertEquals(0x021122334455L, EthernetFrame.source(buf));
            assertEquals(0x86dd, EthernetFrame.etherType(buf));
            assertEquals(-1, EthernetFrame.vlanId(buf));
            assertEquals(0, buf.readerIndex(), "accessors never move the indices");
        } finally {
            buf.release();
        }
    }

    @Test
    void readsVlanIdOfTaggedFrameWithoutChangingIt() {
        ByteBuf buf = Frames.frame(1, Frames.mac(1), 0x8100, 64);
        buf.setShort(14, 0x2000 | 42);
        try {
            assertEquals(42, EthernetFrame.vlanId(buf));
            assertEquals(0x8100, EthernetFrame.etherType(buf));
        } finally {
            buf.release();
        }
    }

    @Test
    void parsesAndPrintsMacAddresses() {
        long mac = MacAddress.parse("02:0A:ff:00:01:9c");
        assertEquals(0x020aff00019cL, mac);
        assertEquals("02:0a:ff:00:01:9c", MacAddress.toString(mac));
        assertTrue(MacAddress.isGroup(MacAddress.parse("01:00:5e:00:00:01")));
        assertTrue(MacAddress.isBroadcast(MacAddress.parse("ff:ff:ff:ff:ff:ff")));
        assertFalse(MacAddress.isValidSource(0));
        assertFalse(MacAddress.isValidSource(MacAddress.BROADCAST));
        assertTrue(MacAddress.isValidSource(mac));
        assertThrows(IllegalArgumentException.class, () -> MacAddress.parse("02:00:00:00:00"));
        assertThrows(IllegalArgumentException.class, () -> MacAddress.parse("02:00:00:00:00:zz"));
    }
}
