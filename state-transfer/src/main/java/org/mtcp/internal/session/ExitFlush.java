package org.mtcp.internal.session;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;

/**
 * At a normal JVM exit, after the tasks registered with {@link #beforeSessionsEnd} (a server's drain on
 * shutdown), ({@code System.exit}, the end of {@code main}, SIGTERM), ends every session
 * not yet released as the kernel ends a plain socket's connection when its process exits: what was
 * written, then the end of stream. A plain socket's kernel keeps sending after its process is gone;
 * a session's bytes live in this process, so its shutdown hook waits for the peers' acknowledgements,
 * at most {@code mtcp.exitFlushSeconds} (default: {@code mtcp.lingerSeconds}, 30 s) in all. The I/O
 * loops are daemon threads, which keep running while shutdown hooks do.
 */
public final class ExitFlush {
    private static final long EXIT_FLUSH_NANOS = TimeUnit.SECONDS.toNanos(Long.getLong("mtcp.exitFlushSeconds",
            Long.getLong("mtcp.lingerSeconds", 30)));
    /**
     * Sessions not yet released. Weak: a session dropped without being released (a destination's copy
     * that never installed) is not kept alive by it. Guarded by itself.
     */
    private static final Set<SessionCore> UNRELEASED = Collections.newSetFromMap(new WeakHashMap<>());

    static {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(ExitFlush::run, "mtcp-exit-flush"));
        } catch (IllegalStateException | SecurityException e) {
            // the JVM is exiting already, or hooks are not allowed here: nothing to flush into
        }
    }

    /** Run first at exit, in parallel, each bounding itself (a server's drain on shutdown); guarded by itself. */
    private static final Set<Runnable> BEFORE = new java.util.LinkedHashSet<>();

    private ExitFlush() {
    }

    /**
     * Registers a task to run at a normal JVM exit before the sessions are ended: a server's drain on
     * shutdown moves them away first. Tasks run in parallel; each must bound its own wait.
     */
    public static void beforeSessionsEnd(Runnable task) {
        synchronized (BEFORE) {
            BEFORE.add(task);
        }
    }

    /** @param task no longer run at exit */
    public static void removeBeforeSessionsEnd(Runnable task) {
        synchronized (BEFORE) {
            BEFORE.remove(task);
        }
    }

    private static void runBefore() {
        List<Runnable> tasks;
        synchronized (BEFORE) {
            tasks = new ArrayList<>(BEFORE);
        }
        List<Thread> threads = new ArrayList<>();
        for (Runnable t : tasks) {
            Thread th = new Thread(t, "mtcp-exit-drain");
            th.setDaemon(true);
            th.start();
            threads.add(th);
        }
        for (Thread th : threads) {
            try {
                th.join(TimeUnit.MINUTES.toMillis(30)); // each task bounds itself (a drain's deadline): a backstop
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** A new session: flushed at exit unless released before. */
    static void add(SessionCore s) {
        synchronized (UNRELEASED) {
            UNRELEASED.add(s);
        }
    }

    /** A released session: nothing left to flush. */
    static void remove(SessionCore s) {
        synchronized (UNRELEASED) {
            UNRELEASED.remove(s);
        }
    }

    /** The shutdown hook: closes every session, then waits for each to be released, within one deadline. */
    private static void run() {
        runBefore();
        List<SessionCore> all;
        synchronized (UNRELEASED) {
            all = new ArrayList<>(UNRELEASED);
        }
        long deadline = System.nanoTime() + EXIT_FLUSH_NANOS;
        for (SessionCore s : all) {
            s.close();
        }
        for (SessionCore s : all) {
            s.awaitReleased(deadline);
        }
    }
}
