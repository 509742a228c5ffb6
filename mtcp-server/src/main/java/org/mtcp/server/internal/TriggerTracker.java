package org.mtcp.server.internal;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.internal.session.Settings;
import org.mtcp.internal.wire.Message;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The TRIGGER a session's server sent last, until its outcome is known: the session moved (the origin's
 * committed event), the migration it started did not commit (the origin's aborted event, or the client's
 * TRIGGER_RESULT FAILED), the client refused it or had a migration under way already (TRIGGER_RESULT),
 * another move took its place, the session ended, or nothing was heard within {@link #DEADLINE_MILLIS}.
 * Each TRIGGER ends in exactly one of them: one migration event for the server's listeners and statistics
 * (unless a transfer's own event already told them), and its future completed. Guarded by the session lock.
 */
final class TriggerTracker {
    /**
     * How long a client is given to act on a TRIGGER: its background migration's own deadline (twice
     * {@code mtcp.migrateTimeoutMillis}) and a margin for its answer.
     */
    static final long DEADLINE_MILLIS = 2 * Settings.MIGRATE_TIMEOUT_MILLIS + 5_000;

    private final ServerSession session;
    private final Server server;
    /** Where the pending TRIGGER sent the session ({@code null}: the client's choice). */
    private InetSocketAddress target;
    /** The pending TRIGGER's outcome, or {@code null} when none is pending. */
    private CompletableFuture<MigrationEvent> outcome;
    /** Tells a deadline which TRIGGER armed it. */
    private long serial;

    /** The session lock, for the deadline's check. */
    private final java.util.concurrent.locks.Lock lock;

    TriggerTracker(ServerSession session, Server server, java.util.concurrent.locks.Lock sessionLock) {
        this.session = session;
        this.server = server;
        this.lock = sessionLock;
    }

    /** @return whether a TRIGGER's outcome is still unknown */
    boolean pending() {
        return outcome != null;
    }

    /**
     * A TRIGGER to {@code to} was sent; one pending before is superseded.
     *
     * @return completes with the origin's committed event, or exceptionally with a {@link MigrationException}
     */
    CompletableFuture<MigrationEvent> sent(InetSocketAddress to) {
        if (outcome != null) {
            fail(Reason.SUPERSEDED, "the TRIGGER of " + session.describe() + " to " + destination() + " was replaced by one to "
                    + (to == null ? "any alternate" : to));
        }
        CompletableFuture<MigrationEvent> f = new CompletableFuture<>();
        outcome = f;
        target = to;
        long mine = ++serial;
        server.loop().schedule(TimeUnit.MILLISECONDS.toNanos(DEADLINE_MILLIS), () -> expire(mine));
        return f;
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

    /** The client says what became of the TRIGGER. */
    void result(Message.TriggerResult m) {
        if (outcome == null) {
            return; // settled already (the transfer's abort told), or not this server's trigger
        }
        String prefix = m.outcome() == Message.TriggerResult.Outcome.FAILED ? "the migration that a TRIGGER started failed: "
                : m.outcome() == Message.TriggerResult.Outcome.SUPERSEDED ? "the client had a migration under way: "
                : "the client refused the TRIGGER: ";
        fail(m.reason(), prefix + m.message());
    }

    /** A transfer of the session ended, committed or not; its event is recorded already. */
    void settled(MigrationEvent e) {
        CompletableFuture<MigrationEvent> f = outcome;
        if (f == null) {
            return;
        }
        if (e.committed() && target != null && !target.equals(e.to())) {
            fail(Reason.SUPERSEDED, "the session moved to " + e.to() + " instead of " + target, false);
            return;
        }
        outcome = null;
        if (e.committed()) {
            f.complete(e);
        } else {
            f.completeExceptionally(e.failure());
        }
    }

    /** The session ended before it moved. */
    void ended(String why) {
        if (outcome != null) {
            fail(Reason.SESSION_ENDED, session.describe() + " ended before it moved: " + why);
        }
    }

    private void expire(long armed) {
        lock.lock();
        try {
            if (outcome != null && serial == armed) {
                fail(Reason.TIMEOUT, "the client of " + session.describe() + " did not act on the TRIGGER to " + destination()
                        + " within " + DEADLINE_MILLIS + " ms");
            }
        } finally {
            lock.unlock();
        }
    }

    private void fail(Reason reason, String message) {
        fail(reason, message, true);
    }

    /** @param staysHere whether the session goes on at this server (else it moved elsewhere) */
    private void fail(Reason reason, String message, boolean staysHere) {
        CompletableFuture<MigrationEvent> f = outcome;
        outcome = null;
        boolean said = message.contains("stays on"); // the client's own words may say it already
        MigrationException e = new MigrationException(staysHere && !said ? message + "; the session stays on " + server.identity()
                : message, reason, staysHere, null);
        record(target, e);
        f.completeExceptionally(e);
    }

    private void record(InetSocketAddress to, MigrationException e) {
        MigrationEvent event = new MigrationEvent(MigrationEvent.Role.ORIGIN, MigrationEvent.Initiation.SERVER_TRIGGER,
                session.hexId(), server.identity(), to, e, 0, 0, 0, Map.of());
        server.loop().execute(() -> server.recorder.record(event)); // listeners run without the session lock
    }

    private String destination() {
        return target == null ? "any alternate" : target.toString();
    }
}
