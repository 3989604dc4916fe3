package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * Tells a network that an address now belongs to another MAC: a gratuitous ARP (an ARP request
 * for one's own address, RFC 5227's announcement) and an unsolicited IPv6 neighbour
 * advertisement with the override flag (RFC 4861 7.2.6), sent on the endpoint's behalf to
 * every other port the endpoint could flood to.
 *
 * <p>Needed because the switch answers ARP itself ({@link Responder}): without it a container
 * that gets an address a departed one had would never be heard by its neighbours, whose caches
 * would keep the old MAC (REACHABLE for up to half a minute), since its own ARP requests reach
 * nobody. A Linux neighbour updates an entry it has from such an announcement and creates none.
 *
 * <p>Runs on a lane's thread: the ports are written from it. A tunnel port only queues the
 * frame's address, so the caller flushes the lane's writes before it releases the frame.
 */
public final class Announcer {
    private Announcer() {
    }

    /**
     * Announces {@code ip} (4 or 16 bytes) at {@code mac} from {@code owner} to the rest of its
     * network; returns the frame, for the caller to release once the lane's writes are flushed.
     */
    public static ByteBuf announce(BridgeDomain domain, Port owner, long mac, byte[] ip, int lane) {
        ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer(Responder.HEADROOM + 128);
        frame.setZero(0, Responder.HEADROOM + 128);
        int o = Responder.HEADROOM;
        int length = ip.length == 4 ? arp(frame, o, mac, ip) : advertisement(frame, o, mac, ip);
        frame.setIndex(o, o + length);
        VirtioNetHeader.clear(frame);
        for (Port port : domain.portArray()) {
            if (port != null && port != owner && port.isUp() && FloodSet.exclusion(owner, port) == FloodSet.INCLUDED) {
                port.transmit(frame, lane);
            }
        }
        return frame;
    }

    private static int arp(ByteBuf f, int o, long mac, byte[] ip) {
        EthernetFrame.writeMac(f, o, MacAddress.BROADCAST);
        EthernetFrame.writeMac(f, o + 6, mac);
        f.setShort(o + 12, Responder.ETHER_ARP);
        int a = o + EthernetFrame.HEADER_LENGTH;
        f.setShort(a, 1);
        f.setShort(a + 2, Ipv4Header.ETHER_TYPE);
        f.setByte(a + 4, 6);
        f.setByte(a + 5, 4);
        f.setShort(a + 6, 1); // a request for its own address: what Linux's arping -U and a moved VM send
        EthernetFrame.writeMac(f, a + 8, mac);
        f.setBytes(a + 14, ip);
        f.setBytes(a + 24, ip);
        return 60;
    }

    private static int advertisement(ByteBuf f, int o, long mac, byte[] ip) {
        EthernetFrame.writeMac(f, o, 0x3333_0000_0001L);
        EthernetFrame.writeMac(f, o + 6, mac);
        f.setShort(o + 12, Ipv6Header.ETHER_TYPE);
        int h = o + EthernetFrame.HEADER_LENGTH;
        int na = h + Ipv6Header.LENGTH;
        int length = 24 + 8;
        f.setInt(h, 0x6000_0000);
        f.setShort(h + Ipv6Header.PAYLOAD_LENGTH_OFFSET, length);
        f.setByte(h + Ipv6Header.NEXT_HEADER_OFFSET, 58);
        f.setByte(h + Ipv6Header.HOP_LIMIT_OFFSET, 255);
        f.setBytes(h + Ipv6Header.SOURCE_OFFSET, ip);
        f.setLong(h + Ipv6Header.DESTINATION_OFFSET, 0xFF02_0000_0000_0000L); // all nodes
        f.setLong(h + Ipv6Header.DESTINATION_OFFSET + 8, 1);
        f.setByte(na, Responder.ND_NA);
        f.setInt(na + 4, 0x2000_0000); // override, not solicited
        f.setBytes(na + 8, ip);
        f.setByte(na + 24, 2);
        f.setByte(na + 25, 1);
        EthernetFrame.writeMac(f, na + 26, mac);
        long sum = Segmenter.pseudoHeaderSum(f, h, false, 58, length);
        f.setShort(na + 2, ~Segmenter.fold(Segmenter.sum(f, na, length, sum)) & 0xFFFF);
        return EthernetFrame.HEADER_LENGTH + Ipv6Header.LENGTH + length;
    }
}
