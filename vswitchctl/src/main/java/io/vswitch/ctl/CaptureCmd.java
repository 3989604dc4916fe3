package io.vswitch.ctl;

import io.vswitch.control.Requests;
import io.vswitch.control.Views;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code vswitchctl capture NET [--port P] [--count N] [--filter EXPR] -w FILE|-}: pcap of a
 * network's frames (one port's, both ways) as the switch sees them, to a file or to standard
 * output for {@code | tcpdump -r -}. The daemon writes into a FIFO this command makes and reads;
 * Ctrl-C (or the reader going away) stops the capture.
 */
@Command(name = "capture", description = "Capture a network's frames (one port's, both ways) as pcap: -w FILE, or -w -"
        + " for standard output (| tcpdump -r -). Tunnel and uplink ports show the network's frames.")
final class CaptureCmd extends Vswitchctl.Base {
    @Parameters(index = "0", paramLabel = "NET")
    String network;
    @Option(names = "--port", paramLabel = "PORT", description = "Only this port: what it receives and what is sent to it.")
    String port;
    @Option(names = "--count", paramLabel = "N", description = "Stop after N frames.")
    Long count;
    @Option(names = "--filter", paramLabel = "EXPR", description = "A tcpdump filter expression, such as 'icmp or arp'.")
    String filter;
    @Option(names = "-w", paramLabel = "FILE", required = true, description = "Where the pcap goes; - for standard output.")
    String output;

    @Override
    public Integer call() throws Exception {
        Path dir = Files.createTempDirectory("vswitchctl-capture-");
        Path fifo = dir.resolve("pcap");
        try {
            Process mk = new ProcessBuilder("mkfifo", "-m", "600", fifo.toString()).inheritIO().start();
            if (mk.waitFor() != 0) {
                throw new Vswitchctl.Failure("cannot make a FIFO in " + dir);
            }
            Views.Capture c = root().call(cl -> cl.capture(network, new Requests.Capture(port, filter, count,
                    fifo.toString())));
            AtomicBoolean done = new AtomicBoolean();
            Thread stopper = new Thread(() -> {
                if (!done.get()) {
                    try {
                        root().call(cl -> {
                            cl.stopCapture(c.id());
                            return null;
                        });
                    } catch (Vswitchctl.Failure ignored) {
                        // it ended by itself
                    }
                }
            });
            Runtime.getRuntime().addShutdownHook(stopper);
            long bytes = 0;
            try (InputStream in = Files.newInputStream(fifo);
                 OutputStream out = output.equals("-") ? System.out
                         : Files.newOutputStream(Path.of(output), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    out.write(buf, 0, n);
                    out.flush();
                    bytes += n;
                }
            }
            done.set(true);
            if (!output.equals("-")) {
                spec.commandLine().getErr().printf("capture %d of network %s%s: %d bytes written to %s%n", c.id(), network,
                        port == null ? "" : " port " + port, bytes, output);
            }
            return 0;
        } finally {
            Files.deleteIfExists(fifo);
            Files.deleteIfExists(dir);
        }
    }
}

/** {@code vswitchctl captures}: the captures running now; {@code --stop ID} ends one. */
@Command(name = "captures", description = "The captures running now (--stop ID ends one).")
final class CapturesCmd extends Vswitchctl.Base {
    @Option(names = "--stop", paramLabel = "ID", description = "Stop capture ID.")
    Long stop;

    @Override
    public Integer call() throws Exception {
        if (stop != null) {
            root().call(c -> {
                c.stopCapture(stop);
                return null;
            });
            out().println("capture " + stop + " stopped");
            return 0;
        }
        java.util.List<Views.Capture> list = root().call(io.vswitch.control.ControlClient::captures);
        if (json()) {
            Vswitchctl.printJson(out(), list);
            return 0;
        }
        out().printf("%4s %-12s %-14s %10s %10s %8s  %s%n", "id", "network", "port", "captured", "written", "lost", "filter");
        for (Views.Capture c : list) {
            out().printf("%4d %-12s %-14s %10d %10d %8d  %s%n", c.id(), c.network(), c.port() == null ? "(all)" : c.port(),
                    c.captured(), c.written(), c.lost(), c.filter() == null ? "" : c.filter());
        }
        return 0;
    }
}
