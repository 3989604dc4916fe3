package io.vswitch.core;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whatever a container puts in an ARP frame or a DNS query to the gateway, the pipeline neither
 * throws nor loses count: each frame is answered, forwarded upstream, flooded, or dropped under
 * a reason, and a good query right after is still answered.
 */
class ResponderFuzzTest {
    private static final long NOW = 5_000_000_000_000L;

    private static final class Fixture {
        final BridgeDomain net = new BridgeDomain(1, new NetworkSettings("apps", 1500, Duration.ofSeconds(300), 8192), 1);
        final ChannelPort pa = new ChannelPort("pa", 1);
        final ChannelPort pb = new ChannelPort("pb", 1);
        final Pipeline pipeline = new Pipeline(0, 8);
        final List<DnsQuery> forwarded = new ArrayList<>();

        Fixture() {
            net.addPort(pa);
            net.addPort(pb);
            net.setDirectory(Directory.builder().gateway(ResponderTest.GW, false, ResponderTest.IP_GW, null)
                    .neighbor(ResponderTest.IP_B, ResponderTest.B).dns("apps", forwarded::add)
                    .name("web", ResponderTest.IP_B).build());
        }

        void send(ByteBuf frame) {
            pipeline.process(pa, new ByteBuf[] {frame}, 1, NOW);
            frame.release();
        }

        long accounted() {
            long drops = 0;
            for (DropReason r : DropReason.values()) {
                drops += pa.counters().get(PortCounter.dropIndex(r));
            }
            return drops + net.count(NetworkCounter.DNS_ANSWERED) + net.count(NetworkCounter.DNS_REFUSED)
                    + net.count(NetworkCounter.DNS_FORWARDED) + net.count(NetworkCounter.ARP_ANSWERED)
                    + net.count(NetworkCounter.FLOODED) + net.count(NetworkCounter.FORWARDED);
        }

        void close() {
            pa.clear();
            pb.clear();
            pipeline.release();
        }
    }

    @Provide
    Arbitrary<byte[]> messages() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(600);
        Arbitrary<byte[]> mutated = Arbitraries.integers().between(0, 40).tuple3().map(t -> {
            byte[] m = ResponderTest.query("web.apps", 1, t.get3() % 2 == 0);
            m[t.get1() % m.length] = (byte) (t.get2() * 37);
            if (t.get3() % 3 == 0) {
                m[(t.get1() * 7) % m.length] = (byte) 0xC0;
            }
            return m;
        });
        return Arbitraries.oneOf(random, mutated);
    }

    @Property(tries = 3000)
    void anyDnsMessageToTheGatewayIsAccountedForAndNeverStopsTheSwitch(@ForAll("messages") byte[] message) throws Exception {
        Fixture f = new Fixture();
        try {
            f.send(ResponderTest.udp(ResponderTest.A, ResponderTest.GW, ResponderTest.IP_A, ResponderTest.IP_GW, 53, message));
            assertEquals(1, f.accounted(), "one frame, one outcome");
            f.pa.clear();
            f.send(ResponderTest.udp(ResponderTest.A, ResponderTest.GW, ResponderTest.IP_A, ResponderTest.IP_GW, 53,
                    ResponderTest.query("web", 1, false)));
            ByteBuf answer = f.pa.poll();
            assertTrue(answer != null, "a good query is answered after a bad one");
            assertEquals(java.util.List.of("A 198.18.80.3"), ResponderTest.decode(answer).records());
            answer.release();
        } finally {
            f.close();
        }
    }

    @Property(tries = 3000)
    void anyArpFrameIsAccountedFor(@ForAll @IntRange(min = 14, max = 80) int length, @ForAll("messages") byte[] body) {
        Fixture f = new Fixture();
        try {
            ByteBuf frame = Unpooled.directBuffer(length).writeZero(length);
            EthernetFrame.writeMac(frame, 0, MacAddress.BROADCAST);
            EthernetFrame.writeMac(frame, 6, ResponderTest.A);
            frame.setShort(12, 0x0806);
            frame.setBytes(14, body, 0, Math.min(body.length, length - 14));
            f.send(frame);
            assertEquals(1, f.accounted(), "one frame, one outcome");
        } finally {
            f.close();
        }
    }
}
