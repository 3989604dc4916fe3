package io.vswitch.daemon;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigReaderTest {
    private static final String GOOD = """
            dataplane:
              threads: 2            # event loops
            networks:
              - name: blue
                mtu: 1400
                mac-aging: 5m
                mac-limit: 100
                ports: [blue0, blue1, blue2]
              - name: red
                ports: [red0, red1]
            """;

    @Test
    void readsTheDocumentedExampleWithDefaults() throws Exception {
        DaemonConfig cfg = ConfigReader.parse("vswitch.yaml", GOOD);
        assertEquals(2, cfg.dataplane().threads());
        assertEquals(2, cfg.networks().size());
        NetworkRules.Network blue = cfg.network("blue");
        assertEquals(1400, blue.settings().mtu());
        assertEquals(Duration.ofMinutes(5), blue.settings().macAging());
        assertEquals(100, blue.settings().macLimit());
        assertEquals(List.of("blue0", "blue1", "blue2"), blue.ports().stream().map(p -> p.name()).toList());
        NetworkRules.Network red = cfg.network("red");
        assertEquals(1500, red.settings().mtu());
        assertEquals(Duration.ofSeconds(300), red.settings().macAging());
        assertEquals(8192, red.settings().macLimit());
        assertTrue(red.settings().offload(), "offloads are on by default");
    }

    @Test
    void threadsDefaultToTheNumberOfCpus() throws Exception {
        DaemonConfig cfg = ConfigReader.parse("f.yaml", "networks:\n  - name: a\n    ports: [a0]\n");
        assertEquals(Runtime.getRuntime().availableProcessors(), cfg.dataplane().threads());
    }

    private static ConfigException refuse(String text) {
        return assertThrows(ConfigException.class, () -> ConfigReader.parse("bad.yaml", text));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            unknown key          | networks:\\n  - name: a\\n    prots: [a0]\\n                      | 3 | networks[0].prots      | unknown key; expected one of dns, gateway, gateway-port, gateway6, icc, mac-aging
            unknown top key      | network:\\n  - name: a\\n                                         | 1 | network                | unknown key
            wrong type           | networks:\\n  - name: a\\n    mtu: big\\n                         | 3 | networks[0].mtu        | expected an integer 68..65517, got "big"
            mtu out of range     | networks:\\n  - name: a\\n    mtu: 20\\n                          | 3 | networks[0].mtu        | expected an integer 68..65517, got 20
            ports not a list     | networks:\\n  - name: a\\n    ports: a0\\n                        | 3 | networks[0].ports      | expected a list, got "a0"
            duplicate network    | networks:\\n  - name: a\\n  - name: a\\n                          | 3 | networks[1].name       | network "a" exists already
            duplicate port       | networks:\\n  - name: a\\n    ports: [x0]\\n  - name: b\\n    ports: [x0]\\n | 5 | networks[1].ports[0] | port "x0" already belongs to network a
            port twice in one    | networks:\\n  - name: a\\n    ports: [x0, x0]\\n                 | 3 | networks[0].ports[1]   | duplicate port "x0"
            port named dot-dot   | networks:\\n  - name: a\\n    ports: [".."]\\n                    | 3 | networks[0].ports[0]   | not . or ..
            network name too long| networks:\\n  - name: abcdefghijklmnop\\n                          | 2 | networks[0].name       | expected 1-15 characters [a-z0-9-], got "abcdefghijklmnop"
            port name too long   | networks:\\n  - name: a\\n    ports: [abcdefghijklmnop]\\n        | 3 | networks[0].ports[0]   | expected a device name of 1-15 characters
            bad duration         | networks:\\n  - name: a\\n    mac-aging: soon\\n                  | 3 | networks[0].mac-aging  | expected a duration of at least 1s such as 300s, 5m, 1h or 1500ms, got "soon"
            duration too short   | networks:\\n  - name: a\\n    mac-aging: 10ms\\n                  | 3 | networks[0].mac-aging  | expected a duration from 1s
            threads zero         | dataplane:\\n  threads: 0\\nnetworks:\\n  - name: a\\n            | 2 | dataplane.threads      | expected an integer 1..64, got 0
            missing name         | networks:\\n  - ports: [a0]\\n                                    | 2 | networks[0].name       | missing
            duplicate key        | networks:\\n  - name: a\\n    mtu: 1400\\n    mtu: 1500\\n        | 4 | networks[0].mtu        | duplicate key
            dns without a subnet | networks:\\n  - name: a\\n    dns: true\\n                         | 3 | networks[0].dns        | dns needs a subnet
            bad dns upstream     | dns:\\n  upstream: [dns.example.org]\\nnetworks: []\\n            | 2 | dns.upstream[0]        | expected an IP address
            dns upstream port    | dns:\\n  upstream: ["198.18.0.53:0"]\\n                          | 2 | dns.upstream[0]        | expected a port 1..65535
            vni without vxlan    | networks:\\n  - name: a\\n    vni: 42\\n                          | 3 | networks[0].vni        | an overlay network needs a 'vxlan:' section
            vni out of range     | vxlan:\\n  local: 198.19.0.1\\nnetworks:\\n  - name: a\\n    vni: 16777216\\n | 5 | networks[0].vni | expected an integer 1..16777215
            duplicate vni        | vxlan:\\n  local: 198.19.0.1\\nnetworks:\\n  - name: a\\n    vni: 7\\n  - name: b\\n    vni: 7\\n | 7 | networks[1].vni | vni 7 is already used by network a
            multicast peer       | vxlan:\\n  local: 198.19.0.1\\nnetworks:\\n  - name: a\\n    vni: 7\\n    peers: [224.0.0.1]\\n | 6 | networks[0].peers[0] | (multicast)
            unspecified peer     | vxlan:\\n  local: 198.19.0.1\\nnetworks:\\n  - name: a\\n    vni: 7\\n    peers: [0.0.0.0]\\n | 6 | networks[0].peers[0] | (unspecified)
            overlay mtu too big  | vxlan:\\n  local: 198.19.0.1\\nnetworks:\\n  - name: a\\n    vni: 7\\n    mtu: 1500\\n | 6 | networks[0].mtu | exceeds the MTU 1500 of underlay interface eth0 (198.19.0.1); use at most 1450
            duplicate cpu        | dataplane:\\n  cpus: [0, 0]\\nnetworks:\\n  - name: a\\n          | 2 | dataplane.cpus[1]      | duplicate cpu 0
            cpu beyond the host  | dataplane:\\n  cpus: [0, 999]\\nnetworks:\\n  - name: a\\n        | 2 | dataplane.cpus[1]      | expected an integer 0..
            peers without vni    | vxlan:\\n  local: 198.19.0.1\\nnetworks:\\n  - name: a\\n    peers: [198.19.0.2]\\n | 5 | networks[0].peers | peers need a vni
            peer not an address  | vxlan:\\n  local: 198.19.0.1\\nnetworks:\\n  - name: a\\n    vni: 7\\n    peers: [host2]\\n | 6 | networks[0].peers[0] | expected an IPv4 address such as 198.19.0.2, got "host2"
            peer is local        | vxlan:\\n  local: 198.19.0.1\\nnetworks:\\n  - name: a\\n    vni: 7\\n    peers: [198.19.0.1]\\n | 6 | networks[0].peers[0] | a peer cannot be the local address
            vxlan without local  | vxlan:\\n  port: 4789\\nnetworks:\\n  - name: a\\n                     | 2 | vxlan.local            | missing
            bad busy-poll        | dataplane:\\n  busy-poll: fast\\nnetworks:\\n  - name: a\\n          | 2 | dataplane.busy-poll    | expected adaptive, 0 (never poll) or a spin time such as 50us or 2ms, got "fast"
            bad persist          | networks:\\n  - name: a\\n    persist: maybe\\n                     | 3 | networks[0].persist    | expected true or false, got "maybe"
            bad metrics listen   | metrics:\\n  listen: localhost\\nnetworks:\\n  - name: a\\n           | 2 | metrics.listen         | expected ADDRESS:PORT such as 127.0.0.1:9477, or off
            cluster, no vxlan    | cluster:\\n  etcd: [http://127.0.0.1:2379]\\n  host: h1\\n          | 2 | cluster                | a cluster needs this host's VTEP: add a vxlan: section
            cluster, no etcd     | vxlan:\\n  local: 198.19.0.1\\ncluster:\\n  host: h1\\n          | 4 | cluster.etcd           | missing: expected etcd's client URLs
            cluster, bad url     | vxlan:\\n  local: 198.19.0.1\\ncluster:\\n  etcd: [127.0.0.1:2379]\\n  host: h1\\n | 4 | cluster.etcd[0] | got "127.0.0.1:2379"
            cluster, bad prefix  | vxlan:\\n  local: 198.19.0.1\\ncluster:\\n  etcd: [http://127.0.0.1:2379]\\n  prefix: vswitch/\\n  host: h1\\n | 5 | cluster.prefix | expected a key prefix such as /vswitch/v1
            cluster, bad host    | vxlan:\\n  local: 198.19.0.1\\ncluster:\\n  etcd: [http://127.0.0.1:2379]\\n  host: Host_1\\n | 5 | cluster.host | expected this host's name in the cluster: 1-63 of [a-z0-9.-], got "Host_1"
            cluster, ttl in ms   | vxlan:\\n  local: 198.19.0.1\\ncluster:\\n  etcd: [http://127.0.0.1:2379]\\n  host: h1\\n  ttl: 1500ms\\n | 6 | cluster.ttl | expected whole seconds from 2s to 1h
            cluster, tls on http | vxlan:\\n  local: 198.19.0.1\\ncluster:\\n  etcd: [http://127.0.0.1:2379]\\n  host: h1\\n  tls: {ca: /etc/hostname}\\n | 4 | cluster.etcd[0] | with tls: the URLs are https://
            cluster, underlay    | vxlan:\\n  local: 198.19.0.1\\ncluster:\\n  etcd: [http://127.0.0.1:2379]\\n  host: h1\\n  underlay: [198.19.0.0]\\n | 6 | cluster.underlay[0] | expected an IPv4 prefix such as 198.19.0.0/16, got "198.19.0.0"
            cluster, user alone  | vxlan:\\n  local: 198.19.0.1\\ncluster:\\n  etcd: [http://127.0.0.1:2379]\\n  host: h1\\n  user: h1\\n | 6 | cluster.user | user and password-file go together
            cluster, peers       | vxlan:\\n  local: 198.19.0.1\\ncluster:\\n  etcd: [http://127.0.0.1:2379]\\n  host: h1\\nnetworks:\\n  - name: a\\n    vni: 7\\n    peers: [198.19.0.2]\\n | 9 | networks[0].peers | in a cluster an overlay network's peers are the hosts with ports in it
            vlan out of range    | networks:\\n  - name: a\\n    vlan: 4095\\n                        | 3 | networks[0].vlan       | expected an integer 1..4094, got 4095
            vlan on an overlay   | vxlan:\\n  local: 198.19.0.1\\nnetworks:\\n  - name: a\\n    vni: 7\\n    vlan: 7\\n | 6 | networks[0].vlan | an overlay network is carried by VXLAN
            storm negative       | networks:\\n  - name: a\\n    storm: {broadcast: -1}\\n          | 3 | networks[0].storm.broadcast | expected an integer 0..100000000, got -1
            port storm unknown   | networks:\\n  - name: a\\n    ports: [{name: a0, storm: {bcast: 5}}]\\n | 3 | networks[0].ports[0].storm.bcast | unknown key; expected one of broadcast, multicast, unknown-unicast
            uplink without offload | networks:\\n  - name: a\\n    offload: false\\n    ports: [{name: eth1, type: uplink}]\\n | 4 | networks[0].ports[0].type | an uplink needs offloads
            port type            | networks:\\n  - name: a\\n    ports: [{name: a0, type: nic}]\\n  | 3 | networks[0].ports[0].type | expected tap or uplink, got "nic"
            port mac-limit zero  | networks:\\n  - name: a\\n    ports: [{name: a0, mac-limit: 0}]\\n | 3 | networks[0].ports[0].mac-limit | expected an integer 1..1048576, got 0
            mirror output        | networks:\\n  - name: a\\n    ports: [a0]\\n    mirror:\\n      - {name: m, output: a9}\\n | 5 | networks[0].mirror[0].output | expected a port of the network to send the copies to, got "a9"
            mirror of output     | networks:\\n  - name: a\\n    ports: [a0, a1]\\n    mirror:\\n      - {name: m, ports: [a1], output: a1}\\n | 5 | networks[0].mirror[0].ports[0] | a mirror's output cannot be mirrored by it
            mac-move-hold        | networks:\\n  - name: a\\n    mac-move-hold: 2h\\n               | 3 | networks[0].mac-move-hold | expected an integer 1..3600, got 7200
            bad local address    | vxlan:\\n  local: 198.19.0.300\\nnetworks:\\n  - name: a\\n           | 2 | vxlan.local            | expected an IPv4 address
            """)
    void refusesBadFilesNamingFileLineKeyAndWhatWasExpected(String what, String text, int line, String key, String expected) {
        ConfigException e = refuse(text.replace("\\n", "\n"));
        assertEquals("bad.yaml", e.file(), what);
        assertEquals(line, e.line(), what + ": " + e.getMessage());
        assertEquals(key, e.key(), what + ": " + e.getMessage());
        assertTrue(e.getMessage().startsWith("bad.yaml:" + line + ": " + key + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), what + ": " + e.getMessage());
    }

    @Test
    void overlayNetworkGetsVniPeersAndTheOverlayMtuByDefault() throws Exception {
        DaemonConfig cfg = ConfigReader.parse("f.yaml", """
                vxlan:
                  local: 198.19.0.1
                  port: 4790
                networks:
                  - name: blue
                    vni: 42
                    peers: [198.19.0.2, 198.19.0.3]
                    ports: [blue0]
                  - name: red
                    ports: [red0]
                """);
        assertEquals(4790, cfg.vxlan().port());
        assertEquals("198.19.0.1", cfg.vxlan().local().getHostAddress());
        NetworkRules.Network blue = cfg.network("blue");
        assertEquals(42, blue.vni());
        assertEquals(1450, blue.settings().mtu());
        assertEquals(List.of("198.19.0.2", "198.19.0.3"), blue.peers().stream().map(a -> a.getHostAddress()).toList());
        assertEquals(1500, cfg.network("red").settings().mtu());
        assertEquals(null, cfg.network("red").vni());
    }

    @Test
    void loopsArePinnedWhenCpusAreNamedOrPinIsSet() throws Exception {
        String nets = "networks:\n  - name: a\n";
        assertTrue(!ConfigReader.parse("f", nets).dataplane().pin(), "the scheduler places them by default");
        assertTrue(ConfigReader.parse("f", "dataplane:\n  cpus: [0]\n  threads: 1\n" + nets).dataplane().pin());
        assertTrue(ConfigReader.parse("f", "dataplane:\n  pin: true\n" + nets).dataplane().pin());
        assertTrue(!ConfigReader.parse("f", "dataplane:\n  pin: false\n" + nets).dataplane().pin());
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigReader.parse("f", "dataplane:\n  pin: false\n  cpus: [0]\n" + nets));
        assertTrue(e.getMessage().contains("dataplane.cpus"), e.getMessage());
    }

    @Test
    void pollingIsAdaptiveByDefaultAndTakesOffOrAFixedSpin() throws Exception {
        String nets = "networks:\n  - name: a\n";
        assertTrue(ConfigReader.parse("f", nets).dataplane().adaptivePoll());
        assertTrue(ConfigReader.parse("f", "dataplane:\n  busy-poll: adaptive\n" + nets).dataplane().adaptivePoll());
        assertTrue(!ConfigReader.parse("f", "dataplane:\n  busy-poll: 0\n" + nets).dataplane().adaptivePoll());
        assertEquals(Duration.ZERO, ConfigReader.parse("f", "dataplane:\n  busy-poll: 0\n" + nets).dataplane().busyPoll());
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigReader.parse("f", "dataplane:\n  busy-poll: sometimes\n" + nets));
        assertTrue(e.getMessage().contains("f:2") && e.getMessage().contains("dataplane.busy-poll"), e.getMessage());
        assertEquals(Duration.ofNanos(50_000), ConfigReader.parse("f", "dataplane:\n  busy-poll: 50us\n" + nets).dataplane().busyPoll());
        assertEquals(Duration.ofMillis(2), ConfigReader.parse("f", "dataplane:\n  busy-poll: 2ms\n" + nets).dataplane().busyPoll());
    }

    @Test
    void ioIsAutoByDefaultAndNamesTheChoices() throws Exception {
        String nets = "networks:\n  - name: a\n";
        assertEquals(io.vswitch.dataplane.Dataplane.Io.AUTO, ConfigReader.parse("f", nets).dataplane().io());
        assertEquals(io.vswitch.dataplane.Dataplane.Io.EPOLL,
                ConfigReader.parse("f", "dataplane:\n  io: epoll\n" + nets).dataplane().io());
        assertEquals(io.vswitch.dataplane.Dataplane.Io.IO_URING,
                ConfigReader.parse("f", "dataplane:\n  io: io_uring\n" + nets).dataplane().io());
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigReader.parse("f", "dataplane:\n  io: aio\n" + nets));
        assertTrue(e.getMessage().contains("f:2") && e.getMessage().contains("dataplane.io")
                && e.getMessage().contains("auto, io_uring or epoll"), e.getMessage());
    }

    @Test
    void metricsDefaultToLoopback9477AndCanBeMovedOrTurnedOff() throws Exception {
        String nets = "networks:\n  - name: a\n    persist: true\n";
        assertEquals("127.0.0.1:9477", ConfigReader.parse("f", nets).metrics().listen().getAddress().getHostAddress()
                + ":" + ConfigReader.parse("f", nets).metrics().listen().getPort());
        assertEquals(9999, ConfigReader.parse("f", "metrics:\n  listen: 127.0.0.2:9999\n" + nets).metrics().listen().getPort());
        assertEquals(null, ConfigReader.parse("f", "metrics:\n  listen: off\n" + nets).metrics().listen());
        assertTrue(ConfigReader.parse("f", nets).network("a").spec().persistent());
    }

    @Test
    void aDaemonWithoutNetworksOfItsOwnIsFineForDockerCniAndTheApi() throws Exception {
        for (String text : List.of("docker: {}\n", "networks: []\n", "dataplane:\n  threads: 1\n")) {
            DaemonConfig c = ConfigReader.parse("vswitch.yaml", text);
            assertTrue(c.networks().isEmpty(), text);
        }
    }

    @Test
    void dnsGoesToTheHostsResolversUnlessToldAndANetworkAnswersNamesWhenAsked() throws Exception {
        assertEquals(null, ConfigReader.parse("vswitch.yaml", "networks: []\n").dns().upstream(), "resolv.conf");
        assertTrue(ConfigReader.parse("vswitch.yaml", "dns: {upstream: []}\n").dns().upstream().isEmpty(), "none: REFUSED");
        DaemonConfig.Dns bounds = ConfigReader.parse("vswitch.yaml", "dns: {pending-per-port: 16, rate-per-port: 0}\n").dns();
        assertEquals(16, bounds.pendingPerPort());
        assertEquals(0, bounds.ratePerPort(), "0: no rate bound");
        assertEquals(null, bounds.upstream(), "the host's resolvers still");
        assertEquals(128, ConfigReader.parse("vswitch.yaml", "networks: []\n").dns().pendingPerPort());
        ConfigException bad = assertThrows(ConfigException.class,
                () -> ConfigReader.parse("vswitch.yaml", "dns:\n  rate-per-port: -1\n"));
        assertTrue(bad.getMessage().contains("vswitch.yaml:2: dns.rate-per-port"), bad.getMessage());
        DaemonConfig c = ConfigReader.parse("vswitch.yaml",
                "dns:\n  upstream: [\"127.0.0.1:5353\", \"[fd00::53]:53\"]\nnetworks:\n  - name: a\n    subnet: 198.18.90.0/24\n    dns: true\n");
        assertEquals(5353, c.dns().upstream().get(0).getPort());
        assertTrue(c.network("a").dns());
        assertTrue(c.network("a").spec().dns());
    }

    @Test
    void aClusterSectionTakesEtcdAndDefaultsItsPrefixAndLease() throws Exception {
        DaemonConfig c = ConfigReader.parse("vswitch.yaml", """
                vxlan:
                  local: 198.19.0.1
                cluster:
                  etcd: [http://198.19.1.100:2379, "https://198.19.1.101:2379"]
                  host: node-1.example
                """);
        assertEquals(List.of(java.net.URI.create("http://198.19.1.100:2379"), java.net.URI.create("https://198.19.1.101:2379")),
                c.cluster().etcd());
        assertEquals("/vswitch/v1", c.cluster().prefix());
        assertEquals("node-1.example", c.cluster().host());
        assertEquals(java.time.Duration.ofSeconds(10), c.cluster().ttl());
        assertEquals(null, ConfigReader.parse("vswitch.yaml", "networks: []\n").cluster(), "no cluster: none");
        DaemonConfig t = ConfigReader.parse("vswitch.yaml", "vxlan: {local: 198.19.0.1}\ncluster: {etcd: [http://127.0.0.1:2379],"
                + " host: h1, prefix: /corp/net, ttl: 30s}\n");
        assertEquals("/corp/net", t.cluster().prefix());
        assertEquals(java.time.Duration.ofSeconds(30), t.cluster().ttl());
    }

    @Test
    void refusesAnEmptyFile() {
        ConfigException e = refuse("");
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
    }

    @Test
    void refusesBrokenYamlWithItsLine() {
        ConfigException e = refuse("networks:\n  - name: a\n    ports: [a0\n");
        assertTrue(e.getMessage().startsWith("bad.yaml:"), e.getMessage());
        assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
    }

    @Test
    void refusesAMissingFile() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigReader.read(java.nio.file.Path.of("/nonexistent/vswitch.yaml")));
        assertEquals("/nonexistent/vswitch.yaml:0: no such file", e.getMessage());
    }
}
