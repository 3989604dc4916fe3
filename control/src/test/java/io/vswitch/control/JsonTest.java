package io.vswitch.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The contract's JSON rules: requests read strictly, responses and the state file leniently. Pure. */
class JsonTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            unknown field       | {"name": "x", "colour": "red"}
            duplicate key       | {"name": "x", "name": "y"}
            string for a bool   | {"name": "x", "persist": "yes"}
            number for a bool   | {"name": "x", "persist": 1}
            string for a number | {"name": "x", "mtu": "1500"}
            float for a number  | {"name": "x", "mtu": 1500.5}
            bool for a string   | {"name": true}
            empty string        | {"name": "x", "mtu": ""}
            trailing tokens     | {"name": "x"} {"name": "y"}
            """)
    void requestsAreReadStrictly(String what, String json) {
        assertThrows(JsonProcessingException.class, () -> Json.STRICT.readValue(json, NetworkSpec.class), what);
    }

    @Test
    void aWellFormedRequestIsReadAsSent() throws Exception {
        NetworkSpec s = Json.STRICT.readValue("{\"name\": \"apps\", \"mtu\": 9000, \"persist\": true, \"peers\": [\"198.19.0.2\"],"
                + " \"ports\": [{\"name\": \"a0\", \"offload\": false}]}", NetworkSpec.class);
        assertEquals("apps", s.name());
        assertEquals(9000, s.mtu());
        assertEquals(Boolean.TRUE, s.persist());
        assertEquals(List.of("198.19.0.2"), s.peers());
        assertEquals(Boolean.FALSE, s.ports().getFirst().offload());
        assertNull(s.vni(), "absent stays absent: the daemon's rules fill in defaults");
    }

    @Test
    void answersFromANewerDaemonWithMoreFieldsAreStillRead() throws Exception {
        Views.Added added = Json.LENIENT.readValue("{\"added\": \"02:00:00:00:00:01\", \"since\": 12}", Views.Added.class);
        assertEquals("02:00:00:00:00:01", added.added());
    }

    @Test
    void writesLeaveAbsentFieldsOut() throws Exception {
        String json = Json.LENIENT.writeValueAsString(new PortSpec("p0", null, false));
        assertTrue(json.contains("\"offload\":false"), json);
        assertFalse(json.contains("persist"), json);
        assertFalse(json.contains("null"), json);
    }
}
