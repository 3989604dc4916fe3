package io.vswitch.ctl;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code help [COMMAND...]}: the usage of any command at any depth ({@code vswitchctl help network
 * add}), from wherever it is given ({@code vswitchctl network help add}). picocli's own help
 * command takes a single name, so {@code help network add} showed only {@code network}.
 */
@Command(name = "help", helpCommand = true, description = "Show the usage of COMMAND (e.g. help network add).")
final class HelpCmd implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "The command, with its subcommands.")
    List<String> path = new ArrayList<>();

    @Override
    public void run() {
        CommandLine at = spec.parent().commandLine();
        for (String name : path) {
            CommandLine next = at.getSubcommands().get(name);
            if (next == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "no command \"" + name + "\" in "
                        + at.getCommandSpec().qualifiedName() + "; its commands: "
                        + String.join(", ", at.getSubcommands().keySet()));
            }
            at = next;
        }
        at.usage(spec.commandLine().getOut());
    }
}
