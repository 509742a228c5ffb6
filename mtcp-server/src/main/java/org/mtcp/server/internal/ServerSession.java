package org.mtcp.server.internal;

import org.mtcp.api.ConnectionMigratedException;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.internal.crypto.ControlSeal;
import org.mtcp.internal.crypto.KeySchedule;
import org.mtcp.internal.crypto.X25519;
import org.mtcp.internal.session.Lifecycle;
import org.mtcp.internal.session.Link;
import org.mtcp.internal.session.Proofs;
import org.mtcp.internal.session.ResumeLedger;
import org.mtcp.internal.session.SessionCore;
import org.mtcp.internal.session.SessionInputStream;
import org.mtcp.internal.session.SessionOutputStream;
import org.mtcp.internal.session.Settings;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.ProtocolException;
import org.mtcp.internal.wire.SessionState;
import org.mtcp.internal.wire.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The server end of a session. On top of the shared stream engine it keeps the application's
 * snapshot and synchronizes it with the streams (thesis 3.3.3): the read log from the snapshot's
 * read offset, the write buffer from what the client acknowledged, and after a migration the offset
 * below which bytes the application writes again are dropped (the client has them).
 *
 * <p>Its life is the shared {@link Lifecycle} (MOVED once it committed elsewhere); while a
 * destination holds its state the session is frozen: it has an {@link OutgoingTransfer}, and neither
 * reads nor sends until the transfer commits or aborts.
 */
public final class ServerSession extends SessionCore implements Accepted {
    private static final Logger log = LoggerFactory.getLogger(ServerSession.class);

    // ---- immutable ----
    private final Server server;
    /** The session's identifier. */
    private final byte[] sessionId;
    /** This server's identity as the session's client was told it: the origin its proofs name. */
    private final InetSocketAddress identity;
    /** The session arrived by migration (MIGRATED). */
    private final boolean arrivedByMigration;
    private final InetSocketAddress remote;
    private final InetSocketAddress local;
    private final SessionInputStream input;
    private final SessionOutputStream output;
    /** SO_TIMEOUT for reads; volatile: set by the socket without the session lock. */
    private volatile int readTimeout;
    /** Whether this server sent the client a TRIGGER: its migration events name the initiation. */
    private volatile boolean triggered;

    // ---- every field below is guarded by the session lock ----
    /**
     * The session key: checks the client's migration proofs and seals this connection's control
     * frames; travels with the state. Set once, before the session is published.
     */
    private byte[] key;
    /** Highest migration sequence accepted: a request must carry a higher one (no replay). */
    private long migrationSeq;
    /** Migrations of this session so far. */
    private int migrations;
    /** The last exported application state (export_state). */
    private byte[] appState = new byte[0];
    /** The snapshot's place in both streams, and the application bytes to drop after a migration. */
    private final ResumeLedger ledger = new ResumeLedger();
    /** The migration that froze the session (its state is with a destination), or {@code null}. */
    private OutgoingTransfer outgoing;
    /** The last migration that froze it, kept when it ends: a MOVED may still follow an unclear abort. */
    private OutgoingTransfer lastTransfer;
    /** Where the session went, once MOVED. */
    private InetSocketAddress movedTo;
    /** The TRIGGERs this server sent whose outcome is not known yet; {@code null} until the first. Session lock. */
    private TriggerTracker trigger;
    /** While the client's connection is broken and the session waits for it to resume: the grace deadline, else {@code null}. */
    private org.mtcp.internal.io.EventLoop.Timer resumeDeadline;
    /** Why the connection broke, for the exception when the client does not come back. */
    private String brokenBecause;
    /** What the session's earlier servers sent the client (the state record's downSentLimit): acknowledgements up to it are legitimate. */
    private long inheritedSentLimit;
    /** Resumes of this session on this server. */
    private int resumes;
    /**
     * The key before the last resume, until the client shows that it got the answer (it sends on the new
     * connection): a connection that broke before the MIGRATE_ACK reached the client leaves the client with this
     * key, and its next request is proved with it.
     */
    private byte[] keyBeforeResume;

