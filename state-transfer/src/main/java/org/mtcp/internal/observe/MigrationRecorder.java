package org.mtcp.internal.observe;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MigrationListener;
import org.mtcp.api.MigrationStatistics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * Where every migration outcome of a socket goes: its listeners, its counters, a JDK Flight Recorder
 * event ({@code org.mtcp.Migration}, visible in {@code jfr print} and Mission Control) and the log.
 */
public final class MigrationRecorder {
    private static final Logger log = LoggerFactory.getLogger(MigrationRecorder.class);

    /** The listeners, a live thread-safe list; for a socket's recorder made at the first {@link #listeners()} call. */
    private volatile List<MigrationListener> listeners;
    /**
     * The counters, made at the first outcome or duplicate: most sockets never migrate, and an idle session's
     * memory is the Performance issue's figure (twenty-odd {@code LongAdder}s are ~0.8 KiB per socket).
     */
    private volatile Counters counters;

    /** Also counts every outcome and duplicate of this one (a factory's sockets together), or {@code null}. */
    private final MigrationRecorder parent;

    /** @param listeners the socket's listeners (a live, thread-safe list) */
    public MigrationRecorder(List<MigrationListener> listeners) {
        this(listeners, null);
    }

    /**
     * @param listeners the socket's listeners (a live, thread-safe list)
     * @param parent    a recorder that counts this one's outcomes too (its listeners are not told), or {@code null}
     */
    public MigrationRecorder(List<MigrationListener> listeners, MigrationRecorder parent) {
        this.listeners = listeners;
        this.parent = parent;
    }

    /** The counters of one recorder. */
    private static final class Counters {
        final LongAdder started = new LongAdder();
        final LongAdder committed = new LongAdder();
        final Map<MigrationException.Reason, LongAdder> failed = new EnumMap<>(MigrationException.Reason.class);
        final LongAdder replayed = new LongAdder();
        final LongAdder resent = new LongAdder();
        final LongAdder duplicates = new LongAdder();
        /** Link resumes (initiation RESUME), which are not counted as migrations. */
        final LongAdder resumed = new LongAdder();
        final LongAdder resumesFailed = new LongAdder();

        Counters() {
            for (MigrationException.Reason r : MigrationException.Reason.values()) {
                failed.put(r, new LongAdder());
            }
        }
    }

    private Counters counters() {
        Counters c = counters;
        if (c == null) {
            synchronized (this) {
                c = counters;
                if (c == null) {
                    c = new Counters();
                    counters = c;
                }
            }
        }
        return c;
    }

    /** @return the listeners, a live thread-safe list (made now if this recorder has none yet) */
    public List<MigrationListener> listeners() {
        List<MigrationListener> l = listeners;
        if (l == null) {
            synchronized (this) {
                l = listeners;
                if (l == null) {
                    l = new CopyOnWriteArrayList<>();
                    listeners = l;
                }
            }
        }
        return l;
    }

    /** @return a recorder for one socket: no listener list until one is added (most sockets have none) */
    public static MigrationRecorder forSocket(MigrationRecorder parent) {
        return new MigrationRecorder(null, parent);
    }

    /** Counts bytes dropped as duplicates. */
    public void duplicatesDropped(long n) {
        if (n > 0) {
            counters().duplicates.add(n);
            if (parent != null) {
                parent.duplicatesDropped(n);
            }
        }
    }

    /**
     * Registers the migration event with JDK Flight Recorder ahead of the first migration: the first instance of a
     * JFR event class registers it, which took about 190 ms of the first migration in a fresh JVM here.
     */
    public static void registerJfrEvent() {
        MigrationJfrEvent.register();
    }

    /** Reports an outcome to everyone who listens: counts it, then tells JFR, the log and the listeners. */
    public void record(MigrationEvent e) {
        count(e);
        announce(e);
    }

    /**
     * Tells JFR, the log and the listeners of an outcome already counted ({@link #count}): for a caller that counts
     * on its own thread, so that the counters never lag what it does next, and tells the others later.
     */
    public void announce(MigrationEvent e) {
        MigrationJfrEvent.emit(e);
        if (log.isDebugEnabled()) {
            log.debug("{}", e);
        }
        List<MigrationListener> all = listeners;
        for (MigrationListener l : all == null ? List.<MigrationListener>of() : all) {
            try {
                l.onMigration(e);
            } catch (RuntimeException ex) {
                log.warn("migration listener {} failed on {}", l, e, ex);
            }
        }
    }

    /** Counts an outcome in the statistics (and its parent's), without telling anyone; see {@link #announce}. */
    public void count(MigrationEvent e) {
        if (e.committed()) {
            countCommitted(e.initiation(), e.replayedBytes(), e.resentBytes());
            return;
        }
        Counters c = counters();
        if (e.initiation() == MigrationEvent.Initiation.RESUME) {
            c.resumesFailed.increment();
        } else {
            c.started.increment();
            c.failed.get(e.failure().reason()).increment();
        }
        if (parent != null) {
            parent.count(e);
        }
    }

    /**
     * Counts a committed migration (a resume counts as one) before its event is complete, as {@link #count} would
     * count that event; {@link #announce} tells the others later.
     */
    public void countCommitted(MigrationEvent.Initiation initiation, long replayedBytes, long resentBytes) {
        Counters c = counters();
        if (initiation == MigrationEvent.Initiation.RESUME) {
            c.resumed.increment();
        } else {
            c.started.increment();
            c.committed.increment();
            c.replayed.add(replayedBytes);
            c.resent.add(resentBytes);
        }
        if (parent != null) {
            parent.countCommitted(initiation, replayedBytes, resentBytes);
        }
    }

    /**
     * @param liveDuplicates duplicates dropped by sessions still alive (not yet counted)
     * @return the counters now
     */
    public MigrationStatistics snapshot(long liveDuplicates) {
        Map<MigrationException.Reason, Long> f = new EnumMap<>(MigrationException.Reason.class);
        Counters c = counters;
        if (c == null) {
            return new MigrationStatistics(0, 0, f, 0, 0, liveDuplicates, 0, 0);
        }
        c.failed.forEach((r, n) -> {
            if (n.sum() > 0) {
                f.put(r, n.sum());
            }
        });
        return new MigrationStatistics(c.started.sum(), c.committed.sum(), f, c.replayed.sum(), c.resent.sum(),
                c.duplicates.sum() + liveDuplicates, c.resumed.sum(), c.resumesFailed.sum());
    }
}
