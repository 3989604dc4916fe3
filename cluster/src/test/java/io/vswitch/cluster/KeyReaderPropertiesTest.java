package io.vswitch.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Whatever etcd holds under the prefix, reading it never throws: every key with any JSON value
 * (or any text at all) is accepted as an entry or refused with a reason, and a sequence of such
 * puts and deletes folded into the state never throws either, nor applies anything refused.
 */
class KeyReaderPropertiesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final List<String> FIELDS = List.of("vtep", "port", "since", "host", "ip", "spec", "name", "vni",
            "subnet", "subnet6", "x");
    private static final List<String> TEXTS = List.of("198.19.1.2", "198.19.1.1", "127.0.0.1", "0.0.0.0",
            "255.255.255.255", "224.0.0.1", "10.0.0.1", "198.18.60.12/24", "198.18.60.0/24", "fd00::5", "fd00::/64",
            "fd00:0:0:0:0:0:0:5", "h1", "h2", "blue", "", "localhost", "1.2.3", "::ffff:1.2.3.4", "fe80::1%eth0",
            "198.18.60.12/99", "\u0000", "é");

    private final KeyReader reader = new KeyReader(KeyReaderTest.UNDERLAY, "h1");

    @Provide
    Arbitrary<String> keys() {
        Arbitrary<String> name = Arbitraries.oneOf(Arbitraries.of("h1", "h2", "blue", "02:00:00:00:00:02", "198.18.60.12",
                "ff:ff:ff:ff:ff:ff", "fd00:0:0:0:0:0:0:5"), Arbitraries.strings().ofMaxLength(20));
        Arbitrary<String> kind = Arbitraries.of("hosts/", "networks/", "members/", "endpoints/", "addresses/", "", "x/");
        return Combinators.combine(kind, name, name, Arbitraries.integers().between(0, 2))
                .as((k, a, b, parts) -> k + (parts == 0 ? a : parts == 1 ? "blue/" + b : a + "/" + b + "/x"));
    }

    @Provide
    Arbitrary<JsonNode> values() {
        return json(4);
    }

    private Arbitrary<JsonNode> json(int depth) {
        Arbitrary<JsonNode> leaf = Arbitraries.oneOf(
                Arbitraries.just(F.nullNode()),
                Arbitraries.of(true, false).map(F::booleanNode),
                Arbitraries.integers().map(F::numberNode),
                Arbitraries.longs().map(F::numberNode),
                Arbitraries.doubles().map(F::numberNode),
                Arbitraries.of(TEXTS).map(F::textNode),
                Arbitraries.strings().ofMaxLength(30).map(F::textNode));
        if (depth == 0) {
            return leaf;
        }
        Arbitrary<JsonNode> array = json(depth - 1).list().ofMaxSize(4).map(items -> {
            ArrayNode a = F.arrayNode();
            items.forEach(a::add);
            return a;
        });
        Arbitrary<JsonNode> object = Combinators.combine(Arbitraries.oneOf(Arbitraries.of(FIELDS),
                Arbitraries.strings().ofMaxLength(8)), json(depth - 1)).as(Tuple::of).list().ofMaxSize(6).map(fields -> {
                    ObjectNode o = F.objectNode();
                    fields.forEach(t -> o.set(t.get1(), t.get2()));
                    return o;
                });
        return Arbitraries.frequencyOf(Tuple.of(3, leaf), Tuple.of(2, array), Tuple.of(6, object));
    }

    @Property(tries = 3000)
    void anyJsonValueIsAcceptedOrRefusedNeverThrown(@ForAll("keys") String rel, @ForAll("values") JsonNode value,
            @ForAll long lease) throws Exception {
        KeyReader.Read r = reader.read(rel, JSON.writeValueAsString(value), lease, 1);
        assertNotNull(r);
        assertEquals(r.entry() == null, r.refusal() != null, "exactly one of entry and refusal: " + r);
    }

    @Property(tries = 2000)
    void anyTextIsAcceptedOrRefusedNeverThrown(@ForAll("keys") String rel, @ForAll String value) {
        KeyReader.Read r = reader.read(rel, value, 7, 1);
        assertEquals(r.entry() == null, r.refusal() != null);
    }

    @Property(tries = 300)
    void anySequenceOfPutsAndDeletesFoldsWithoutThrowing(
            @ForAll("puts") List<Tuple.Tuple3<String, JsonNode, Long>> puts) throws Exception {
        Refusals refusals = new Refusals();
        ClusterState state = new ClusterState("h1", reader, refusals, ClusterStateTest.NOBODY);
        long rev = 1;
        for (Tuple.Tuple3<String, JsonNode, Long> p : puts) {
            if (p.get2().isNull()) {
                state.delete(p.get1());
            } else {
                state.put(p.get1(), JSON.writeValueAsString(p.get2()), p.get3(), 1, rev);
            }
            state.revision(rev++);
            state.commit();
        }
        ClusterChanges c = state.takeChanges();
        assertNotNull(c);
        assertNotNull(state.view());
    }

    @Provide
    Arbitrary<List<Tuple.Tuple3<String, JsonNode, Long>>> puts() {
        Arbitrary<String> key = Arbitraries.of("hosts/h2", "hosts/h3", "networks/blue", "members/blue/h2",
                "members/blue/h3", "endpoints/blue/02:00:00:00:00:02", "endpoints/blue/02:00:00:00:00:03",
                "addresses/blue/198.18.60.12", "addresses/blue/198.18.60.13", "junk/x");
        Arbitrary<JsonNode> value = Arbitraries.oneOf(values(), Arbitraries.of(
                "{\"vtep\":\"198.19.1.2\"}", "{\"vtep\":\"198.19.1.3\"}", "{\"vtep\":\"127.0.0.1\"}",
                "{\"spec\":{\"name\":\"blue\",\"vni\":42,\"subnet\":\"198.18.60.0/24\"}}", "{}",
                "{\"host\":\"h2\",\"ip\":\"198.18.60.12/24\"}", "{\"host\":\"h3\",\"ip\":\"198.18.60.12/24\"}",
                "{\"host\":\"h2\"}", "{\"host\":\"h3\"}", "null").map(s -> {
                    try {
                        return JSON.readTree(s);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
        return Combinators.combine(key, value, Arbitraries.of(0L, 2L, 3L)).as(Tuple::of).list().ofMaxSize(40);
    }
}