    private ServerSession(Server server, byte[] sessionId, InetSocketAddress identity, boolean migrated, long outStart,
                          long inStart, InetSocketAddress remote, InetSocketAddress local) {
        super(server.loop(), outStart, inStart, Settings.SEND_WINDOW, Settings.RECEIVE_WINDOW);
        this.server = server;
        this.sessionId = sessionId;
        this.identity = identity;
        this.arrivedByMigration = migrated;
        this.remote = remote;
        this.local = local;
        this.input = new SessionInputStream(this);
        this.output = new SessionOutputStream(this);
    }

    @Override
    protected int readTimeoutMillis() {
        return readTimeout;
    }

    /** @return the TRIGGER tracker, made at the first TRIGGER (most sessions never have one); session lock held */
    private TriggerTracker triggers() {
        TriggerTracker t = trigger;
        if (t == null) {
            t = trigger = new TriggerTracker(this, server, lock());
        }
        return t;
    }

    /**
     * A new session over a classified connection, its session key agreed with the client's HELLO
     * (nothing secret is sent); loop thread.
     *
     * @return the session and the HELLO_ACK to answer with ({@link #sendFirst})
     */
    static Created create(Server server, SocketChannel ch, SelectionKey selectionKey, InetSocketAddress remote,
                          InetSocketAddress local, Message.Hello hello, InetSocketAddress identity,
                          List<InetSocketAddress> alternates) throws ProtocolException {
        X25519.Ephemeral ephemeral = X25519.ephemeral();
        byte[] shared = ephemeral.agree(hello.clientPublic());
        ServerSession s = new ServerSession(server, Proofs.random(Wire.SESSION_ID_SIZE), identity, false, 0, 0, remote, local);
        s.lock().lock();
        try {
            s.startFlow(hello.credit());
            Message.HelloAck ack = new Message.HelloAck(s.sessionId, ephemeral.publicKey(), s.creditSent(), identity, alternates);
            s.key = KeySchedule.sessionKey(shared, Message.payload(hello), Message.payload(ack));
            s.attachRegistered(s.newLink(ch, 0, remote, ControlSeal.server(s.key)), selectionKey);
            return new Created(s, ack);
        } finally {
            s.lock().unlock();
        }
    }

    /** A session and the first frame to send it. */
    record Created(ServerSession session, Message first) {
    }

    /**
     * A session arriving by migration, from the origin's state, under the key rotated with the
     * client's request; loop thread.
     *
     * @param shared the X25519 secret of {@code ephemeral} and the request's public key
     * @return the session and the MIGRATE_ACK to answer with ({@link #sendFirst})
     */
    static Created fromState(Server server, SessionState st, SocketChannel ch, SelectionKey selectionKey,
                             InetSocketAddress remote, InetSocketAddress local, Message.MigrateRequest request,
                             X25519.Ephemeral ephemeral, byte[] shared, InetSocketAddress identity,
                             List<InetSocketAddress> alternates) {
        ServerSession s = new ServerSession(server, st.sessionId, identity, true, 0, st.upSnap, remote, local);
        s.lock().lock();
        try {
            s.key = KeySchedule.rotatedKey(st.key, shared, Message.payload(request));
            s.install(st);
            s.startFlow(request.credit());
            s.attachRegistered(s.newLink(ch, st.upResume, remote, ControlSeal.server(s.key)), selectionKey);
            return new Created(s, s.migrateAck(request, ephemeral.publicKey(), alternates));
        } finally {
            s.lock().unlock();
        }
    }

    /**
     * @return the MIGRATE_ACK for {@code request} that resumes the streams where this session holds them, confirmed
     *         under the current (rotated) key; session lock held
     */
    private Message.MigrateAck migrateAck(Message.MigrateRequest request, byte[] serverPublic, List<InetSocketAddress> alternates) {
        Message.MigrateAck unconfirmed = new Message.MigrateAck(heldValue(), sendHead(), creditSent(), identity, alternates,
                serverPublic, new byte[Wire.PROOF_SIZE]);
        releasedTo(unconfirmed.upResume()); // the client resumes there: it forgets what it sent below
        return new Message.MigrateAck(unconfirmed.upResume(), unconfirmed.downResume(), unconfirmed.credit(), identity, alternates,
                serverPublic, Proofs.ackConfirmation(key, request, unconfirmed.confirmed()));
    }

