package io.vswitch.daemon;

import io.vswitch.control.Deadline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Changes with a slow step in the middle (a container's TAP made in its namespace, a device
 * readied for Docker), run so that the slow step blocks neither the conductor nor anyone else:
 *
 * <ol>
 *   <li>prepare, on the conductor: every check, and a reservation of what the change will take
 *       (an id, addresses, a port name), so that no other change can take it meanwhile;
 *   <li>the slow step, on a thread of its own (a virtual thread per change);
 *   <li>commit, on the conductor: the change made visible (attached, published, saved), or, if
 *       the caller has given up meanwhile, undone: the device let go, the reservation released.
 * </ol>
 *
 * Whether a change commits or is undone is decided once, by whichever comes first: the commit
 * step claiming it, or the caller's deadline cancelling it. A caller told "failed" never has the
 * change made behind its back, and a caller told "done" has it.
 */
final class SlowChanges implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SlowChanges.class);

    @FunctionalInterface
    interface Slow<P, S> {
        S run(P prepared) throws PortFactory.OpenException;
    }

    @FunctionalInterface
    interface Commit<P, S, R> {
        R run(P prepared, S made) throws PortFactory.OpenException;
    }

    /** Undoes what prepare reserved and the slow step made ({@code made} null when it made nothing). */
    @FunctionalInterface
    interface Undo<P, S> {
        void run(P prepared, S made);
    }

    /** Decided once: committed by the conductor or cancelled by the caller. */
    private static final class Ticket {
        static final int OPEN = 0;
        static final int COMMITTED = 1;
        static final int CANCELLED = 2;
        final AtomicInteger state = new AtomicInteger(OPEN);

        boolean commit() {
            return state.compareAndSet(OPEN, COMMITTED);
        }

        boolean cancel() {
            return state.compareAndSet(OPEN, CANCELLED);
        }
    }

    private final Conductor conductor;
    private final ExecutorService slow = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("vswitch-slow-", 0).factory());

    SlowChanges(Conductor conductor) {
        this.conductor = conductor;
    }

    /** Runs the three steps of one change within {@code deadline}; see the class comment. */
    <P, S, R> R run(String what, Deadline deadline, Conductor.Work<P> prepare, Slow<P, S> step, Commit<P, S, R> commit,
            Undo<P, S> undo) throws PortFactory.OpenException {
        P prepared = conductor.call(what, deadline, prepare);
        Ticket ticket = new Ticket();
        CompletableFuture<R> result = new CompletableFuture<>();
        try {
            slow.execute(() -> {
                S made = null;
                Throwable failed = null;
                try {
                    made = step.run(prepared);
                } catch (Throwable e) {
                    failed = e;
                }
                finish(what, prepared, made, failed, ticket, commit, undo, result);
            });
        } catch (RejectedExecutionException e) {
            conductor.call(what, Deadline.in(java.time.Duration.ofSeconds(10)), () -> {
                undo.run(prepared, null);
                return null;
            });
            throw new Deadline.Exceeded(what + ": the daemon is stopping; nothing was changed");
        }
        try {
            return result.get(deadline.remainingNs(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            if (ticket.cancel()) {
                throw new Deadline.Exceeded(what + " did not finish within " + deadline.budget()
                        + "; it was cancelled and what it had done is undone");
            }
            return Conductor.outcome(result);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (ticket.cancel()) {
                throw new Deadline.Exceeded(what + " was interrupted; it was cancelled and what it had done is undone");
            }
            return Conductor.outcome(result);
        } catch (ExecutionException e) {
            throw Conductor.rethrow(e.getCause());
        }
    }

    /** After the slow step: commit on the conductor, or undo there when the step failed or the caller gave up. */
    private <P, S, R> void finish(String what, P prepared, S made, Throwable failed, Ticket ticket, Commit<P, S, R> commit,
            Undo<P, S> undo, CompletableFuture<R> result) {
        Runnable last = () -> {
            if (failed != null) {
                undo.run(prepared, null);
                result.completeExceptionally(failed);
            } else if (!ticket.commit()) {
                LOG.info("{}: its caller gave up (deadline); undone", what);
                undo.run(prepared, made);
            } else {
                try {
                    result.complete(commit.run(prepared, made)); // all or nothing: a failed commit undid itself
                } catch (Throwable e) {
                    result.completeExceptionally(e);
                }
            }
        };
        try {
            conductor.execute(what + " (commit)", last);
        } catch (RejectedExecutionException stopping) {
            ticket.cancel();
            undo.run(prepared, made); // the conductor has stopped: nothing else touches the registry now
            result.completeExceptionally(new Deadline.Exceeded(what + ": the daemon is stopping; nothing was changed"));
        }
    }

    @Override
    public void close() {
        slow.shutdown();
        try {
            slow.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
