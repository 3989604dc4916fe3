package io.vswitch.daemon;

import io.vswitch.control.NetworkSpec;

import java.io.IOException;
import java.util.List;
import java.util.function.Supplier;

/**
 * Persistence and undo: every change is written to the state file before it is confirmed. An
 * addition is made, then saved, and undone when the file cannot be written; a removal is saved
 * first (the state it will leave) and not made when that fails. So what a caller was told is
 * what a restart restores. Without a state file (tests) nothing is written. Conductor thread only.
 */
final class Persistence {
    private final StateFile state;
    private final Supplier<List<NetworkSpec>> specs;

    /** {@code specs}: every network as a restart must rebuild it, as the registry has it now. */
    Persistence(StateFile state, Supplier<List<NetworkSpec>> specs) {
        this.state = state;
        this.specs = specs;
    }

    /** Writes the state as it is now; when that fails, runs {@code undo} and refuses the change. */
    void save(Runnable undo) {
        if (state == null) {
            return;
        }
        try {
            state.write(specs.get());
        } catch (IOException e) {
            undo.run();
            throw new Daemon.PersistException("cannot write state file " + state.path() + ": " + e.getMessage()
                    + "; the change was undone", e);
        }
    }

    /** Writes the state a removal will leave, before it is made; refuses the removal when that fails. */
    void saveAhead(List<NetworkSpec> next) {
        if (state == null) {
            return;
        }
        try {
            state.write(next);
        } catch (IOException e) {
            throw new Daemon.PersistException("cannot write state file " + state.path() + ": " + e.getMessage()
                    + "; nothing was changed", e);
        }
    }

    /** Every network as it is now, for a removal to filter. */
    List<NetworkSpec> current() {
        return specs.get();
    }
}
