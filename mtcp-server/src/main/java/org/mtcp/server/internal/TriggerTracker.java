package org.mtcp.server.internal;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.internal.session.Settings;
import org.mtcp.internal.wire.Message;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

/**
 * The TRIGGERs a session's server sent whose outcome is not known yet, one per target, in the order sent.
 * Each ends in exactly one outcome:
 * <ul>
 *   <li>the session moved there (the origin's committed event completes it);</li>
 *   <li>the session moved elsewhere (SUPERSEDED);</li>
 *   <li>the migration it started did not commit (the origin's aborted event, or the client's
 *       TRIGGER_RESULT FAILED);</li>
 *   <li>the client refused it, or had a migration under way already (TRIGGER_RESULT, which names the
 *       TRIGGER's target);</li>
 *   <li>the session ended;</li>
 *   <li>nothing was heard within {@link #DEADLINE_MILLIS}.</li>
 * </ul>
 * Every outcome reaches the server's listeners and statistics as one migration event, unless a
 * transfer's own event already told them, and completes the TRIGGER's future. Guarded by the session
 * lock.
 */
final class TriggerTracker {
    /**
     * How long a client is given to act on a TRIGGER: its background migration's own deadline (twice
     * {@code mtcp.migrateTimeoutMillis}) and a margin for its answer.
     */
    static final long DEADLINE_MILLIS = 2 * Settings.MIGRATE_TIMEOUT_MILLIS + 5_000;
    /** Most TRIGGERs waiting for their outcome; a new one beyond this ends the oldest as SUPERSEDED. */
    static final int MAX_PENDING = 8;

    /** One TRIGGER sent. */
    private static final class Pending {
        /** Where it sent the session ({@code null}: the client's choice). */
        final InetSocketAddress target;
        final CompletableFuture<MigrationEvent> outcome = new CompletableFuture<>();
        /** Tells its deadline from another's. */
        final long serial;

        Pending(InetSocketAddress target, long serial) {
            this.target = target;
            this.serial = serial;
        }

        String destination() {
            return target == null ? "any alternate" : target.toString();
        }
    }

    private final ServerSession session;
    private final Server server;
    /** The session lock, for the deadlines' checks. */
    private final Lock lock;
    /** The TRIGGERs waiting for their outcome, oldest first (room for one at first: most sessions never have one). */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>(1);
    private long serials;

    TriggerTracker(ServerSession session, Server server, Lock sessionLock) {
        this.session = session;
        this.server = server;
        this.lock = sessionLock;
    }

    /** @return whether a TRIGGER's outcome is still unknown */
    boolean pending() {
        return !pending.isEmpty();
    }

    /**
     * @return the outcome of the pending TRIGGER to {@code to}, if there is one (a second move there shares it
     *         and sends nothing: the client would only answer that a migration is under way), else {@code null}
     */
    CompletableFuture<MigrationEvent> pendingTo(InetSocketAddress to) {
        Pending p = find(to);
        return p == null ? null : p.outcome;
    }

    /**
     * A TRIGGER to {@code to} was sent.
     *
     * @return completes with the origin's committed event, or exceptionally with a {@link MigrationException}
     */
    CompletableFuture<MigrationEvent> sent(InetSocketAddress to) {
        if (pending.size() >= MAX_PENDING) {
            Pending oldest = pending.pollFirst();
            fail(oldest, Reason.SUPERSEDED, "the TRIGGER of " + session.describe() + " to " + oldest.destination()
                    + " gave way to newer ones (at most " + MAX_PENDING + " wait for their outcome)", true);
        }
        Pending p = new Pending(to, ++serials);
        pending.addLast(p);
        server.loop().schedule(TimeUnit.MILLISECONDS.toNanos(DEADLINE_MILLIS), () -> expire(p));
        return p.outcome;
    }

    /** @return an outcome for a move that could not be asked for because a migration is under way: recorded, failed */
    CompletableFuture<MigrationEvent> alreadyMigrating(InetSocketAddress to, InetSocketAddress under) {
        CompletableFuture<MigrationEvent> f = new CompletableFuture<>();
        MigrationException e = new MigrationException("cannot move " + session.describe() + " to " + to + ": a migration to "
                + under + " is already under way", Reason.SUPERSEDED, true, null);
        record(to, e);
        f.completeExceptionally(e);
        return f;
    }

    /** The client says what became of the TRIGGER to {@code m.destination()}. */
    void result(Message.TriggerResult m) {
        Pending p = find(m.destination());
        if (p == null) {
            return; // settled already (the transfer's abort told), or not this server's trigger
        }
        pending.remove(p);
        String prefix = m.outcome() == Message.TriggerResult.Outcome.FAILED ? "the migration that a TRIGGER started failed: "
                : m.outcome() == Message.TriggerResult.Outcome.SUPERSEDED ? "the client had a migration under way: "
                : "the client refused the TRIGGER: ";
        fail(p, m.reason(), prefix + m.message(), true);
    }

    /** A transfer of the session ended, committed or not; its event is recorded already. */
    void settled(MigrationEvent e) {
        if (!e.committed()) {
            Pending p = find(e.to()); // the migration that TRIGGER started did not commit
            if (p != null) {
                pending.remove(p);
                p.outcome.completeExceptionally(e.failure());
            }
            return;
        }
        Pending there = find(e.to());
        if (there == null) {
            there = find(null); // a TRIGGER that left the choice to the client
        }
        List<Pending> others = new ArrayList<>(pending);
        pending.clear();
        for (Pending p : others) {
            if (p == there) {
                p.outcome.complete(e);
            } else {
                fail(p, Reason.SUPERSEDED, "the session moved to " + e.to() + " instead of " + p.destination(), false);
            }
        }
    }

    /** The session ended before it moved. */
    void ended(String why) {
        List<Pending> all = new ArrayList<>(pending);
        pending.clear();
        for (Pending p : all) {
            fail(p, Reason.SESSION_ENDED, session.describe() + " ended before it moved: " + why, false);
        }
    }

    private void expire(Pending p) {
        lock.lock();
        try {
            if (pending.remove(p)) {
                fail(p, Reason.TIMEOUT, "the client of " + session.describe() + " did not act on the TRIGGER to "
                        + p.destination() + " within " + DEADLINE_MILLIS + " ms", true);
            }
        } finally {
            lock.unlock();
        }
    }

    private Pending find(InetSocketAddress target) {
        for (Pending p : pending) {
            if (Objects.equals(p.target, target)) {
                return p;
            }
        }
        return null;
    }

    /** @param staysHere whether the session goes on at this server (else it moved elsewhere, or ended) */
    private void fail(Pending p, Reason reason, String message, boolean staysHere) {
        boolean said = message.contains("stays on"); // the client's own words may say it already
        MigrationException e = new MigrationException(staysHere && !said ? message + "; the session stays on " + server.identity()
                : message, reason, staysHere, null);
        record(p.target, e);
        p.outcome.completeExceptionally(e);
    }

    private void record(InetSocketAddress to, MigrationException e) {
        MigrationEvent event = new MigrationEvent(MigrationEvent.Role.ORIGIN, MigrationEvent.Initiation.SERVER_TRIGGER,
                session.hexId(), server.identity(), to, e, 0, 0, 0, Map.of());
        server.loop().execute(() -> server.recorder.record(event)); // listeners run without the session lock
    }
}
