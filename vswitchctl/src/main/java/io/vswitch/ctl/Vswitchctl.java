package io.vswitch.ctl;

import com.fasterxml.jackson.databind.ObjectWriter;
import io.vswitch.control.ControlClient;
import io.vswitch.control.ControlException;
import io.vswitch.control.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code vswitchctl}: the operator's view of a running vswitchd, over the control socket with
 * the typed client of the control contract. Every read command takes {@code --json}; every
 * failure exits non-zero with a one-line reason.
 */
@Command(name = "vswitchctl", mixinStandardHelpOptions = true, version = "vswitchctl 0.1.0",
        description = "Inspect and change a running vswitchd.",
        subcommands = {ShowCmd.class, StatsCmd.class, NetworkCmd.class, PortCmd.class, FdbCmd.class, TraceCmd.class,
                AttachCmd.class, DetachCmd.class, EndpointsCmd.class, ClusterCmd.class, CaptureCmd.class, CapturesCmd.class,
                MirrorCmd.class, CommandLine.HelpCommand.class})
public final class Vswitchctl {
    static final ObjectWriter JSON = Json.LENIENT.writerWithDefaultPrettyPrinter();

    @Option(names = {"-s", "--socket"}, paramLabel = "PATH", defaultValue = "${env:VSWITCH_SOCKET:-/run/vswitch/vswitchd.sock}",
            description = "Control socket of the daemon. Default: $VSWITCH_SOCKET or /run/vswitch/vswitchd.sock.",
            scope = CommandLine.ScopeType.INHERIT)
    Path socket;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command line; returns the exit code (0, 1 for a failure with its one line on {@code err}, 2 for usage). */
    static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Vswitchctl());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("vswitchctl: " + (e instanceof Failure ? e.getMessage() : e.toString()));
            return 1;
        });
        return cli.execute(args);
    }

    /** A failure whose message is the one line to print. */
    static final class Failure extends Exception {
        Failure(String message) {
            super(message);
        }
    }

    /** One call of the client; its failures as the one line to print. */
    @FunctionalInterface
    interface Call<T> {
        T run(ControlClient client) throws IOException, ControlException;
    }

    <T> T call(Call<T> call) throws Failure {
        try {
            return call.run(new ControlClient(socket));
        } catch (ControlException e) {
            throw new Failure(e.getMessage());
        } catch (IOException e) {
            throw new Failure("cannot reach vswitchd at " + socket + ": " + e.getMessage());
        }
    }

    static void printJson(PrintWriter out, Object value) throws IOException {
        out.println(JSON.writeValueAsString(value));
    }

    /** Common shape of the commands: the root's socket, the output. */
    abstract static class Base implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        Vswitchctl root() {
            CommandLine.Model.CommandSpec s = spec;
            while (!(s.userObject() instanceof Vswitchctl)) {
                s = s.parent();
            }
            return (Vswitchctl) s.userObject();
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }
    }
}

