package org.mtcp.client.internal;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.client.MigrationPolicy;
import org.mtcp.internal.crypto.ControlSeal;
import org.mtcp.internal.crypto.KeySchedule;
import org.mtcp.internal.crypto.X25519;
import org.mtcp.internal.io.ChannelStreams;
import org.mtcp.internal.io.EventLoop;
import org.mtcp.internal.observe.MigrationRecorder;
import org.mtcp.internal.session.BlockingIo;
import org.mtcp.internal.session.Lifecycle;
import org.mtcp.internal.session.Link;
import org.mtcp.internal.session.Proofs;
import org.mtcp.internal.session.ResumeLedger;
import org.mtcp.internal.session.SessionCore;
import org.mtcp.internal.session.Settings;
import org.mtcp.internal.wire.Frames;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.ProtocolException;
import org.mtcp.internal.wire.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The client end of a session: the only initiator of migrations (thesis 3.2.1). It keeps every byte
 * it sent until the current server acknowledges it, drops server bytes it already has, and moves
 * the session with the steps of thesis 4.2.3: connect to the destination, MIGRATE_REQ, wait for
 * MIGRATE_ACK, switch (retransmit from the destination's resume offset).
 *
 * <p>Its life is the shared {@link Lifecycle}; a migration under way is a {@link ClientMigration},
 * during which new data waits and the old server still delivers.
 */
public final class ClientSession extends SessionCore {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    /**
     * Background migrations (server triggers, policy) run here: a few threads at most, idle ones end. A migration
     * blocks its thread through three round trips, so a process with many sessions (a proxy, a drained server's
     * clients behind one NAT host) needs several in flight to keep a CPU busy: {@value #MIGRATION_THREADS}.
     */
    private static final ExecutorService MIGRATIONS = newMigrationExecutor();
    private static final int MIGRATION_THREADS = 8;

    // ---- immutable ----
    /** The session's identifier, given by the first server. */
    private final byte[] sessionId;
    /** Where the session came from, for local binding of new connections. */
    private final SocketAddress localBind;
    /** Applies the socket's options to every connection the session opens. */
    private final Consumer<SocketChannel> channelSetup;
    /** Tells the socket of each switch, for its addresses. */
    private final SwitchListener switchListener;
    /** Where migration outcomes go (owned by the socket; thread-safe). */
    private final MigrationRecorder recorder;

    // ---- every field below is guarded by the session lock ----
    /** The session key: proves this client's migration requests; rotated at every migration. */
    private byte[] key;
    /** The current server's service address (its identity). */
    private InetSocketAddress server;
    /** The address actually dialled for the current connection. */
    private InetSocketAddress connectedTo;
    /** Alternates the current server advertised. */
    private List<InetSocketAddress> alternates;
    /** Sequence number of the last migration request; each request uses a higher one. */
    private long migrationSeq;
    /** Decides by itself when to migrate, or {@code null}. */
    private MigrationPolicy policy;
    /** The migration under way, or {@code null}. */
    private ClientMigration migration;
    /**
     * A background migration (TRIGGER or policy) is queued or running: a TRIGGER that comes meanwhile is
     * answered SUPERSEDED at once, as during a migration, instead of queueing a second one.
     */
    private boolean backgroundMigration;
    /**
     * The connection under the session broke and the session is being resumed over a new one (thesis-style: a
     * migration to the server it is on, or to an alternate when that one is unreachable); reads wait for it.
     */
    private boolean resuming;
    /** When the connection broke and why, for the resume's deadline and its failure. */
    private long brokenAt;
    private IOException brokenBy;

    /** Told when the session switches connections, so the socket can show its new addresses. */
    public interface SwitchListener {
        /**
         * @param server     the new server's service address
         * @param remote     the address actually connected to
         * @param localPort  the new connection's local port
         */
        void switched(InetSocketAddress server, InetSocketAddress remote, int localPort);
    }

    private ClientSession(EventLoop loop, byte[] sessionId, byte[] key, InetSocketAddress server,
                          InetSocketAddress connectedTo, List<InetSocketAddress> alternates, SocketAddress localBind,
                          Consumer<SocketChannel> channelSetup, SwitchListener switchListener,
                          MigrationRecorder recorder, MigrationPolicy policy) {
        super(loop, 0, 0, Settings.SEND_WINDOW, Settings.RECEIVE_WINDOW);
        this.sessionId = sessionId;
        this.key = key;
        this.server = server;
        this.connectedTo = connectedTo;
        this.alternates = alternates;
        this.localBind = localBind;
        this.channelSetup = channelSetup;
        this.switchListener = switchListener;
        this.recorder = recorder;
        this.policy = policy;
    }

    /**
     * Connects to an MTCP server and runs the handshake.
     *
     * @param to             the server
     * @param localBind      local address to bind, or {@code null}
     * @param timeoutMillis  connect and handshake timeout, 0 for the default
     * @param channelSetup   applies the socket's options to every connection the session opens
     * @param switchListener told about every switch of connection
     * @param recorder       where migration outcomes go (owned by the socket)
     * @param policy         the migration policy, or {@code null}
     */
    public static ClientSession connect(InetSocketAddress to, SocketAddress localBind, int timeoutMillis,
                                        Consumer<SocketChannel> channelSetup, SwitchListener switchListener,
                                        MigrationRecorder recorder, MigrationPolicy policy) throws IOException {
        return connect(to, null, localBind, timeoutMillis, channelSetup, switchListener, recorder, policy);
    }

    /**
     * As {@link #connect(InetSocketAddress, SocketAddress, int, Consumer, SwitchListener, MigrationRecorder, MigrationPolicy)},
     * the first connection over {@code own}: the socket's own channel, opened when the socket was created and
     * bound when the application bound it (so that {@code bind} binds at once, as with JDK sockets). The
     * connections of later migrations bind to {@code localBind}. A failed connect closes {@code own}.
     *
     * @param own an open channel, unconnected (maybe bound) or connected to {@code to} already, or {@code null} to
     *            open one bound to {@code localBind}
     */
    public static ClientSession connect(InetSocketAddress to, SocketChannel own, SocketAddress localBind, int timeoutMillis,
                                        Consumer<SocketChannel> channelSetup, SwitchListener switchListener,
                                        MigrationRecorder recorder, MigrationPolicy policy) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(
                timeoutMillis > 0 ? timeoutMillis : Settings.HANDSHAKE_TIMEOUT_MILLIS);
        // the handshake is ready before the connection: the server hears it as soon as it accepts, well within
        // its plain-client wait, however long the first key generation of this JVM takes
        X25519.Ephemeral ephemeral = X25519.ephemeral();
        Message.Hello hello = new Message.Hello(0, Settings.RECEIVE_WINDOW, ephemeral.publicKey());
        ByteBuffer opening = Frames.opening(Wire.MAGIC, hello);
        SocketChannel ch;
        if (own == null) {
            ch = BlockingIo.connect(to, localBind, deadline);
        } else {
            try {
                if (!own.isConnected()) {
                    org.mtcp.internal.io.ChannelStreams.connect(own, to, deadline, null);
                }
            } catch (IOException | RuntimeException e) {
                own.close();
                throw e;
            }
            ch = own;
        }
        try {
            channelSetup.accept(ch);
            keepAlive(ch);
            BlockingIo.writeFully(ch, opening, deadline, "the MTCP handshake to " + to);
            Message answer;
            try {
                answer = BlockingIo.readMessage(ch, deadline, Wire.MAX_CONTROL_PAYLOAD_ON_DATA, "the MTCP handshake answer from " + to);
            } catch (SocketTimeoutException e) {
                throw new SocketTimeoutException("server " + to + " did not answer the MTCP handshake in time: its accept queue"
                        + " is full (the application is not accepting), or it does not speak MTCP");
            }
            if (answer instanceof Message.Error) {
                throw new SocketException("server " + to + " refused the session: " + ((Message.Error) answer).message());
            }
            if (!(answer instanceof Message.HelloAck)) {
                throw new ProtocolException("server " + to + " answered the MTCP handshake with " + Wire.typeName(answer.type())
                        + ": it does not speak MTCP");
            }
            Message.HelloAck ack = (Message.HelloAck) answer;
            byte[] id = ack.sessionId();
            byte[] key = KeySchedule.sessionKey(ephemeral.agree(ack.serverPublic()), Message.payload(hello), Message.payload(ack));
            long credit = ack.credit();
            InetSocketAddress serverId = ack.server();
            List<InetSocketAddress> alternates = ack.alternates();
            ClientSession s = new ClientSession(EventLoop.next(), id, key, serverId, to, alternates, localBind,
                    channelSetup, switchListener, recorder, policy);
            s.lock().lock();
            try {
                s.startFlow(credit);
                s.attach(s.newLink(ch, 0, to, ControlSeal.client(key)));
            } finally {
                s.lock().unlock();
            }
            log.debug("session {} connected to {} (alternates {})", s.sessionHex(), serverId, alternates);
            return s;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    @Override
    protected String linkName(InetSocketAddress to) {
        return "session " + sessionHex().substring(0, 8) + " to " + to;
    }

    @Override
    public String describe() {
        return "MTCP session " + sessionHex().substring(0, 8) + " to " + server;
    }

    /** @return the session identifier in hex */
    public String sessionId() {
        return sessionHex();
    }

    /** Made on each call: it names the session in logs and events only, and an idle session's bytes count. */
    private String sessionHex() {
        return Proofs.hex(sessionId);
    }

    /** @return the service address of the server the session is on */
    public InetSocketAddress server() {
        lock().lock();
        try {
            return server;
        } finally {
            lock().unlock();
        }
    }

    /** @return the alternates the current server advertised */
    public List<InetSocketAddress> alternates() {
        lock().lock();
        try {
            return alternates;
        } finally {
            lock().unlock();
        }
    }

    /** @param p the migration policy, or {@code null} */
    public void setPolicy(MigrationPolicy p) {
        lock().lock();
        try {
            policy = p;
        } finally {
            lock().unlock();
        }
    }

    @Override
    protected String extraDebugState() {
        return "; on " + server + (migration != null ? ", migrating" : "");
    }

    // ================================================================== SessionCore hooks

    @Override
    protected boolean canSendData() {
        return migration == null;
    }

    @Override
    protected boolean canReadLink() {
        return isLive();
    }

    @Override
    protected void onTrigger(Link l, Message.Trigger m) {
        InetSocketAddress to = m.destination();
        if (to != null && !alternates.contains(to) && !to.equals(server) && !to.equals(connectedTo)) { // here: a no-op
            // a server sends its clients only where it said they may go: anything else was not sent by it
            MigrationException refused = new MigrationException("ignored a TRIGGER of " + describe() + " to " + to + ", which "
                    + server + " did not advertise (alternates " + alternates + "); the session stays on " + server,
                    Reason.NOT_AUTHORIZED, true, null);
            log.warn("{}", refused.getMessage());
            triggerResult(Message.TriggerResult.Outcome.REFUSED, refused.reason(), to, refused.getMessage());
            MigrationEvent event = new MigrationEvent(MigrationEvent.Role.CLIENT, MigrationEvent.Initiation.SERVER_TRIGGER,
                    sessionHex(), server, to, refused, 0, 0, 0, Map.of());
            loop().execute(() -> report(event)); // the policy and the listeners run with no session lock held
            return;
        }
        if (l != link()) {
            return; // from a connection the session has left: its server hears of the switch
        }
        if (migration != null || backgroundMigration) {
            triggerResult(Message.TriggerResult.Outcome.SUPERSEDED, Reason.SUPERSEDED, to, // the TRIGGER's: it names which
                    "a migration of " + describe() + (migration != null ? " to " + migration.destination() : "")
                            + " was already under way");
            return;
        }
        startBackground(to, MigrationEvent.Initiation.SERVER_TRIGGER);
    }

    @Override
    protected void onAlternates(Link l, Message.Alternates m) {
        if (l == link() && migration == null) { // during a migration the destination's MIGRATE_ACK says
            alternates = List.copyOf(m.alternates());
            log.debug("{}: {} now advertises {}", this, server, alternates);
        }
    }

    /**
     * Tells the server that sent a TRIGGER what became of it, when it did not move the session away (a
     * move does not need telling: the server takes part in it); best effort, session lock held.
     */
    private void triggerResult(Message.TriggerResult.Outcome outcome, Reason reason, InetSocketAddress to, String message) {
        if (!isLive()) {
            return;
        }
        String m = message == null ? "" : message.length() > 512 ? message.substring(0, 512) + "..." : message;
        try {
            if (!sendControl(new Message.TriggerResult(outcome, reason, to, m))) {
                log.debug("{}: no room to tell {} that its TRIGGER was {}", this, server, outcome);
            }
        } catch (IOException e) {
            log.debug("{}: could not tell {} that its TRIGGER was {}: {}", this, server, outcome, e.getMessage());
        }
    }

    /** As {@link #triggerResult}, from a thread without the session lock, if the session is still at {@code origin}. */
    private void triggerFailed(InetSocketAddress origin, InetSocketAddress to, MigrationException failure) {
        lock().lock();
        try {
            if (origin.equals(server) && migration == null) {
                triggerResult(Message.TriggerResult.Outcome.FAILED, failure.reason(), to, failure.getMessage());
            }
        } finally {
            lock().unlock();
        }
    }

    @Override
    protected void onMoved(Link l) {
        if (migration == null) {
            fail(new SocketException("server moved " + describe() + " without a request from this client"));
        } else if (l == link()) {
            migration.originCommitted(); // the origin let go: if the migration fails now, there is nothing to resume
        }
    }

    @Override
    protected void onLinkLost(Link l, IOException cause) {
        if (l != link()) {
            return;
        }
        if (migration != null) {
            migration.originLost(); // the session cannot fall back to it
            return;
        }
        if (startResume(cause)) {
            return;
        }
        connectionEnded(cause, "the connection to " + server);
    }

    @Override
    protected boolean readMustWait() {
        return resuming; // no link to read: the resume wakes the reader when the new one is attached
    }

    // ================================================================== resuming a broken connection

    /**
     * The connection broke without the server's end of stream: resume the session over a new connection on
     * a background thread, within {@code mtcp.resumeGraceMillis}. Session lock held.
     *
     * @return whether a resume is under way (else the session ends as a plain socket's connection ends)
     */
    private boolean startResume(IOException cause) {
        if (resuming) {
            return true;
        }
        Lifecycle now = lifecycle();
        if (Settings.RESUME_GRACE_MILLIS <= 0 || peerFinished() || (now != Lifecycle.OPEN && now != Lifecycle.CLOSING)) {
            return false;
        }
        resuming = true;
        brokenAt = System.nanoTime();
        brokenBy = cause;
        try {
            MIGRATIONS.execute(this::resume);
        } catch (RejectedExecutionException e) {
            resuming = false;
            return false;
        }
        log.debug("{}: connection lost ({}); resuming", this, cause == null ? "ended without the server's end of stream" : cause);
        wake();
        return true;
    }

    /**
     * Tries to resume until it works, the server says the session is gone, or the grace period ends: first at
     * the server the session is on, over the address dialled before; when that one cannot be reached, at each
     * alternate it advertised (a migration of the waiting session). Backs off between rounds; migrating thread.
     */
    private void resume() {
        long deadline = brokenAt + TimeUnit.MILLISECONDS.toNanos(Settings.RESUME_GRACE_MILLIS);
        long backoffMillis = 20;
        MigrationException last = null;
        int attempts = 0;
        while (true) {
            List<InetSocketAddress> targets;
            InetSocketAddress at;
            lock().lock();
            try {
                if (!resuming) {
                    return; // resumed meanwhile (an application's migration), or given up
                }
                at = server;
                targets = new java.util.ArrayList<>();
                targets.add(server);
                for (InetSocketAddress a : alternates) {
                    if (!a.equals(server)) {
                        targets.add(a);
                    }
                }
            } finally {
                lock().unlock();
            }
            for (InetSocketAddress target : targets) {
                if (deadline - System.nanoTime() <= 0) {
                    break;
                }
                attempts++;
                try {
                    if (resumeOnce(target, deadline)) {
                        return;
                    }
                } catch (MigrationException e) {
                    last = e;
                    if (target.equals(at) && !e.sessionAlive()) {
                        resumeFailed(e, attempts); // the server is up and no longer has the session
                        return;
                    }
                    if (target.equals(at) && e.reason() != Reason.PEER_UNREACHABLE && e.reason() != Reason.TIMEOUT) {
                        break; // the server is there and asks for a later try (it is busy with the session)
                    }
                } catch (IOException e) {
                    last = new MigrationException(e.getMessage(), Reason.OTHER, true, e);
                }
            }
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                resumeFailed(last, attempts);
                return;
            }
            try {
                Thread.sleep(Math.min(backoffMillis, left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                resumeFailed(last, attempts);
                return;
            }
            backoffMillis = Math.min(backoffMillis * 2, 1000);
        }
    }

    /**
     * One try at {@code target}.
     *
     * @return whether the session resumed (or no longer needs to)
     */
    private boolean resumeOnce(InetSocketAddress target, long deadline) throws IOException {
        ClientMigration m;
        lock().lock();
        try {
            if (!resuming) {
                return true;
            }
            while (migration != null) { // an application's migration: wait for its end, it may resume the session
                if (deadline - System.nanoTime() <= 0) {
                    return false;
                }
                awaitChange(deadline);
                if (!resuming) {
                    return true;
                }
            }
            if (lifecycle() != Lifecycle.OPEN && lifecycle() != Lifecycle.CLOSING) {
                resuming = false;
                return true; // released or failed meanwhile: nothing to resume
            }
            long attemptDeadline = Math.min(deadline, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Settings.MIGRATE_TIMEOUT_MILLIS));
            InetSocketAddress dial = target.equals(server) ? connectedTo : target;
            m = new ClientMigration(this, target, server, dial, MigrationEvent.Initiation.RESUME, System.nanoTime(), attemptDeadline,
                    heldValue(), Math.max(creditValue(), creditSent()), ++migrationSeq);
            migration = m;
        } finally {
            lock().unlock();
        }
        m.run();
        return true;
    }

    /** A resume try failed: the session is free for the next; migrating thread. */
    void resumeAttemptFailed(ClientMigration m) {
        lock().lock();
        try {
            if (migration == m) {
                migration = null;
            }
            wake();
        } finally {
            lock().unlock();
        }
    }

    /** No resume worked in time, or the server no longer has the session: the session fails. */
    private void resumeFailed(MigrationException last, int attempts) {
        String message;
        InetSocketAddress at;
        lock().lock();
        try {
            if (!resuming) {
                return;
            }
            resuming = false;
            at = server;
            String cause = brokenBy == null ? "the connection ended without the server's end of stream"
                    : brokenBy.getMessage();
            if (last != null && !last.sessionAlive()) {
                // the server is there and the session is not: it ended it (as after a reset), say it in the JDK's words
                message = cause + " (the connection to " + server + " was lost and " + server + " no longer holds "
                        + describe() + ": " + last.getMessage() + ")";
            } else {
                message = "the server " + server + " did not come back within " + Settings.RESUME_GRACE_MILLIS
                        + " ms (mtcp.resumeGraceMillis) after the connection to it was lost (" + cause + "); " + attempts
                        + " tries to resume " + describe() + (last != null ? ", the last: " + last.getMessage() : "");
            }
            log.info("{}", message);
            fail(new SocketException(message));
        } finally {
            lock().unlock();
        }
        report(new MigrationEvent(MigrationEvent.Role.CLIENT, MigrationEvent.Initiation.RESUME, sessionHex(), at, at,
                new MigrationException(message, last != null ? last.reason() : Reason.TIMEOUT, false, last), 0, 0, 0, Map.of()));
    }

    @Override
    protected void onDataArrived(int bytes, long nowNanos) {
        MigrationPolicy p = policy;
        if (p == null || migration != null || backgroundMigration || lifecycle() != Lifecycle.OPEN) {
            return;
        }
        InetSocketAddress to;
        try {
            to = p.onData(bytes, nowNanos, server, alternates);
        } catch (RuntimeException e) {
            log.warn("migration policy {} failed on {}", p, describe(), e);
            return;
        }
        if (to != null && !to.equals(server)) {
            startBackground(to, MigrationEvent.Initiation.POLICY);
        }
    }

    @Override
    protected void afterApplicationRead(int n) {
        trimReadLog(readOffset()); // a client keeps no read log
    }

    // ================================================================== migration

    /** Starts a migration on a background thread; session lock held. */
    private void startBackground(InetSocketAddress to, MigrationEvent.Initiation initiation) {
        InetSocketAddress origin = server;
        boolean triggered = initiation == MigrationEvent.Initiation.SERVER_TRIGGER;
        try {
            backgroundMigration = true;
            MIGRATIONS.execute(() -> {
                try {
                    migrate(to, initiation, Settings.MIGRATE_TIMEOUT_MILLIS * 2);
                } catch (MigrationException e) {
                    log.debug("{}-started migration of {} failed: {}", initiation, this, e.getMessage());
                    if (triggered && e.sessionAlive()) {
                        triggerFailed(origin, to, e);
                    }
                } catch (IOException e) {
                    log.debug("{}-started migration of {} failed: {}", initiation, this, e.getMessage());
                } finally {
                    lock().lock();
                    try {
                        backgroundMigration = false;
                    } finally {
                        lock().unlock();
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            backgroundMigration = false;
            log.warn("too many background migrations queued; {} stays on {}", describe(), server);
            if (triggered) {
                triggerResult(Message.TriggerResult.Outcome.FAILED, Reason.OTHER, to, "the client of " + describe()
                        + " has too many migrations queued");
            }
        }
    }

    /**
     * Migrates the session (thesis 4.2.3 from the client's side, {@link ClientMigration}). Waits
     * first for a migration already under way.
     *
     * @param to            destination, or {@code null} for the next advertised alternate
     * @param initiation    who asked
     * @param timeoutMillis overall deadline
     * @throws MigrationException when it failed; {@link MigrationException#sessionAlive()} says
     *                            whether the session goes on at the old server
     */
    public void migrate(InetSocketAddress to, MigrationEvent.Initiation initiation, long timeoutMillis) throws IOException {
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        ClientMigration m;
        lock().lock();
        try {
            while (migration != null) {
                if (deadline - System.nanoTime() <= 0) {
                    throw new MigrationException("timed out waiting for another migration of " + describe()
                            + " to finish; the session stays on " + server, Reason.TIMEOUT, true, null);
                }
                awaitChange(deadline);
            }
            if (lifecycle() != Lifecycle.OPEN && lifecycle() != Lifecycle.PEER_DONE) {
                throw new MigrationException("cannot migrate " + describe() + ": the socket is " + lifecycle(), Reason.CLOSED, false,
                        failure());
            }
            if (to == null) {
                to = nextAlternate();
                if (to == null) {
                    throw new MigrationException("no destination given and " + server + " advertised no alternate ("
                            + describe() + ")", Reason.NO_DESTINATION, true, null);
                }
            }
            if (to.equals(server) || to.equals(connectedTo)) {
                return; // already there
            }
            m = new ClientMigration(this, to, server, to, initiation, start, deadline, heldValue(),
                    Math.max(creditValue(), creditSent()), ++migrationSeq);
            migration = m;
            log.debug("{}: migrating to {}", this, to);
            wake();
        } finally {
            lock().unlock();
        }
        m.run();
    }

    /** @return the migration under way, or {@code null} (for tests in this package) */
    ClientMigration migration() {
        lock().lock();
        try {
            return migration;
        } finally {
            lock().unlock();
        }
    }

    /** @return where new connections bind locally, or {@code null} */
    SocketAddress localBind() {
        return localBind;
    }

    /** Applies the socket's options to a new connection, and the session's heartbeat. */
    void setUp(SocketChannel ch) {
        channelSetup.accept(ch);
        keepAlive(ch);
    }

    /**
     * The options the session's heartbeat owns on its connections: the application's values are kept by the
     * socket and shown back to it, and never applied (they would turn the heartbeat off).
     */
    public static final java.util.Set<java.net.SocketOption<?>> HEARTBEAT_OPTIONS = java.util.Set.of(
            java.net.StandardSocketOptions.SO_KEEPALIVE, jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE,
            jdk.net.ExtendedSocketOptions.TCP_KEEPINTERVAL, jdk.net.ExtendedSocketOptions.TCP_KEEPCOUNT);

    /**
     * The heartbeat of an idle connection: the kernel's keepalive probes it after {@code mtcp.heartbeatMillis}
     * without traffic, three times, a third of that apart, and reports a path that stays silent as an error on
     * the channel, which resumes the session. (While bytes wait for acknowledgement the kernel does not probe:
     * the silence deadline of {@code LinkEngine} covers that.)
     */
    private static void keepAlive(SocketChannel ch) {
        if (Settings.HEARTBEAT_MILLIS <= 0) {
            return;
        }
        try {
            ch.setOption(java.net.StandardSocketOptions.SO_KEEPALIVE, true);
            if (ch.supportedOptions().contains(jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE)) {
                int idle = (int) Math.max(1, Settings.HEARTBEAT_MILLIS / 1000);
                ch.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE, idle);
                ch.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPINTERVAL, Math.max(1, idle / 3));
                ch.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPCOUNT, 3);
            }
        } catch (IOException | UnsupportedOperationException e) {
            log.debug("no keepalive on {}: {}", ch, e.toString());
        }
    }

    /** @return the session id */
    byte[] id() {
        return sessionId;
    }

    /** @return the session key now (the one the origin holds) */
    byte[] key() {
        lock().lock();
        try {
            return key;
        } finally {
            lock().unlock();
        }
    }

    private InetSocketAddress nextAlternate() {
        for (InetSocketAddress a : alternates) {
            if (!a.equals(server)) {
                return a;
            }
        }
        return null;
    }

    /** The migration failed before the switch: resume on the origin, if it is still there. */
    MigrationException fallBack(ClientMigration m, MigrationException failed, InetSocketAddress origin) {
        lock().lock();
        try {
            migration = null;
            boolean originLost = m.isOriginLost();
            if ((originLost || linkDead()) && peerFinished() && failure() == null) {
                // the server had finished the session (its FIN is here) and closed: nothing is lost,
                // the application reads what is left and the end of stream
                state(Lifecycle.PEER_DONE, "migration failed after the server ended the session");
                return new MigrationException(failed.getMessage().replace("; the session stays on " + origin, "")
                        + " (the server " + origin + " had ended the session: what it sent is all here)", failed.reason(), true, failed);
            }
            if ((originLost || linkDead()) && failure() == null && failed.sessionAlive() && !m.isOriginCommitted() && startResume(
                    new SocketException("the connection to " + origin + " was lost during a migration to " + m.destination()))) {
                // the destination did not take the session: the origin still holds it, waiting for this client
                log.debug("{}: migration failed and the connection to {} was lost meanwhile: resuming there", this, origin);
                return failed;
            }
            if (originLost || link() == null || failure() != null) {
                MigrationException lost = new MigrationException(failed.getMessage().replace("the session stays on " + origin,
                        "the session is lost") + " (the connection to " + origin + " ended during the migration: the origin had"
                        + " committed the transfer)", Reason.DESTINATION_FAILED_AFTER_COMMIT, false, failed);
                fail(new SocketException(lost.getMessage()));
                return lost;
            }
            log.debug("{}: migration failed, back on {}", this, origin);
            wake();
            try {
                flushLocked();
            } catch (IOException e) {
                fail(e);
            }
            if (hasPendingOutput()) {
                needAttention();
            }
            return failed;
        } finally {
            lock().unlock();
        }
    }

    /** MIGRATE_ACK arrived and confirmed: the destination has committed; resume the streams on its connection with the rotated key. */
    void switchTo(SocketChannel ch, InetSocketAddress dialed, Message.MigrateAck ack, long downReceived, long downCredit,
                  byte[] newKey) throws IOException {
        long upResume = ack.upResume();
        long downResume = ack.downResume();
        long upCredit = ack.credit();
        InetSocketAddress newServer = ack.server();
        List<InetSocketAddress> newAlternates = ack.alternates();
        lock().lock();
        try {
            migration = null;
            resuming = false; // a new connection: whatever broke is behind
            // closed meanwhile: switch all the same (the origin has committed), and end the stream there
            ResumeLedger.ClientResume resume = clientResume(upResume, downResume);
            if (resume == null) {
                throw new ProtocolException("destination " + dialed + " resumes up at " + upResume + " and down at " + downResume
                        + ", outside what this client sent (from " + sendHead() + ") and received (" + heldValue() + ")");
            }
            closeLinkMoved(); // the origin has committed; what it still had in flight comes again from the destination
            // the destination holds every byte below upResume; the request told it downReceived and downCredit
            resendFrom(resume, upCredit, downCredit, downReceived);
            server = newServer;
            connectedTo = dialed;
            alternates = newAlternates;
            key = newKey; // the origin's copy of the old key is worth nothing now
            attach(newLink(ch, downResume, dialed, ControlSeal.client(newKey)));
            log.debug("{}: switched to {}", this, newServer);
            wake();
            queueAck(link()); // only if more came or more credit is due since the request
            flushLocked();
            wakePump();
            int localPort = ChannelStreams.localPort(ch);
            switchListener.switched(newServer, dialed, localPort);
        } finally {
            lock().unlock();
        }
    }

    /** Tells the policy and the socket's listeners how a migration ended. */
    void report(MigrationEvent event) {
        MigrationPolicy p;
        lock().lock();
        try {
            p = policy;
        } finally {
            lock().unlock();
        }
        if (p != null) {
            try {
                p.onMigration(event, System.nanoTime());
            } catch (RuntimeException e) {
                log.warn("migration policy failed on {}", describe(), e);
            }
        }
        recorder.record(event);
    }

    private static ExecutorService newMigrationExecutor() {
        ThreadPoolExecutor ex = new ThreadPoolExecutor(MIGRATION_THREADS, MIGRATION_THREADS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(4096), r -> {
            Thread t = new Thread(r, "mtcp-migrate");
            t.setDaemon(true);
            return t;
        });
        ex.allowCoreThreadTimeOut(true);
        return ex;
    }

    /** @return a recorder for a socket's migrations, whose listener list is made when the first listener is added */
    public static MigrationRecorder newRecorder() {
        return newRecorder(null);
    }

    /** @param parent a recorder that counts the socket's outcomes too, or {@code null} @return a recorder for a socket */
    public static MigrationRecorder newRecorder(MigrationRecorder parent) {
        return MigrationRecorder.forSocket(parent);
    }
}
