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
import java.util.concurrent.atomic.LongAdder;

/**
 * Where every migration outcome of a socket goes: its listeners, its counters, a JDK Flight Recorder
 * event ({@code org.mtcp.Migration}, visible in {@code jfr print} and Mission Control) and the log.
 */
public final class MigrationRecorder {
    private static final Logger log = LoggerFactory.getLogger(MigrationRecorder.class);

    private final List<MigrationListener> listeners;
    private final LongAdder started = new LongAdder();
    private final LongAdder committed = new LongAdder();
    private final Map<MigrationException.Reason, LongAdder> failed = new EnumMap<>(MigrationException.Reason.class);
    private final LongAdder replayed = new LongAdder();
    private final LongAdder resent = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    /** Link resumes (initiation RESUME), which are not counted as migrations. */
    private final LongAdder resumed = new LongAdder();
    private final LongAdder resumesFailed = new LongAdder();

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
        for (MigrationException.Reason r : MigrationException.Reason.values()) {
            failed.put(r, new LongAdder());
        }
    }

    /** @return the listeners */
    public List<MigrationListener> listeners() {
        return listeners;
    }

    /** Counts bytes dropped as duplicates. */
    public void duplicatesDropped(long n) {
        if (n > 0) {
            duplicates.add(n);
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

    /** Reports an outcome to everyone who listens. */
    public void record(MigrationEvent e) {
        count(e);
        MigrationJfrEvent.emit(e);
        if (log.isDebugEnabled()) {
            log.debug("{}", e);
        }
        for (MigrationListener l : listeners) {
            try {
                l.onMigration(e);
            } catch (RuntimeException ex) {
                log.warn("migration listener {} failed on {}", l, e, ex);
            }
        }
    }

    private void count(MigrationEvent e) {
        if (e.initiation() == MigrationEvent.Initiation.RESUME) {
            (e.committed() ? resumed : resumesFailed).increment();
            if (parent != null) {
                parent.count(e);
            }
            return;
        }
        started.increment();
        if (e.committed()) {
            committed.increment();
            replayed.add(e.replayedBytes());
            resent.add(e.resentBytes());
        } else {
            failed.get(e.failure().reason()).increment();
        }
        if (parent != null) {
            parent.count(e);
        }
    }

    /**
     * @param liveDuplicates duplicates dropped by sessions still alive (not yet counted)
     * @return the counters now
     */
    public MigrationStatistics snapshot(long liveDuplicates) {
        Map<MigrationException.Reason, Long> f = new EnumMap<>(MigrationException.Reason.class);
        failed.forEach((r, n) -> {
            if (n.sum() > 0) {
                f.put(r, n.sum());
            }
        });
        return new MigrationStatistics(started.sum(), committed.sum(), f, replayed.sum(), resent.sum(),
                duplicates.sum() + liveDuplicates, resumed.sum(), resumesFailed.sum());
    }
}
