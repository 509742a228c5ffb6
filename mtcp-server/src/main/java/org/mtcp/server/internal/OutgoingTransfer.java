package org.mtcp.server.internal;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.internal.io.EventLoop;
import org.mtcp.internal.session.Faults;
import org.mtcp.internal.session.Proofs;
import org.mtcp.internal.session.Settings;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.SessionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The origin's side of one migration (thesis 4.2.3, S1), from the destination's STATE_REQUEST to its
 * STATE_ACK (the commit: this copy of the session is done) or STATE_ABORT (the session goes on here).
 * The session is frozen while the transfer is open; the freeze deadline is armed when the transfer
 * is created, so that no path (a refused request, a reply that cannot be encoded, a destination that
 * never answers, a control connection that breaks) leaves the session frozen. The client's MOVED on
 * the old connection also commits. Every change of state goes through {@link #state}, a
 * compare-and-set: the loop (control frames, the deadline) and the session's pump (MOVED) may race,
 * and exactly one of them ends the transfer.
 */
final class OutgoingTransfer {
    private static final Logger log = LoggerFactory.getLogger(OutgoingTransfer.class);

    /** An outgoing transfer's states. */
    enum State {
        /** Created (deadline armed); the request is being checked and the session frozen and packed. */
        PACKING,
        /** STATE_REPLY sent; the session is frozen until the commit or the abort. */
        SENT,
        /** The request was refused (STATE_REJECT); the session was never frozen. */
        REFUSED,
        /** The destination installed the session (STATE_ACK, or the client's MOVED): this copy is done. */
        COMMITTED,
        /** The destination gave up, the deadline passed, the connection broke, or the reply could not be sent: the session goes on here. */
        ABORTED
    }

    /** The request's key, chosen by the destination. */
    final long key;
    private final ControlConnection connection;
    private final Server server;
    private final ServerSession session;
    private final InetSocketAddress destination;
    private final EventLoop.Timer deadline;
    private final AtomicReference<State> state = new AtomicReference<>(State.PACKING);
    /** Aborted because the control connection broke after the reply went out: the destination may have committed. */
    private volatile boolean mayHaveCommitted;
    /** The outcome was reported (an event recorded): exactly one per transfer, whichever comes first. */
    private final java.util.concurrent.atomic.AtomicBoolean reported = new java.util.concurrent.atomic.AtomicBoolean();
    private final long startNanos = System.nanoTime();
    // written by the loop before SENT, read after COMMITTED/ABORTED (the compare-and-set orders them)
    private long packNanos;
    /** Who started the migration: as the client told the destination, else what this server knows (its trigger). */
    private MigrationEvent.Initiation initiation = MigrationEvent.Initiation.UNKNOWN;
    private int stateBytes;
    private long upBytes;
    private long downBytes;

    private OutgoingTransfer(ControlConnection connection, long key, Server server, ServerSession session,
                             InetSocketAddress destination) {
        this.connection = connection;
        this.key = key;
        this.server = server;
        this.session = session;
        this.destination = destination;
        this.deadline = server.loop().schedule(TimeUnit.MILLISECONDS.toNanos(Settings.FREEZE_TIMEOUT_MILLIS),
                new FreezeDeadline());
    }

    /**
     * Ends a freeze that no commit ended in time. A class, not a lambda: a fresh JVM's first migration linked the
     * lambda on the origin's path while the destination and the client waited (as ControlConnection.OpenDeadline);
     * the warm-up loads the class.
     */
    private final class FreezeDeadline implements Runnable {
        @Override
        public void run() {
            abort("no commit from " + destination + " within " + Settings.FREEZE_TIMEOUT_MILLIS + " ms");
        }
    }

    /** Answers a STATE_REQUEST on {@code c}: freezes and packs the session, or refuses; loop thread. */
    static void serve(ControlConnection c, Message.StateRequest m, Server server) {
        if (!m.destination().equals(c.peer())) {
            // a state goes only to the server the client named, and only over that server's own connection
            c.send(new Message.StateReject(m.key(), Reason.NOT_AUTHORIZED, "a STATE_REQUEST from " + c.peer() + " names "
                    + m.destination() + " as destination: " + server.identity() + " sends a state only to the destination itself"));
            return;
        }
        ServerSession s = server.session(m.sessionId());
        if (s == null) {
            c.send(new Message.StateReject(m.key(), Reason.UNKNOWN_SESSION, "no session "
                    + Proofs.hex(m.sessionId()).substring(0, 8) + " on " + server.identity()));
            return;
        }
        OutgoingTransfer t = new OutgoingTransfer(c, m.key(), server, s, m.destination());
        t.initiation = m.initiation() != MigrationEvent.Initiation.UNKNOWN ? m.initiation() : s.initiation();
        SessionState st;
        try {
            st = s.freezeAndPack(t, m);
        } catch (MigrationException e) {
            t.state(State.PACKING, State.REFUSED, e.getMessage());
            c.send(new Message.StateReject(m.key(), e.reason(), e.getMessage()));
            return;
        }
        t.stateBytes = st.appState.length;
        t.upBytes = st.upBytes.length;
        t.downBytes = st.downBytes.length;
        ByteBuffer reply;
        try {
            reply = new Message.StateReply(m.key(), st).encode();
        } catch (RuntimeException e) {
            String why = "the state of " + s.describe() + " cannot be sent: " + e.getMessage();
            t.abort(why);
            c.send(new Message.StateReject(m.key(), Reason.OTHER, why));
            return;
        }
        t.packNanos = System.nanoTime() - t.startNanos;
        Faults.at(Faults.Step.ORIGIN_PACKED);
        if (t.state(State.PACKING, State.SENT, "STATE_REPLY")) {
            c.served(t);
            c.sendStateFrame(reply);
            Faults.at(Faults.Step.ORIGIN_REPLIED);
        }
    }

    /**
     * Moves from {@code expected} to {@code next}, logging why; only one caller wins.
     *
     * @return whether this call made the change
     */
    private boolean state(State expected, State next, String reason) {
        if (!state.compareAndSet(expected, next)) {
            return false;
        }
        log.debug("outgoing transfer of {} to {}: {} -> {} ({})", session, destination, expected, next, reason);
        if (next != State.SENT) {
            deadline.cancel();
        }
        return true;
    }

    /** @return whether this call ended a transfer that was open */
    private boolean end(State next, String reason) {
        return state(State.SENT, next, reason) || state(State.PACKING, next, reason);
    }

    /**
     * The destination installed the session (STATE_ACK), or the client says it moved (MOVED); any
     * thread. After an abort that a commit may have crossed ({@link #mayHaveCommitted}) it still
     * counts: the session did move.
     *
     * @return whether the session is committed now (false: the transfer ended in a clear abort)
     */
    boolean commit(String reason) {
        if (!end(State.COMMITTED, reason) && !mayHaveCommitted()) {
            return state.get() == State.COMMITTED;
        }
        // committed now, or after an unclear abort whose report was held back for this
        MigrationEvent e = countCommit();
        session.moved(destination);
        announceCommit(e);
        return true;
    }

    /**
     * Counts the commit in the statistics, before the session shows as moved (a drain that sees it gone, or
     * whoever reads the statistics after it, finds it counted), unless an outcome was reported already.
     *
     * @return the event to announce, or {@code null}
     */
    private MigrationEvent countCommit() {
        if (!reported.compareAndSet(false, true)) {
            return null;
        }
        MigrationEvent e = new MigrationEvent(MigrationEvent.Role.ORIGIN, initiation, session.hexId(),
                server.identity(), destination, null, stateBytes, upBytes, downBytes,
                Map.of(MigrationEvent.Phase.ORIGIN_PREPARE_REPLY, packNanos));
        server.recorder.count(e);
        return e;
    }

    /** Tells the listeners of a commit {@link #countCommit} counted, and settles a pending TRIGGER, on the loop. */
    private void announceCommit(MigrationEvent e) {
        if (e == null) {
            return;
        }
        server.loop().execute(() -> {
            connection.forgetServed(key, this);
            server.recorder.announce(e);
            session.transferEnded(e);
        });
    }

    /** The session goes on here; any thread. */
    void abort(String reason) {
        abort(reason, false);
    }

    /**
     * The control connection broke with the transfer open: the session goes on here, but a STATE_ACK
     * may have been on its way, so the client's MOVED still counts ({@link #mayHaveCommitted}).
     */
    void connectionLost(String reason) {
        abort(reason, state.get() == State.SENT);
    }

    private void abort(String reason, boolean unclear) {
        if (unclear) {
            mayHaveCommitted = true; // before the change, so that a MOVED racing this abort sees it
        }
        if (!end(State.ABORTED, reason)) {
            return;
        }
        session.unfreeze(this, reason);
        if (unclear) {
            // a STATE_ACK may have been lost with the connection: the client's MOVED says so within the destination's
            // own deadline (it answers the client within mtcp.stateTimeoutMillis of the request); report the abort only
            // if none came by then, so that the event and move()'s future tell what really happened
            server.loop().schedule(TimeUnit.MILLISECONDS.toNanos(Settings.STATE_TIMEOUT_MILLIS + 2000), () -> reportAbort(reason));
        } else {
            reportAbort(reason);
        }
    }

    /** Records the abort and settles a pending TRIGGER, unless an outcome was reported already. */
    private void reportAbort(String reason) {
        if (!reported.compareAndSet(false, true)) {
            return;
        }
        server.loop().execute(() -> {
            connection.forgetServed(key, this);
            MigrationEvent e = new MigrationEvent(MigrationEvent.Role.ORIGIN, initiation, session.hexId(),
                    server.identity(), destination,
                    new MigrationException("migration of " + session.describe() + " to " + destination + " did not commit: "
                            + reason + "; the session goes on here", Reason.OTHER, true, null),
                    stateBytes, upBytes, downBytes, Map.of());
            server.recorder.record(e);
            session.transferEnded(e);
        });
    }

    /** @return whether it ended in an abort that a commit the origin never heard of may have crossed */
    private boolean mayHaveCommitted() {
        return mayHaveCommitted && state.get() == State.ABORTED;
    }

    /** @return where the state went */
    InetSocketAddress destination() {
        return destination;
    }

    /** @return the state, for tests and diagnostics */
    State state() {
        return state.get();
    }
}
