package org.mtcp.server.testkit;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Work a test runs on a thread of its own (a client blocked in read, a writer held back by credit)
 * and then awaits with a deadline: the test fails when the work did not finish in time (with the
 * thread's stack in the message) or ended by throwing (with that throwable as the cause). Nothing
 * the work throws is lost.
 *
 * @param <T> what the work returns
 */
public final class Background<T> {
    /** Work that returns nothing and may throw anything. */
    public interface Action {
        /** Does the work. */
        void run() throws Exception;
    }

    private final String name;
    private final FutureTask<T> task;
    private final Thread thread;

    private Background(String name, Callable<T> work) {
        this.name = name;
        this.task = new FutureTask<>(work);
        this.thread = new Thread(task, name);
        thread.setDaemon(true);
    }

    /** Starts {@code work} on a new daemon thread called {@code name}. */
    public static <T> Background<T> start(String name, Callable<T> work) {
        Background<T> b = new Background<>(name, work);
        b.thread.start();
        return b;
    }

    /** Starts {@code work} on a new daemon thread called {@code name}. */
    public static Background<Void> run(String name, Action work) {
        return start(name, () -> {
            work.run();
            return null;
        });
    }

    /** @return the thread doing the work */
    public Thread thread() {
        return thread;
    }

    /** @return what the work threw, or {@code null} while it runs or when it returned */
    public Throwable failure() {
        if (!task.isDone()) {
            return null;
        }
        try {
            task.get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e;
        }
    }

    /**
     * Waits for the work to finish.
     *
     * @return what it returned
     * @throws AssertionError when it did not finish within {@code atMost}, or threw
     */
    public T await(Duration atMost) throws InterruptedException {
        try {
            return task.get(atMost.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError(name + " failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError(name + " did not finish within " + atMost + "; it is " + thread.getState() + " at\n"
                    + Waits.stack(thread));
        }
    }
}