    private void install(SessionState st) {
        migrationSeq = st.migrationSeq;
        migrations = st.migrations + 1;
        inheritedSentLimit = st.downSentLimit;
        appState = st.appState;
        install(ledger.install(st), st);
    }

    @Override
    protected String linkName(InetSocketAddress client) {
        return "session " + hexId().substring(0, 8) + " from " + client;
    }

    @Override
    public String describe() {
        return "MTCP session " + hexId().substring(0, 8) + " of client " + remote + " on " + server.identity();
    }

    /** @return the session id */
    byte[] sessionId() {
        return sessionId;
    }

    /** @return the session id in hex, made on each call (messages and events only; an idle session's bytes count) */
    String hexId() {
        return Proofs.hex(sessionId);
    }

    /** Sends the handshake's answer (HELLO_ACK or MIGRATE_ACK, not sealed), before anything else on the link; loop thread. */
    void sendFirst(Message m) throws IOException {
        lock().lock();
        try {
            if (!sendHandshake(m)) {
                throw new IOException("no room for the handshake answer on " + describe());
            }
        } finally {
            lock().unlock();
        }
    }

    @Override
    protected String extraDebugState() {
        return "; " + (outgoing != null ? "frozen for " + outgoing.destination() + ";" : "") + " snap up " + ledger.upSnap()
                + " down " + ledger.downSnap() + " write " + ledger.downWrite() + " skip " + ledger.downSkipUntil()
                + (ledger.logOverflowed() ? " log-overflowed" : "") + (arrivedByMigration ? " migrated" : "");
    }

    // ================================================================== Accepted

    @Override
    public InetSocketAddress remote() {
        return remote;
    }

    @Override
    public InetSocketAddress local() {
        return local;
    }

    @Override
    public InputStream input() {
        return input;
    }

    @Override
    public OutputStream output() {
        return output;
    }

    @Override
    public void setReadTimeout(int timeoutMillis) {
        readTimeout = timeoutMillis;
    }

    @Override
    public boolean migrated() {
        return arrivedByMigration;
    }

    @Override
    public <T> void setOption(SocketOption<T> name, T value) throws IOException {
        lock().lock();
        try {
            checkMoved();
            if (isClosing()) {
                throw new SocketException("Socket is closed (" + describe() + ")");
            }
            SocketChannel ch = linkChannel();
            if (ch != null && !linkDead()) {
                ch.setOption(name, value);
            }
            // no live connection under the session (it ended, or is being replaced): nothing to apply the option to
        } catch (java.nio.channels.ClosedChannelException e) {
            // the connection under the session closed meanwhile: the socket itself is open, as a JDK socket would be
        } finally {
            lock().unlock();
        }
    }

    @Override
    public void exportState(byte[] state) throws IOException {
        if (state.length > Settings.MAX_STATE_BYTES) {
            throw new IllegalArgumentException("application state of " + state.length + " bytes exceeds the limit of "
                    + Settings.MAX_STATE_BYTES + " (mtcp.maxStateBytes) on " + describe());
        }
        byte[] copy = state.clone();
        lock().lock();
        try {
            checkMoved();
            checkOpen();
            appState = copy;
            ledger.snapshot(readOffset(), finQueued());
            trimReadLog(ledger.upSnap()); // the read log restarts at the snapshot
        } finally {
            lock().unlock();
        }
    }

    @Override
    public byte[] importState() throws IOException {
        lock().lock();
        try {
            checkMoved();
            return appState.clone();
        } finally {
            lock().unlock();
        }
    }

    /**
     * @return {@link MigrationEvent.Initiation#SERVER_TRIGGER} once this server has asked the client to
     *         move, else {@link MigrationEvent.Initiation#UNKNOWN} (the client's own decision: its
     *         application or its policy, which the server cannot tell apart)
     */
    MigrationEvent.Initiation initiation() {
        return triggered ? MigrationEvent.Initiation.SERVER_TRIGGER : MigrationEvent.Initiation.UNKNOWN;
    }

