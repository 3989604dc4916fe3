package io.vswitch.nativetap;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading links through rtnetlink needs no privilege: loopback is in every namespace. */
class RtnetlinkTest {
    @Test
    void readsLoopbackByNameByIndexAndInADump() throws Exception {
        try (Rtnetlink rt = Rtnetlink.open()) {
            Rtnetlink.Link lo = rt.link("lo");
            assertEquals("lo", lo.name());
            assertTrue(lo.index() > 0);
            assertEquals(lo.name(), rt.link(lo.index()).name());
            assertTrue(rt.links().stream().anyMatch(l -> l.name().equals("lo")));
        }
    }

    @Test
    void aMissingLinkIsNamedWithItsErrno() throws Exception {
        try (Rtnetlink rt = Rtnetlink.open()) {
            NativeCallException e = assertThrows(NativeCallException.class, () -> rt.link("nosuchdev0"));
            assertEquals(Errno.ENODEV, e.errno(), e.getMessage());
            assertTrue(e.getMessage().contains("nosuchdev0"), e.getMessage());
        }
    }
}
