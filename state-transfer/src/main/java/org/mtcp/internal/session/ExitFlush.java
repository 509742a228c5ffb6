package org.mtcp.internal.session;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;

/**
 * At a normal JVM exit ({@code System.exit}, the end of {@code main}, SIGTERM), ends every session
 * not yet released as the kernel ends a plain socket's connection when its process exits: what was
 * written, then the end of stream. A plain socket's kernel keeps sending after its process is gone;
 * a session's bytes live in this process, so its shutdown hook waits for the peers' acknowledgements,
 * at most {@code mtcp.exitFlushSeconds} (default: {@code mtcp.lingerSeconds}, 30 s) in all. The I/O
 * loops are daemon threads, which keep running while shutdown hooks do.
 */
final class ExitFlush {
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

    private ExitFlush() {
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
