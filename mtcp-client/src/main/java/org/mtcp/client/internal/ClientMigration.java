package org.mtcp.client.internal;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.internal.crypto.KeySchedule;
import org.mtcp.internal.crypto.X25519;
import org.mtcp.internal.session.BlockingIo;
import org.mtcp.internal.session.Faults;
import org.mtcp.internal.session.Proofs;
import org.mtcp.internal.session.Settings;
import org.mtcp.internal.wire.Frames;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.ProtocolException;
import org.mtcp.internal.wire.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.SocketChannel;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The client's side of one migration (thesis 4.2.3, the client's steps): connect to the destination,
 * send MIGRATE_REQ, wait for MIGRATE_ACK or MIGRATE_REJECT, then switch the session to the new
 * connection or fall back to the origin. Its deadline is fixed when it is created. It runs on the
 * thread that asked for it (the application's, or a background thread for triggers and policies);
 * every change of state goes through {@link #state}.
 */
final class ClientMigration {
    private static final Logger log = LoggerFactory.getLogger(ClientMigration.class);

    /** A client migration's states. */
    enum State {
        /** Connecting to the destination. */
        CONNECTING,
        /** MIGRATE_REQ sent; waiting for the destination's answer. */
        REQUESTED,
        /** MIGRATE_ACK received and the session switched to the destination. */
        SWITCHED,
        /** Refused, unreachable, timed out or broken: the session stays on the origin, or is lost. */
        FAILED
    }

    private final ClientSession session;
    /** The destination's service address (its identity, which the proof names). */
    private final InetSocketAddress destination;
    /** The address to connect to: the destination's, or for a resume at the same server the one dialled before. */
    private final InetSocketAddress dial;
    private final InetSocketAddress origin;
    private final MigrationEvent.Initiation initiation;
    private final long startNanos;
    private final long deadlineNanos;
    /** What the client tells the destination: every down byte it holds (and the FIN), its credit, the sequence. */
    private final long downReceived;
    private final long credit;
    private final long sequence;
    /** Guarded by the session's lock: the old connection ended while this migration was under way. */
    private boolean originLost;
    // the migrating thread's own; volatile only so that a test on another thread reads it through state()
    private volatile State state = State.CONNECTING;
    private long preparedNanos;
    private long answeredNanos;

    ClientMigration(ClientSession session, InetSocketAddress destination, InetSocketAddress origin,
                    InetSocketAddress dial, MigrationEvent.Initiation initiation, long startNanos, long deadlineNanos,
                    long downReceived, long credit, long sequence) {
        this.session = session;
        this.destination = destination;
        this.dial = dial;
        this.origin = origin;
        this.initiation = initiation;
        this.startNanos = startNanos;
        this.deadlineNanos = deadlineNanos;
        this.downReceived = downReceived;
        this.credit = credit;
        this.sequence = sequence;
    }

    private void state(State next, String reason) {
        log.debug("migration of {} to {}: {} -> {} ({})", session, destination, state, next, reason);
        state = next;
    }

    /** Guarded by the session's lock: the origin said (MOVED) that it committed the transfer. */
    private boolean originCommitted;

    /** The origin said it committed; session lock held. */
    void originCommitted() {
        originCommitted = true;
    }

    /** @return whether the origin said it committed; session lock held */
    boolean isOriginCommitted() {
        return originCommitted;
    }

    /** The old connection ended meanwhile; session lock held. */
    void originLost() {
        originLost = true;
    }

    /** @return whether the old connection ended meanwhile; session lock held */
    boolean isOriginLost() {
        return originLost;
    }

    /** The steps, on the calling thread. @throws MigrationException when the session did not move */
    void run() throws IOException {
        SocketChannel ch = null;
        MigrationException failed;
        try {
            ch = BlockingIo.connect(dial, session.localBind(), deadlineNanos);
            session.setUp(ch);
            X25519.Ephemeral ephemeral = X25519.ephemeral();
            byte[] clientPublic = ephemeral.publicKey();
            byte[] oldKey = session.key();
            Message.MigrateRequest request = new Message.MigrateRequest(session.id(), origin, destination, downReceived, credit,
                    sequence, clientPublic, Proofs.migrationProof(oldKey, session.id(), sequence, origin, destination,
                    downReceived, credit, clientPublic), initiation);
            BlockingIo.writeFully(ch, Frames.opening(Wire.MAGIC, request), deadlineNanos, "the migration request to " + destination);
            preparedNanos = System.nanoTime();
            state(State.REQUESTED, "MIGRATE_REQ sent");
            Faults.at(initiation == MigrationEvent.Initiation.RESUME ? Faults.Step.CLIENT_RESUME_SENT : Faults.Step.CLIENT_REQUEST_SENT);
            // never give up before the destination does (its wait for the origin is bounded): a client
            // that gave up while the destination commits would lose the session
            long answerDeadline = Math.max(deadlineNanos,
                    preparedNanos + TimeUnit.MILLISECONDS.toNanos(Settings.STATE_TIMEOUT_MILLIS + 1000));
            Message answer = BlockingIo.readMessage(ch, answerDeadline, Wire.MAX_CONTROL_PAYLOAD_ON_DATA,
                    "the migration answer from " + destination);
            answeredNanos = System.nanoTime();
            if (answer instanceof Message.MigrateAck) {
                Message.MigrateAck ack = (Message.MigrateAck) answer;
                byte[] newKey = KeySchedule.rotatedKey(oldKey, ephemeral.agree(ack.serverPublic()), Message.payload(request));
                if (!Proofs.verifyAck(newKey, request, ack)) {
                    throw new ProtocolException("destination " + destination + " answered with a MIGRATE_ACK it cannot confirm:"
                            + " it did not get the session from " + origin);
                }
                session.switchTo(ch, dial, ack, downReceived, credit, newKey);
                ch = null;
                state(State.SWITCHED, "MIGRATE_ACK");
                if (initiation != MigrationEvent.Initiation.RESUME) {
                    Faults.at(Faults.Step.CLIENT_SWITCHED);
                }
                report(ack.server(), null, System.nanoTime());
                return;
            }
            if (!(answer instanceof Message.MigrateReject)) {
                throw new ProtocolException("destination " + destination + " answered the migration request with "
                        + Wire.typeName(answer.type()));
            }
            Message.MigrateReject reject = (Message.MigrateReject) answer;
            boolean alive = reject.sessionAlive();
            failed = new MigrationException("migration of " + session.describe() + " to " + destination + " rejected: "
                    + reject.message() + (alive ? "; the session stays on " + origin : "; the session is lost"),
                    reject.reason(), alive, null);
        } catch (MigrationException e) {
            failed = e;
        } catch (SocketTimeoutException e) {
            failed = new MigrationException("migration of " + session.describe() + " to " + destination + " timed out: "
                    + e.getMessage() + "; the session stays on " + origin, Reason.TIMEOUT, true, e);
        } catch (ProtocolException e) {
            failed = new MigrationException("migration of " + session.describe() + " to " + destination + " failed: "
                    + e.getMessage() + "; the session stays on " + origin, Reason.PROTOCOL_ERROR, true, e);
        } catch (IOException e) {
            failed = new MigrationException("destination " + destination + " unreachable for " + session.describe() + ": "
                    + e.getMessage() + "; the session stays on " + origin, Reason.PEER_UNREACHABLE, true, e);
        } finally {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // nothing to keep
                }
            }
        }
        if (initiation == MigrationEvent.Initiation.RESUME) {
            session.resumeAttemptFailed(this);
            state(State.FAILED, failed.getMessage());
            throw failed; // one try of several: the session reports the resume once, when it ends
        }
        failed = session.fallBack(this, failed, origin);
        state(State.FAILED, failed.getMessage());
        report(destination, failed, 0);
        throw failed;
    }

    private void report(InetSocketAddress to, MigrationException failure, long doneNanos) {
        Map<MigrationEvent.Phase, Long> phases = new EnumMap<>(MigrationEvent.Phase.class);
        if (preparedNanos != 0) {
            phases.put(MigrationEvent.Phase.CLIENT_PREPARE, preparedNanos - startNanos);
            if (answeredNanos != 0) {
                phases.put(MigrationEvent.Phase.CLIENT_WAIT, answeredNanos - preparedNanos);
                if (doneNanos != 0) {
                    phases.put(MigrationEvent.Phase.CLIENT_COMPLETE, doneNanos - answeredNanos);
                }
            }
        }
        session.report(new MigrationEvent(MigrationEvent.Role.CLIENT, initiation, session.sessionId(), origin, to, failure,
                0, 0, 0, phases));
    }

    /** @return the state, for tests */
    State state() {
        return state;
    }

    /** @return where the session is going */
    InetSocketAddress destination() {
        return destination;
    }
}