    @Override
    public void trigger(InetSocketAddress to) throws IOException {
        move(to);
    }

    /**
     * Sends the client a TRIGGER (thesis 3.2.1) to {@code to}, or to an alternate of its choice.
     *
     * @return completes with this server's committed migration event once the session has moved, or
     *         exceptionally with a {@link MigrationException} that says why it did not ({@link TriggerTracker})
     * @throws IOException when no TRIGGER could be sent: the session is closed, moved, or its client not reading
     */
    public CompletableFuture<MigrationEvent> move(InetSocketAddress to) throws IOException {
        if (to != null && !server.alternates().contains(to) && !to.equals(server.identityFor(local))) { // itself: a no-op
            throw new IllegalArgumentException("cannot trigger a migration of " + describe() + " to " + to
                    + ": its client follows a trigger only to an advertised server (ADDITIONAL_SERVERS " + server.alternates() + ")");
        }
        lock().lock();
        try {
            checkMoved();
            checkOpen();
            if (outgoing != null) {
                return triggers().alreadyMigrating(to, outgoing.destination());
            }
            CompletableFuture<MigrationEvent> same = trigger == null ? null : trigger.pendingTo(to);
            if (same != null) {
                return same;
            }
            noDelay(link());
            if (!sendControl(new Message.Trigger(to))) {
                throw new MigrationException("cannot trigger a migration of " + describe() + ": the client is not reading",
                        Reason.OTHER, true, null);
            }
            triggered = true;
            return triggers().sent(to);
        } finally {
            lock().unlock();
        }
    }

    /**
     * Tells the client the server's alternates changed (sealed ALTERNATES), so that a server that joined is a
     * TRIGGER target for this live session too; best effort (a client not reading gets it with its next
     * migration's MIGRATE_ACK, or never needs it); any thread.
     */
    void advertise(List<InetSocketAddress> alternates) {
        lock().lock();
        try {
            if (lifecycle() != Lifecycle.OPEN || outgoing != null || link() == null) {
                return;
            }
            if (!sendControl(new Message.Alternates(alternates))) {
                log.debug("{}: no room to tell the client the new alternates {}", this, alternates);
            }
        } catch (IOException e) {
            log.debug("{}: could not tell the client the new alternates: {}", this, e.getMessage());
        } finally {
            lock().unlock();
        }
    }

    @Override
    protected void onTriggerResult(Link l, Message.TriggerResult m) {
        if (l == link() && trigger != null) {
            trigger.result(m);
        }
    }

    /** A transfer of this session ended and its event was recorded: a pending TRIGGER has its outcome; any thread. */
    void transferEnded(MigrationEvent e) {
        lock().lock();
        try {
            if (trigger != null) {
                trigger.settled(e);
            }
        } finally {
            lock().unlock();
        }
    }

    /** @return what {@code MtcpServerSocket.sessions()} lists of this session */
    public org.mtcp.server.SessionInfo info() {
        lock().lock();
        try {
            boolean movable = lifecycle() == Lifecycle.OPEN && outgoing == null && !triggerPendingLocked();
            return new org.mtcp.server.SessionInfo(hexId(), remote, arrivedByMigration, readOffset(), ledger.downWrite(), migrations,
                    movable);
        } finally {
            lock().unlock();
        }
    }

    /** The session ended or its client's connection is gone for good: pending TRIGGERs fail with {@code why}; session lock held. */
    private void endTriggers(String why) {
        if (trigger != null) {
            trigger.ended(why);
        }
    }

    private boolean triggerPendingLocked() {
        return trigger != null && trigger.pending();
    }

