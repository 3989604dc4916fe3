package io.vswitch.vxlan;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VxlanHeaderTest {
    @Test
    void writesTheRfc7348HeaderByteForByte() {
        ByteBuf buf = Unpooled.buffer(16);
        buf.writeZero(16);
        VxlanHeader.write(buf, 4, 0x123456);
        assertEquals("00000000" + "08000000" + "12345600" + "00000000", ByteBufUtil.hexDump(buf));
        assertTrue(VxlanHeader.hasVni(buf, 4));
        assertEquals(0x123456, VxlanHeader.vni(buf, 4));
    }

    @Test
    void readsTheVniIgnoringReservedBitsAndSeesAClearIFlag() {
        ByteBuf buf = Unpooled.wrappedBuffer(new byte[] {(byte) 0xF7, 1, 2, 3, 0, 0, 42, (byte) 0xFF});
        assertFalse(VxlanHeader.hasVni(buf, 0));
        assertEquals(42, VxlanHeader.vni(buf, 0));
        ByteBuf max = Unpooled.buffer(8).writeZero(8);
        VxlanHeader.write(max, 0, VxlanHeader.MAX_VNI);
        assertEquals(VxlanHeader.MAX_VNI, VxlanHeader.vni(max, 0));
    }
}
