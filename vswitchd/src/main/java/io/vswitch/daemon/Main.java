package io.vswitch.daemon;

import io.vswitch.nativetap.NativeCallException;
import io.vswitch.nativetap.SdNotify;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code vswitchd}: runs the switch in the foreground until SIGTERM or SIGINT. Prints
 * {@code vswitchd ready} on stdout once every configured port is open; logs go to stderr.
 * Exit codes: 0 after a clean stop, 1 when start-up failed, 2 for a bad configuration.
 */
@Command(name = "vswitchd", mixinStandardHelpOptions = true, version = "vswitchd 0.1.0",
        description = "User-space virtual Ethernet switch for container networks.")
public final class Main implements Callable<Integer> {
    static final int EXIT_START_FAILED = 1;
    static final int EXIT_BAD_CONFIG = 2;

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "YAML configuration file.")
    Path config;

    @Option(names = "--check", description = "Validate the configuration and exit; creates nothing.")
    boolean check;

    @Option(names = "--control-socket", paramLabel = "PATH", defaultValue = "/run/vswitch/vswitchd.sock",
            description = "Unix socket of the control API (mode 0600). Default: ${DEFAULT-VALUE}.")
    Path controlSocket;

    @Option(names = "--state-file", paramLabel = "PATH",
            description = "Where runtime changes are kept. Default: NAME.state.json beside the config NAME.yaml.")
    Path stateFile;

    private final PrintStream out;
    private final PrintStream err;

    Main(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        int code = new CommandLine(new Main(System.out, System.err)).execute(args);
        System.exit(code);
    }

    @Override
    public Integer call() throws Exception {
        DaemonConfig cfg;
        try {
            cfg = ConfigReader.read(config);
        } catch (ConfigException e) {
            err.println("vswitchd: bad configuration: " + e.getMessage());
            return EXIT_BAD_CONFIG;
        }
        if (check) {
            out.println("configuration " + config + " is valid: " + cfg.networks().size() + " networks");
            return 0;
        }
        CountDownLatch stop = new CountDownLatch(1);
        installSignalHandlers(stop);
        Startup running;
        try {
            running = Startup.start(cfg, controlSocket, stateFile != null ? stateFile : StateFile.besideConfig(config));
        } catch (Daemon.StartException e) {
            err.println("vswitchd: " + e.getMessage());
            return EXIT_START_FAILED;
        }
        out.println("vswitchd ready");
        out.flush();
        notifySystemd("READY=1\nSTATUS=forwarding: " + running.daemon().networks().size() + " networks\nMAINPID="
                + ProcessHandle.current().pid());
        stop.await();
        notifySystemd("STOPPING=1");
        running.close();
        err.println("vswitchd stopped");
        return 0;
    }

    /** Tells systemd (Type=notify) how we are, when it runs us; a failure to tell is only logged. */
    private void notifySystemd(String state) {
        try {
            SdNotify.notify(state);
        } catch (NativeCallException e) {
            err.println("vswitchd: cannot notify systemd: " + e.getMessage());
        }
    }

    @SuppressWarnings("sunapi")
    private static void installSignalHandlers(CountDownLatch stop) {
        // A JVM stopped by SIGTERM exits 143 even after its shutdown hooks ran; handling the
        // signal ourselves lets a clean stop exit 0, as a service manager expects.
        sun.misc.SignalHandler handler = signal -> stop.countDown();
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
    }
}
