package io.vswitch.daemon;

import io.vswitch.control.Deadline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The daemon's control thread, as Aeron's DriverConductor: one thread owns the registry of
 * networks, ports, peers, static entries, mirrors and endpoints, and every change to it is a
 * command taken from one queue. The control API, the Docker driver, the CNI verbs, the cluster
 * sync and the link watcher all feed that queue; none of them enters a lock of the registry's,
 * and no two changes ever interleave.
 *
 * <p>A caller waits for its command's result with a deadline that started when its call started
 * ({@link Deadline}). A command still queued when the deadline passes is cancelled and never
 * runs, so a caller told "failed" never has the change made behind its back. A command that has
 * started is short (every slow step of a change runs off this thread, see {@link SlowChanges})
 * and its outcome is the caller's, whatever the clock says by then.
 *
 * <p>After each command the conductor runs {@code afterEach} on its thread: the daemon publishes
 * there the read-only view that {@code show}, {@code endpoints} and the metrics read without
 * queueing behind a change.
 *
 * <p>The data-plane loops are not the conductor: it reaches their state only through the data
 * plane's own command paths (ports attached by tasks run on their loop, port sets republished
 * copy-on-write, lock-free MAC tables).
 */
public final class Conductor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Conductor.class);

    /** Work run on the conductor thread; it may refuse with the registry's exceptions. */
    @FunctionalInterface
    public interface Work<T> {
        T run() throws PortFactory.OpenException;
    }

    /** One queued command: it runs only if its caller has not given up on it first. */
    private static final class Command<T> implements Runnable {
        static final int QUEUED = 0;
        static final int RUNNING = 1;
        static final int CANCELLED = 2;

        final Work<T> work;
        final CompletableFuture<T> result = new CompletableFuture<>();
        final AtomicInteger state = new AtomicInteger(QUEUED);

        Command(Work<T> work) {
            this.work = work;
        }

        @Override
        public void run() {
            if (!state.compareAndSet(QUEUED, RUNNING)) {
                return; // its caller was told it failed: it does nothing
            }
            try {
                result.complete(work.run());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }

        /** True when it had not started: it never will. */
        boolean cancel() {
            return state.compareAndSet(QUEUED, CANCELLED);
        }
    }

    private static final Runnable STOP = () -> { };

    private final LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile Runnable afterEach = () -> { };
    private volatile boolean stopping;

    public Conductor() {
        this.thread = Thread.ofPlatform().name("vswitch-conductor").daemon().unstarted(this::loop);
        thread.start();
    }

    /** What to run on the conductor thread after each command (the daemon publishes its view there). */
    void afterEach(Runnable hook) {
        this.afterEach = hook;
    }

    /** Whether the calling thread is the conductor (asserted by the registry's jobs). */
    public boolean inThread() {
        return Thread.currentThread() == thread;
    }

    private void loop() {
        for (;;) {
            Runnable command;
            try {
                command = queue.take();
            } catch (InterruptedException e) {
                continue; // nobody stops the conductor but STOP
            }
            if (command == STOP) {
                return;
            }
            try {
                command.run();
            } catch (RuntimeException | Error e) {
                LOG.error("conductor: a command failed", e);
            }
            Thread.interrupted(); // a command that was interrupted leaves nothing to the next one
            try {
                afterEach.run();
            } catch (RuntimeException e) {
                LOG.error("conductor: publishing the view failed", e);
            }
        }
    }

    /**
     * Runs {@code work} on the conductor and returns its result, or throws what it threw. When
     * {@code deadline} passes before it started it never runs and {@link Deadline.Exceeded} says
     * so; on the conductor thread itself it runs at once.
     */
    public <T> T call(String what, Deadline deadline, Work<T> work) throws PortFactory.OpenException {
        if (inThread()) {
            return work.run();
        }
        if (deadline.passed()) {
            throw new Deadline.Exceeded(what + " came after its deadline (" + deadline.budget() + "); nothing was changed");
        }
        Command<T> command = new Command<>(work);
        enqueue(what, command);
        try {
            return command.result.get(deadline.remainingNs(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            if (command.cancel()) {
                throw new Deadline.Exceeded(what + " did not get its turn within " + deadline.budget() + "; nothing was changed");
            }
            return outcome(command.result);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (command.cancel()) {
                throw new Deadline.Exceeded(what + " was interrupted before its turn; nothing was changed");
            }
            return outcome(command.result);
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        }
    }

    /** Queues {@code work} whose caller does not wait for it (a notification, the undo of abandoned work). */
    public void execute(String what, Runnable work) {
        enqueue(what, () -> {
            try {
                work.run();
            } catch (RuntimeException e) {
                LOG.warn("conductor: {} failed: {}", what, e.toString());
            }
        });
    }

    private void enqueue(String what, Runnable command) {
        if (stopping) {
            throw new RejectedExecutionException(what + ": the daemon is stopping");
        }
        queue.add(command);
    }

    /** The result of a command that has started: it is short, so waiting for it is too. */
    static <T> T outcome(CompletableFuture<T> result) throws PortFactory.OpenException {
        boolean interrupted = false;
        try {
            for (;;) {
                try {
                    return result.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    throw rethrow(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** What a command threw, thrown again as itself. */
    static RuntimeException rethrow(Throwable e) throws PortFactory.OpenException {
        if (e instanceof PortFactory.OpenException open) {
            throw open;
        }
        if (e instanceof RuntimeException r) {
            throw r;
        }
        if (e instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException(e);
    }

    /** Runs what is queued, then stops the thread; later commands are refused. */
    @Override
    public void close() {
        if (inThread()) {
            throw new IllegalStateException("the conductor cannot stop itself");
        }
        stopping = true;
        queue.add(STOP);
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
