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
 * the typed client of the control contract. Every command takes {@code --json} and
 * {@code --socket} anywhere on its line, and {@code --help} (or {@code vswitchctl help PATH...});
 * every failure exits non-zero with a one-line reason.
 */
@Command(name = "vswitchctl", version = "vswitchctl 0.1.0",
        description = "Inspect and change a running vswitchd.",
        subcommands = {ShowCmd.class, StatsCmd.class, NetworkCmd.class, PortCmd.class, FdbCmd.class, TraceCmd.class,
                AttachCmd.class, DetachCmd.class, EndpointsCmd.class, ClusterCmd.class, CaptureCmd.class, CapturesCmd.class,
                MirrorCmd.class, HelpCmd.class})
public final class Vswitchctl {
    static final ObjectWriter JSON = Json.LENIENT.writerWithDefaultPrettyPrinter();
    static final String DEFAULT_SOCKET = "/run/vswitch/vswitchd.sock";

    @Option(names = {"-s", "--socket"}, paramLabel = "PATH", defaultValue = "${env:VSWITCH_SOCKET:-" + DEFAULT_SOCKET + "}",
            description = "Control socket of the daemon. Default: $VSWITCH_SOCKET or " + DEFAULT_SOCKET + ".",
            scope = CommandLine.ScopeType.INHERIT)
    Path socket;

    @Option(names = "--json", description = "Print the daemon's answer as JSON.", scope = CommandLine.ScopeType.INHERIT)
    boolean json;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command line; returns the exit code (0, 1 for a failure with its one line on {@code err}, 2 for usage). */
    static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = commandLine();
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("vswitchctl: " + (e instanceof Failure ? e.getMessage() : e.toString()));
            return 1;
        });
        return cli.execute(args);
    }

    /** The whole command tree, with help at every level. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Vswitchctl());
        withHelp(cli);
        return cli;
    }

    /**
     * Every command, at every level, answers {@code --help} (before any check of its arguments)
     * and {@code -V}; every command with subcommands has {@code help [COMMAND...]}.
     */
    private static void withHelp(CommandLine cli) {
        cli.getCommandSpec().mixinStandardHelpOptions(true);
        if (!cli.getSubcommands().isEmpty() && !cli.getSubcommands().containsKey("help")) {
            cli.addSubcommand("help", new HelpCmd());
        }
        for (CommandLine sub : cli.getSubcommands().values()) {
            if (sub.getCommandSpec().userObject() instanceof HelpCmd) {
                continue;
            }
            withHelp(sub);
        }
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
            throw new Failure("cannot reach vswitchd at " + socket + ": " + e.getMessage()
                    + " (is it running? a daemon on another socket: --socket PATH or VSWITCH_SOCKET=PATH)");
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

        /** Whether --json was given, wherever on the line. */
        boolean json() {
            return root().json;
        }

        /** Prints {@code value} as JSON when --json was given; returns whether it did. */
        boolean printedJson(Object value) throws IOException {
            if (json()) {
                printJson(out(), value);
            }
            return json();
        }

        /** A note for the operator on standard error (standard output stays the answer). */
        void note(String text) {
            spec.commandLine().getErr().println("vswitchctl: " + text);
        }
    }
}