    /** @return whether a TRIGGER this server sent still waits for its outcome */
    boolean triggerPending() {
        lock().lock();
        try {
            return triggerPendingLocked();
        } finally {
            lock().unlock();
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        lock().lock();
        try {
            checkWritable();
            int skip = ledger.skipOnWrite(len); // the client has these bytes from before the migration
            countDuplicates(skip);
            off += skip;
            len -= skip;
            if (len > 0) {
                writeLocked(b, off, len);
            }
        } finally {
            lock().unlock();
        }
    }

    @Override
    protected void afterAppend(int n) {
        ledger.appended(n);
    }

    @Override
    public void shutdownOutput() throws IOException {
        lock().lock();
        try {
            checkMoved();
            if (endsWithAFinTheClientHas()) {
                return;
            }
        } finally {
            lock().unlock();
        }
        super.shutdownOutput();
    }

    /**
     * The application ends a stream whose FIN the client had before the migration: it counts as sent
     * and acknowledged, and nothing is sent (a FIN sent again would sit past the stream's real end).
     *
     * @return whether that was so; session lock held
     */
    private boolean endsWithAFinTheClientHas() {
        if (!finQueued() && ledger.finAlreadyDelivered()) {
            finDeliveredBefore();
            return true;
        }
        return false;
    }

    @Override
    protected void beforeCloseEndsOutput() {
        endsWithAFinTheClientHas();
    }

    // ================================================================== SessionCore hooks

    @Override
    protected boolean canSendData() {
        return outgoing == null && isLive();
    }

    @Override
    protected boolean canReadLink() {
        return outgoing == null && isLive();
    }

    @Override
    protected void checkReadable() throws IOException {
        checkMoved();
        super.checkReadable();
    }

    @Override
    protected void checkWritable() throws IOException {
        checkMoved();
        super.checkWritable();
    }

    @Override
    protected boolean readMustWait() {
        return outgoing != null;
    }

    private void checkMoved() throws ConnectionMigratedException {
        if (lifecycle() == Lifecycle.MOVED) {
            throw new ConnectionMigratedException(describe() + " migrated to " + movedTo
                    + "; this copy of the application should stop serving it");
        }
    }

    @Override
    protected long releaseValue() {
        // frozen: the packed state ends at the release sent so far. The application may still read what it holds
        // (the destination replays it from the snapshot), but the client must keep those bytes for the destination
        return outgoing != null ? releaseSent() : releaseOfWhatWasRead();
    }

    @Override
    protected boolean ackBeyondSent(long ack) {
        // beta (thesis 4.2.3): the client got more from the previous server than it said in its request; the
        // application writes those bytes again, they are sent, and the client drops them. Never more than the
        // earlier servers sent it: anything beyond is forged (DATA and ACK are not authenticated, as in TCP)
        return ack <= inheritedSentLimit;
    }

    @Override
    protected void afterApplicationRead(int n) {
        long trim = ledger.afterRead(logStart(), readOffset(), Settings.READ_LOG_LIMIT);
        if (trim >= 0) {
            trimReadLog(trim); // too much read since the last export: no log; migratable again after the next export
        }
    }

    @Override
    protected void onMoved(Link l) {
        // the client switched to another server. That counts only where a commit is possible: while a
        // destination holds the state, or after a transfer whose outcome a broken control connection hid
        OutgoingTransfer t = outgoing != null ? outgoing : lastTransfer;
        if (t == null || !t.commit("the client says it moved")) {
            log.warn("{}: ignored a MOVED: no migration of this session could have committed", this);
        }
    }

    @Override
    protected void onLinkLost(Link l, IOException cause) {
        if (l != link() || outgoing != null || lifecycle() == Lifecycle.MOVED) {
            return; // a frozen session learns its fate from the destination (or waits for its client after an abort)
        }
        if (awaitResume(l, cause)) {
            return;
        }
        connectionEnded(cause, "the connection from client " + remote);
        endTriggers("the connection from its client was lost");
    }

    /**
     * The connection broke without the client's end of stream (a reset, an abort, an end without the
     * library's FIN): keep the session for the grace period, during which the client reconnects and resumes
     * it; the application's calls just wait. Session lock held.
     *
     * @return whether the session now waits (else it ends as a plain socket's connection ends)
     */
    private boolean awaitResume(Link l, IOException cause) {
        long grace = server.resumeGraceMillis();
        Lifecycle now = lifecycle();
        if (grace <= 0 || peerFinished() || (now != Lifecycle.OPEN && now != Lifecycle.CLOSING)) {
            return false;
        }
        brokenBecause = cause == null ? "it ended without the client's end of stream" : cause.getMessage();
        log.debug("{}: connection lost ({}); waiting {} ms for the client to resume", this, brokenBecause, grace);
        if (resumeDeadline != null) {
            resumeDeadline.cancel();
        }
        resumeDeadline = loop().schedule(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(grace), () -> resumeGraceOver(l, grace));
        wake();
        return true;
    }

    /**
     * @return the key that proves a request: the session key, or the one before the last resume while the client
     *         may not have heard that resume's answer; {@code null} for none. Session lock held.
     */
    private byte[] keyProving(long seq, InetSocketAddress destination, long downReceived, long credit, byte[] clientPublic,
                              byte[] proof) {
        if (Proofs.verify(key, sessionId, seq, identity, destination, downReceived, credit, clientPublic, proof)) {
            return key;
        }
        if (keyBeforeResume != null && Proofs.verify(keyBeforeResume, sessionId, seq, identity, destination, downReceived, credit,
                clientPublic, proof)) {
            return keyBeforeResume;
        }
        return null;
    }

    @Override
    protected void onLinkHeard(Link l) {
        if (l == link()) {
            keyBeforeResume = null; // the client uses the new connection: it has the new key
        }
    }

    /** The grace period after the connection broke has passed; loop thread. */
    private void resumeGraceOver(Link broken, long grace) {
        MigrationEvent failed = null;
        lock().lock();
        try {
            if (link() != broken || outgoing != null || resumeDeadline == null) {
                return; // resumed, or migrating away
            }
            resumeDeadline = null;
            String why = "the client of " + describe() + " did not come back within " + grace + " ms (MTCP_RESUME_GRACE) after"
                    + " its connection was lost: " + brokenBecause;
            log.info("{}", why);
            endTriggers("its client did not come back");
            if (lifecycle() == Lifecycle.CLOSING) {
                released(); // the application closed it already: nothing to tell it
            } else {
                fail(new SocketException(why));
            }
            failed = new MigrationEvent(MigrationEvent.Role.DESTINATION, MigrationEvent.Initiation.RESUME, hexId(), identity, identity,
                    new MigrationException(why, Reason.TIMEOUT, false, null), 0, 0, 0, java.util.Map.of());
        } finally {
            lock().unlock();
        }
        server.recorder.record(failed);
    }

    /**
     * The client reconnected after its connection broke (or it thinks so: a path it found silent) and asks
     * for the session on the new connection: a migration whose origin and destination are this server, with
     * the same proof, sequence check and key rotation. Drops the old connection, replays what the client
     * lacks, and answers with a MIGRATE_ACK, the first frame on the new connection; loop thread.
     *
     * @throws MigrationException the reason to refuse (the session goes on waiting for a good request)
     */
    Created resume(Message.MigrateRequest request, SocketChannel ch, SelectionKey selectionKey, InetSocketAddress from)
            throws MigrationException {
        long seq = request.sequence();
        lock().lock();
        try {
            byte[] base = keyProving(seq, request.destination(), request.downReceived(), request.credit(), request.clientPublic(),
                    request.proof());
            if (base == null) {
                throw new MigrationException("resume request for " + describe() + " from " + from + " carries a wrong proof",
                        Reason.NOT_AUTHORIZED, true, null);
            }
            if (seq <= migrationSeq) {
                throw new MigrationException("resume request for " + describe() + " replays sequence " + seq + " (last "
                        + migrationSeq + ")", Reason.NOT_AUTHORIZED, true, null);
            }
            if (outgoing != null) {
                throw new MigrationException(describe() + " is migrating to " + outgoing.destination() + "; resume after it ends",
                        Reason.INVALID_STATE, true, null);
            }
            Lifecycle now = lifecycle();
            if (now != Lifecycle.OPEN && now != Lifecycle.PEER_DONE && now != Lifecycle.CLOSING) {
                throw new MigrationException(describe() + " cannot resume in state " + now, Reason.INVALID_STATE, false, null);
            }
            if (server.resumeGraceMillis() <= 0) {
                // Resuming is off: the client (its proof is right) says its connection broke, so the session ends as a
                // plain socket's connection would, although the reset has not reached this end (a relay, or a loaded
                // machine, can deliver the client's new connection first).
                connectionEnded(new java.net.SocketException("Connection reset"), "the connection from client " + remote);
                endTriggers("the connection from its client was lost");
                throw new MigrationException(describe() + " ended with its connection: resuming is off here (MTCP_RESUME_GRACE 0)",
                        Reason.INVALID_STATE, false, null);
            }
            ResumeLedger.ClientResume replay = clientResume(request.downReceived(), heldValue());
            if (replay == null) {
                throw new MigrationException("client of " + describe() + " claims " + request.downReceived()
                        + " bytes, outside what this server sent (from " + sendHead() + ")", Reason.PROTOCOL_ERROR, true, null);
            }
            X25519.Ephemeral ephemeral = X25519.ephemeral();
            byte[] shared;
            try {
                shared = ephemeral.agree(request.clientPublic());
            } catch (ProtocolException e) {
                throw new MigrationException("the client's key for resuming " + describe() + " is unusable: " + e.getMessage(),
                        Reason.PROTOCOL_ERROR, true, e);
            }
            migrationSeq = seq;
            keyBeforeResume = base;
            key = KeySchedule.rotatedKey(base, shared, Message.payload(request));
            if (resumeDeadline != null) {
                resumeDeadline.cancel();
                resumeDeadline = null;
            }
            closeLinkNow(false); // a connection the client found silent may still be open here: it is done either way
            resendFrom(replay, request.credit(), Math.max(creditSent(), creditValue()), -1);
            long upFrom = heldValue() - (peerFinished() ? 1 : 0);
            attachRegistered(newLink(ch, upFrom, from, ControlSeal.server(key)), selectionKey);
            Message.MigrateAck ack = migrateAck(request, ephemeral.publicKey(), server.alternates());
            // counted before the client hears of it (IncomingTransfer.resume tells the listeners after)
            server.recorder.countCommitted(MigrationEvent.Initiation.RESUME, 0, 0);
            try {
                if (!sendHandshake(ack)) {
                    throw new IOException("no room for the answer");
                }
                flushLocked();
            } catch (IOException e) {
                // the new connection broke already: the session waits for the next one
                log.debug("{}: could not answer the resume from {}: {}", this, from, e.toString());
            }
            resumes++;
            log.debug("{}: resumed on a new connection from {} (resume {})", this, from, resumes);
            wake();
            if (hasPendingOutput()) {
                needAttention();
            }
            return new Created(this, ack);
        } finally {
            lock().unlock();
        }
    }

    @Override
    protected void released() {
        if (resumeDeadline != null) {
            resumeDeadline.cancel();
            resumeDeadline = null;
        }
        if (lifecycle() != Lifecycle.MOVED) {
            endTriggers("it was closed");
        }
        server.recorder.duplicatesDropped(takeDroppedDuplicates());
        super.released();
        server.forget(this);
    }

    // ================================================================== origin side of a migration

    /**
     * Answers a STATE_REQUEST: checks the request, freezes the session and packs its state.
     *
     * @return the serialized state to send, never {@code null}
     * @throws MigrationException the reason to reject the request
     */
    SessionState freezeAndPack(OutgoingTransfer transfer, Message.StateRequest request) throws MigrationException {
        long seq = request.sequence();
        long clientDownReceived = request.downReceived();
        lock().lock();
        try {
            // the proof first: a request without it learns nothing of the session's state
            byte[] provedBy = keyProving(seq, request.destination(), clientDownReceived, request.credit(), request.clientPublic(),
                    request.proof());
            if (provedBy == null) {
                throw new MigrationException("migration request for " + describe() + " to " + request.destination()
                        + " carries a wrong proof (not made by this session's client for this origin, destination and offsets)",
                        Reason.NOT_AUTHORIZED, true, null);
            }
            if (outgoing != null) {
                throw new MigrationException(describe() + " is already migrating", Reason.INVALID_STATE, true, null);
            }
            Lifecycle now = lifecycle();
            if (now != Lifecycle.OPEN || link() == null) {
                throw new MigrationException(describe() + " cannot migrate in state " + now,
                        Reason.INVALID_STATE, now == Lifecycle.PEER_DONE, null);
            }
            if (seq <= migrationSeq) {
                throw new MigrationException("migration request for " + describe() + " replays sequence " + seq
                        + " (last " + migrationSeq + ")", Reason.NOT_AUTHORIZED, true, null);
            }
            if (ledger.logOverflowed()) {
                throw new MigrationException(describe() + " read more than " + Settings.READ_LOG_LIMIT
                        + " bytes since its last export: the read log overflowed; it can migrate after the next export",
                        Reason.LOG_OVERFLOW, true, null);
            }
            ResumeLedger.Pack pack = pack(ledger, clientDownReceived, inheritedSentLimit);
            if (pack == null) {
                throw new MigrationException("client claims " + clientDownReceived + " bytes of " + describe()
                        + ", more than were sent (earlier servers sent up to " + inheritedSentLimit + ")",
                        Reason.PROTOCOL_ERROR, true, null);
            }
            migrationSeq = seq;
            SessionState st = new SessionState();
            st.sessionId = sessionId;
            st.key = provedBy; // the key the client has (the one before a resume whose answer it missed)
            st.migrationSeq = seq;
            st.migrations = migrations;
            st.appState = appState;
            st.upSnap = pack.upFrom();
            st.upFin = pack.upFin();
            st.upResume = pack.upResume();
            st.downSnap = ledger.downSnap();
            st.downSeen = pack.downSeen();
            st.downFinAtSnap = ledger.downFinAtSnap();
            st.downSentLimit = Math.max(Math.max(sentLimit(), inheritedSentLimit), st.downSeen);
            copyPacked(pack, st);
            outgoing = transfer;
            lastTransfer = transfer;
            log.debug("{}: frozen, state requested by {}", this, transfer.destination());
            // not the pump: a frozen session's link is not read (canReadLink), so a pump woken now would only go to
            // wait on the condition instead, one wake-up more per migration; the commit or the abort wakes it
            wakeWaiters();
            return st;
        } finally {
            lock().unlock();
        }
    }

    /** The session committed to another server ({@link OutgoingTransfer#commit}, or MOVED): this copy is done. */
    void moved(InetSocketAddress destination) {
        lock().lock();
        try {
            if (lifecycle() == Lifecycle.MOVED || lifecycle() == Lifecycle.CLOSED) {
                return;
            }
            movedTo = destination;
            outgoing = null;
            server.moves.movedOut(this); // counted before it shows as moved: a drain's pass that sees it gone has counted it
            state(Lifecycle.MOVED, "committed elsewhere");
            closeLinkMoved(); // the client knows then that the session is not here to resume, whatever its migration shows
            released();
        } finally {
            lock().unlock();
        }
    }

    /** The destination gave up, or the transfer's deadline passed ({@link OutgoingTransfer#abort}): serve on. */
    void unfreeze(OutgoingTransfer transfer, String why) {
        lock().lock();
        try {
            if (outgoing != transfer) {
                return;
            }
            outgoing = null;
            log.debug("{}: unfrozen: {}", this, why);
            wake();
            if (linkDead()) {
                if (!awaitResume(link(), new SocketException("connection from client " + remote + " was lost while " + describe()
                        + " was migrating"))) {
                    fail(new SocketException("connection from client " + remote + " was lost while " + describe() + " was migrating"));
                }
            } else {
                try {
                    flushLocked();
                } catch (IOException e) {
                    fail(e);
                }
                needAttention();
            }
        } finally {
            lock().unlock();
        }
    }


    /** @return whether the application closed the session or it ended; takes the session lock */
    public boolean isClosed() {
        lock().lock();
        try {
            return isClosing() || lifecycle() == Lifecycle.MOVED;
        } finally {
            lock().unlock();
        }
    }

    /** @return whether this copy is frozen for a transfer to {@code destination}, which may have committed already */
    boolean leavingFor(InetSocketAddress destination) {
        lock().lock();
        try {
            return outgoing != null && outgoing.destination().equals(destination);
        } finally {
            lock().unlock();
        }
    }

    /** @return whether the session can be asked to migrate now (for drains) */
    boolean migratable() {
        lock().lock();
        try {
            return lifecycle() == Lifecycle.OPEN && outgoing == null;
        } finally {
            lock().unlock();
        }
    }
}
