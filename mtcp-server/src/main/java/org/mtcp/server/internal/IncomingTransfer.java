package org.mtcp.server.internal;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.internal.crypto.X25519;
import org.mtcp.internal.io.EventLoop;
import org.mtcp.internal.session.Faults;
import org.mtcp.internal.session.Proofs;
import org.mtcp.internal.session.Settings;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.ProtocolException;
import org.mtcp.internal.wire.SessionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The destination's side of one migration (thesis 4.2.3, S2), from the client's MIGRATE_REQ to its
 * answer: ask the origin for the state over the pair's control connection (STATE_REQUEST), install
 * the session from the reply, commit (STATE_ACK, the commit point), answer the client (MIGRATE_ACK);
 * or refuse (MIGRATE_REJECT) when the origin refuses, is unreachable, or does not answer before the
 * deadline, which is armed when the transfer is created. Every change of state goes through
 * {@link #state}. Loop thread only.
 */
final class IncomingTransfer {
    private static final Logger log = LoggerFactory.getLogger(IncomingTransfer.class);

    /** An incoming transfer's states. */
    enum State {
        /** STATE_REQUEST sent; waiting for the origin's reply. */
        REQUESTED,
        /** Installed and committed (STATE_ACK sent); the client was answered with MIGRATE_ACK. */
        COMMITTED,
        /** The client was answered with MIGRATE_REJECT; the session stays where it was. */
        REJECTED
    }

    // loop thread only: no field needs a lock
    private final Server server;
    /** The client's connection, registered with the loop but not read until the answer is written. */
    private final SocketChannel client;
    private final SelectionKey clientKey;
    private final InetSocketAddress remote;
    private final InetSocketAddress local;
    private final Message.MigrateRequest request;
    private final String hex;
    /** This server's identity as the client dialled it. */
    private final InetSocketAddress self;
    private final long startNanos;
    private State state = State.REQUESTED;
    /** The pair's control connection the request went on, and its key there. */
    private ControlConnection connection;
    private long key;
    private long sentNanos;
    private EventLoop.Timer deadline;

    private IncomingTransfer(Server server, SocketChannel client, SelectionKey clientKey, InetSocketAddress remote,
                             InetSocketAddress local, Message.MigrateRequest request) {
        this.server = server;
        this.client = client;
        this.clientKey = clientKey;
        this.remote = remote;
        this.local = local;
        this.request = request;
        this.hex = Proofs.hex(request.sessionId());
        this.self = server.identityFor(local);
        this.startNanos = System.nanoTime();
    }

    /**
     * A client asks to move its session here: checks what this server can tell alone, then asks the
     * origin. Holds a place in the accept queue until the client is answered.
     */
    static void start(Server server, SocketChannel client, SelectionKey clientKey, InetSocketAddress remote,
                      InetSocketAddress local, Message.MigrateRequest request) {
        new IncomingTransfer(server, client, clientKey, remote, local, request).requestState();
    }

    private void requestState() {
        InetSocketAddress origin = request.origin();
        ControlEndpoint endpoint = server.control();
        SocketAddress controlAddress = server.controlMappings().get(origin);
        if (endpoint == null || controlAddress == null) {
            reject(Reason.NOT_COOPERATING, "server " + self + " does not cooperate with " + origin + " (no control mapping for it)");
            return;
        }
        if (!request.destination().equals(self)) {
            reject(Reason.NOT_AUTHORIZED, "the request names " + request.destination() + " as destination; this server is " + self
                    + " (a client migrates to a server by its service address)");
            return;
        }
        ServerSession here = server.session(request.sessionId());
        if (here != null && here.leavingFor(origin) && System.nanoTime() - startNanos < TimeUnit.MILLISECONDS.toNanos(
                Settings.STATE_TIMEOUT_MILLIS)) {
            // this server's copy went to the origin and the origin's commit (STATE_ACK, on the control connection)
            // has not arrived yet, while the client, switched, already comes back: wait for the commit
            server.loop().schedule(TimeUnit.MILLISECONDS.toNanos(1), this::requestState);
            return;
        }
        if (origin.equals(self)) {
            resume(here);
            return;
        }
        if (here != null) {
            reject(Reason.INVALID_STATE, "session " + hex.substring(0, 8) + " is already on " + self);
            return;
        }
        try {
            connection = endpoint.connectionTo(origin, controlAddress);
        } catch (IOException e) {
            reject(Reason.PEER_UNREACHABLE, e.getMessage());
            return;
        }
        server.reserveQueuePlace();
        key = connection.newKey();
        connection.request(this, new Message.StateRequest(key, request.sessionId(), request.downReceived(), request.credit(),
                request.sequence(), request.clientPublic(), request.proof(), request.destination(), request.initiation()));
        sentNanos = System.nanoTime();
        Faults.at(Faults.Step.DESTINATION_ASKED_ORIGIN);
        deadline = endpoint.loop().schedule(TimeUnit.MILLISECONDS.toNanos(Settings.STATE_TIMEOUT_MILLIS), new StateDeadline());
    }

    /** {@link #onTimeout} when the state is late. A class, not a method reference: see ControlConnection.OpenDeadline. */
    private final class StateDeadline implements Runnable {
        @Override
        public void run() {
            onTimeout();
        }
    }

    /**
     * A request whose origin is this server: the session's client lost its connection and resumes here (a
     * migration to the server it is on; the same proof, sequence and key rotation).
     */
    private void resume(ServerSession here) {
        if (here == null) {
            reject(Reason.UNKNOWN_SESSION, false, "session " + hex.substring(0, 8) + " is not on " + self
                    + ": it ended, it moved elsewhere, or this server restarted");
            return;
        }
        ServerSession.Created resumed;
        try {
            resumed = here.resume(request, client, clientKey, remote);
        } catch (MigrationException e) {
            reject(e.reason(), e.sessionAlive(), e.getMessage());
            return;
        }
        Faults.at(Faults.Step.SERVER_RESUMED);
        server.recorder.announce(new MigrationEvent(MigrationEvent.Role.DESTINATION, MigrationEvent.Initiation.RESUME, hex, self,
                self, null, 0, 0, 0, Map.of())); // counted by the session, before it answered
        state(State.COMMITTED, "resumed " + resumed.session());
    }

    private void state(State next, String reason) {
        log.debug("incoming transfer of session {} from {}: {} -> {} ({})", hex.substring(0, 8), request.origin(), state, next,
                reason);
        state = next;
        if (deadline != null) {
            deadline.cancel();
        }
        if (connection != null) {
            server.releaseQueuePlace();
        }
    }

    /** STATE_REPLY: install, commit, answer the client. */
    void onReply(SessionState st) {
        if (state != State.REQUESTED) {
            return;
        }
        long replied = System.nanoTime();
        ServerSession.Created installed;
        try {
            if (!client.isOpen() || client.read(ByteBuffer.allocate(1)) != 0) {
                // the client gave up (or broke the protocol by sending early): do not commit
                throw new IOException("the client " + remote + " went away while its state was on the way");
            }
            if (!java.util.Arrays.equals(st.sessionId, request.sessionId())) {
                throw new IOException("the origin replied with the state of another session");
            }
            if (st.appState.length > Settings.MAX_STATE_BYTES) {
                throw new IOException("the origin's reply holds " + st.appState.length + " bytes of application state, above "
                        + "this server's limit of " + Settings.MAX_STATE_BYTES + " (mtcp.maxStateBytes)");
            }
            // the key exchange only now that the origin has accepted the client's proof: a request
            // nobody authorized costs this server no public-key operation
            X25519.Ephemeral ephemeral = X25519.ephemeral();
            byte[] shared;
            try {
                shared = ephemeral.agree(request.clientPublic());
            } catch (ProtocolException e) {
                throw new IOException("the client's key for the migration is unusable: " + e.getMessage(), e);
            }
            installed = ServerSession.fromState(server, st, client, clientKey, remote, local, request, ephemeral, shared, self,
                    server.alternates());
        } catch (IOException | RuntimeException e) {
            connection.send(new Message.StateAbort(key));
            reject(Reason.OTHER, "destination " + self + " could not install the session: " + e.getMessage());
            return;
        }
        ServerSession s = installed.session();
        Faults.at(Faults.Step.DESTINATION_INSTALLED);
        server.register(s);
        connection.send(new Message.StateAck(key)); // the commit point: the origin lets go of the session
        Faults.at(Faults.Step.DESTINATION_COMMITTED);
        // counted before the client hears of it: a migrate() that returns finds this server's statistics counting it
        server.recorder.countCommitted(request.initiation(), st.upBytes.length, st.downBytes.length);
        try {
            s.sendFirst(installed.first());
        } catch (IOException e) {
            log.debug("could not answer the client of {}: {}", s, e.toString());
        }
        Faults.at(Faults.Step.DESTINATION_ANSWERED);
        server.enqueue(s);
        state(State.COMMITTED, "installed");
        Map<MigrationEvent.Phase, Long> phases = new EnumMap<>(MigrationEvent.Phase.class);
        phases.put(MigrationEvent.Phase.DESTINATION_PREPARE_REQUEST, sentNanos - startNanos);
        phases.put(MigrationEvent.Phase.DESTINATION_WAIT_REPLY, replied - sentNanos);
        phases.put(MigrationEvent.Phase.DESTINATION_REINSTATE, System.nanoTime() - replied);
        server.recorder.announce(new MigrationEvent(MigrationEvent.Role.DESTINATION, request.initiation(), hex, request.origin(),
                self, null, st.appState.length, st.upBytes.length, st.downBytes.length, phases));
    }

    /** STATE_REJECT from the origin. */
    void onReject(Reason reason, String message) {
        if (state == State.REQUESTED) {
            reject(reason, "origin " + request.origin() + " refused: " + message);
        }
    }

    /** The control connection closed before the answer. */
    void onConnectionLost(String why) {
        if (state == State.REQUESTED) {
            reject(Reason.PEER_UNREACHABLE, "control connection to " + request.origin() + " lost while waiting for the state of "
                    + "session " + hex.substring(0, 8) + ": " + why);
        }
    }

    private void onTimeout() {
        if (state != State.REQUESTED) {
            return;
        }
        connection.forgetRequest(key);
        connection.send(new Message.StateAbort(key)); // the origin resumes at once instead of at its own deadline
        reject(Reason.TIMEOUT, "origin " + request.origin() + " did not answer the request for the state of session "
                + hex.substring(0, 8) + " within " + Settings.STATE_TIMEOUT_MILLIS + " ms");
    }

    private void reject(Reason reason, String message) {
        reject(reason, true, message);
    }

    /** @param alive whether the session goes on where it was (false: it is gone, the client need not retry) */
    private void reject(Reason reason, boolean alive, String message) {
        try {
            client.write(new Message.MigrateReject(reason, alive, message).encode());
        } catch (IOException ignored) {
            // the client is gone; nothing to tell
        }
        clientKey.cancel();
        try {
            client.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
        state(State.REJECTED, reason + ": " + message);
        if (request.initiation() == MigrationEvent.Initiation.RESUME) {
            return; // one try of a client that goes on trying: its server counts the session's resume once, when it ends
        }
        server.recorder.record(new MigrationEvent(MigrationEvent.Role.DESTINATION, request.initiation(), hex, request.origin(),
                server.identity(), new MigrationException(message, reason, alive, null), 0, 0, 0, Map.of()));
    }

    /** @return the state, for tests */
    State state() {
        return state;
    }
}
