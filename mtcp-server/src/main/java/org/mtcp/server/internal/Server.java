package org.mtcp.server.internal;

import org.mtcp.api.MigrationStatistics;
import org.mtcp.internal.io.EventLoop;
import org.mtcp.internal.io.IoHandler;
import org.mtcp.internal.io.Uninterruptibly;
import org.mtcp.internal.observe.MigrationRecorder;
import org.mtcp.internal.session.Settings;
import org.mtcp.internal.session.Warmup;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import javax.net.ssl.SSLContext;

/**
 * The engine behind one {@code MtcpServerSocket}: the listening channel, classification of new
 * connections, the accept queue, the registry of live sessions, the destination side of migrations,
 * and the control endpoint. Everything network-side runs on one I/O loop.
 */
public final class Server {
    private static final Logger log = LoggerFactory.getLogger(Server.class);

    /** Runs everything network-side of this server: accepting, classifying, its sessions, its control endpoint. */
    private final EventLoop loop = EventLoop.next();
    private final ServerSocketChannel channel;
    /** Live sessions by id; concurrent: read by any thread, changed by the loop and by sessions as they end. */
    private final Map<SessionKey, ServerSession> sessions = new ConcurrentHashMap<>();
    /** Listeners and counters of this server's migrations. */
    public final MigrationRecorder recorder = new MigrationRecorder(new CopyOnWriteArrayList<>());
    /** Moves by id, third parties' requests and drains of this server's sessions. */
    public final SessionMoves moves = new SessionMoves(this);
    /** Guards the accept queue and its counters; never held while taking a session lock. */
    private final ReentrantLock queueLock = new ReentrantLock();
    private final Condition notEmpty = queueLock.newCondition();
    /** Accepted connections waiting for the application; guarded by queueLock. */
    private final ArrayDeque<Accepted> queue = new ArrayDeque<>();
    /** Connections being classified or migrated in; guarded by queueLock. */
    private int inflight;
    /** The backlog: most connections queued or on their way; set before listening. */
    private int capacity = 50;
    /** The loop stopped accepting because the queue is full; guarded by queueLock. */
    private boolean acceptPaused;
    // ---- volatile: set by the application's thread, read by the loop ----
    private volatile boolean closed;
    /** Cleared when the server stops taking connections (a drain on close runs); set once. */
    private volatile boolean accepting = true;
    /** {@code MtcpOptions.RESUME_GRACE} in milliseconds: how long a session whose connection broke waits for its client. */
    private volatile long resumeGraceMillis = Settings.RESUME_GRACE_MILLIS;
    /** {@code MtcpOptions.CONTROL_OPEN_AHEAD}: open the control connections when the peers become known. */
    private volatile boolean controlOpenAhead;
    /** {@code MtcpOptions.DRAIN_ON_CLOSE}, or {@code null}: off. */
    private volatile java.time.Duration drainOnClose;
    /** This server's drain at JVM exit, registered while DRAIN_ON_CLOSE is set. */
    private final Runnable exitDrain = this::drainBeforeExit;
    private volatile InetSocketAddress bound;
    private volatile List<InetSocketAddress> alternates = List.of();
    private volatile Map<InetSocketAddress, SocketAddress> mappings = Map.of();
    private volatile ControlEndpoint control;
    /** TLS for TCP control connections ({@code MtcpOptions.CONTROL_TLS}), or {@code null}. */
    private volatile SSLContext controlTls;
    private volatile long detectMillis = Settings.DETECT_MILLIS;
    /** Whether clients that do not speak MTCP are served as plain TCP. */
    private volatile boolean plainClients = true;
    /** The listening channel's key; loop thread only. */
    private SelectionKey acceptKey;

    /** @throws IOException when the listening channel cannot be opened */
    public Server() throws IOException {
        channel = ServerSocketChannel.open();
    }

    /** @return the listening channel (for socket options before binding) */
    public ServerSocketChannel channel() {
        return channel;
    }

    EventLoop loop() {
        return loop;
    }

    /** @return how long a silent new client is given before it is served as plain TCP ({@code MtcpOptions.PLAIN_CLIENT_WAIT}) */
    public long detectMillis() {
        return detectMillis;
    }

    /** @param serve whether clients that do not speak MTCP are served as plain TCP ({@code MtcpOptions.PLAIN_CLIENTS}) */
    public void setPlainClients(boolean serve) {
        plainClients = serve;
    }

    /** @return whether clients that do not speak MTCP are served */
    public boolean plainClients() {
        return plainClients;
    }

    /** @param millis how long a silent new client is given before it is served as plain TCP */
    public void setDetectMillis(long millis) {
        detectMillis = millis;
    }

    /**
     * Binds, listens, and starts accepting on the loop.
     *
     * @param at      address to bind
     * @param backlog accept queue length
     */
    public void listen(InetSocketAddress at, int backlog) throws IOException {
        channel.bind(at, backlog);
        channel.configureBlocking(false);
        bound = (InetSocketAddress) channel.getLocalAddress();
        capacity = backlog > 0 ? backlog : 50;
        loop.registerLater(channel, SelectionKey.OP_ACCEPT, (IoHandler) k -> acceptReady()).thenAccept(k -> acceptKey = k);
        Warmup.start(Server.class); // the first server of the JVM: its first migrations should not pay for class loading
    }

    /** @return the bound address */
    public InetSocketAddress bound() {
        return bound;
    }

    /** @return the service address this server gives as its own: its key in CONTROL_MAPPINGS, or the bound address */
    public InetSocketAddress identity() {
        InetSocketAddress b = bound;
        Map<InetSocketAddress, SocketAddress> m = mappings;
        if (b == null) {
            return null;
        }
        if (m.containsKey(b)) {
            return b;
        }
        for (InetSocketAddress k : m.keySet()) {
            if (k.getPort() == b.getPort() && (b.getAddress().isAnyLocalAddress() || k.getAddress().equals(b.getAddress()))) {
                return k;
            }
        }
        return b;
    }

    /** @return this server's identity as a client that connected to {@code local} sees it */
    InetSocketAddress identityFor(InetSocketAddress local) {
        InetSocketAddress id = identity();
        return id != null && id.getAddress().isAnyLocalAddress() ? local : id;
    }

    /** @param list alternates advertised at every handshake */
    public void setAlternates(List<InetSocketAddress> list) {
        for (InetSocketAddress a : list) {
            if (a.isUnresolved()) {
                throw new IllegalArgumentException("unresolved alternate " + a);
            }
        }
        if (list.size() > Wire.MAX_ALTERNATES) {
            throw new IllegalArgumentException(list.size() + " alternates, at most " + Wire.MAX_ALTERNATES);
        }
        List<InetSocketAddress> fresh = List.copyOf(list);
        boolean changed = !fresh.equals(alternates);
        alternates = fresh;
        if (changed) {
            for (ServerSession s : sessions.values()) {
                s.advertise(fresh); // live sessions learn it too: a server that joined can take them
            }
        }
    }

    /** @return the advertised alternates */
    public List<InetSocketAddress> alternates() {
        return alternates;
    }

    /**
     * Sets the control mappings and starts (or moves) the control listener at this server's control address.
     */
    public void setControlMappings(Map<InetSocketAddress, SocketAddress> map) throws IOException {
        Map<InetSocketAddress, SocketAddress> copy = new LinkedHashMap<>(map);
        for (Map.Entry<InetSocketAddress, SocketAddress> e : copy.entrySet()) {
            if (e.getKey().isUnresolved() || e.getValue() == null) {
                throw new IllegalArgumentException("bad control mapping " + e.getKey() + " -> " + e.getValue());
            }
        }
        if (bound == null) {
            throw new SocketException("bind the server socket before setting CONTROL_MAPPINGS");
        }
        if (controlTls == null) {
            for (Map.Entry<InetSocketAddress, SocketAddress> e : copy.entrySet()) {
                if (needsTls(e.getValue())) {
                    throw new IllegalArgumentException("CONTROL_MAPPINGS maps " + e.getKey() + " to the control address "
                            + e.getValue() + ", which is not a loopback address: control connections across a network need"
                            + " TLS. Set MtcpOptions.CONTROL_TLS first (an SSLContext with this server's certificate and the"
                            + " cluster CA as trust, e.g. from org.mtcp.server.ControlTls), then CONTROL_MAPPINGS; see"
                            + " docs/security.md");
                }
            }
        }
        Map<InetSocketAddress, SocketAddress> frozenCopy = Map.copyOf(copy);
        Map<InetSocketAddress, SocketAddress> previous = mappings;
        mappings = frozenCopy;
        InetSocketAddress self = identity();
        SocketAddress own = frozenCopy.get(self);
        if (own == null) {
            mappings = previous;
            throw new IllegalArgumentException("CONTROL_MAPPINGS has no entry for this server's service address " + bound);
        }
        ControlEndpoint old = control;
        if (old == null || !old.listenAddress().equals(own)) {
            control = ControlEndpoint.start(this, own);
            if (old != null) {
                old.close();
            }
        }
        openControlAhead();
    }

    /**
     * Sets {@code MtcpOptions.CONTROL_OPEN_AHEAD}; turned on with the mappings set, it opens the missing
     * control connections now.
     */
    public void setControlOpenAhead(boolean ahead) {
        controlOpenAhead = ahead;
        openControlAhead();
    }

    /** @return whether control connections are opened when the peers become known ({@code MtcpOptions.CONTROL_OPEN_AHEAD}) */
    public boolean controlOpenAhead() {
        return controlOpenAhead;
    }

    /**
     * With CONTROL_OPEN_AHEAD on, opens the connection to every mapped peer that has none and keeps them open
     * (on the loop); off, stops that.
     */
    private void openControlAhead() {
        ControlEndpoint c = control;
        if (c == null) {
            return;
        }
        if (controlOpenAhead) {
            c.openAhead();
        } else {
            c.stopOpeningAhead();
        }
    }

    /**
     * @return whether a control address may only be used with TLS: a TCP address that is not a loopback
     * address (a wildcard or an unresolved one included)
     */
    static boolean needsTls(SocketAddress control) {
        if (!(control instanceof InetSocketAddress)) {
            return false; // Unix-domain: same host, guarded by its directory and SO_PEERCRED
        }
        InetSocketAddress a = (InetSocketAddress) control;
        return a.getAddress() == null || !a.getAddress().isLoopbackAddress();
    }

    /**
     * Sets TLS for TCP control connections ({@code MtcpOptions.CONTROL_TLS}); connections opened or
     * accepted from then on use it (those open now are closed, so that none goes on under the old
     * setting).
     *
     * @param tls a context offering TLS 1.3 with this server's key and the cluster CA, or {@code null}
     *            for none (refused while a mapping needs TLS)
     */
    public void setControlTls(SSLContext tls) throws SocketException {
        if (tls != null && !java.util.Arrays.asList(tls.getSupportedSSLParameters().getProtocols()).contains("TLSv1.3")) {
            throw new IllegalArgumentException("CONTROL_TLS: the SSLContext (" + tls.getProtocol() + ", " + tls.getProvider()
                    + ") does not offer TLSv1.3");
        }
        if (tls == null) {
            for (SocketAddress a : mappings.values()) {
                if (needsTls(a)) {
                    throw new SocketException("CONTROL_TLS cannot be removed: CONTROL_MAPPINGS has the non-loopback control"
                            + " address " + a + ", which needs TLS");
                }
            }
        }
        SSLContext previous = controlTls;
        controlTls = tls;
        ControlEndpoint c = control;
        if (c != null && previous != tls) {
            c.closeConnections();
            openControlAhead(); // queued behind the close, on the same loop
        }
    }

    /** @return TLS for TCP control connections, or {@code null} */
    public SSLContext controlTls() {
        return controlTls;
    }

    /** @return the control mappings */
    public Map<InetSocketAddress, SocketAddress> controlMappings() {
        return mappings;
    }

    /** @return the control endpoint, or {@code null} before CONTROL_MAPPINGS */
    public ControlEndpoint control() {
        return control;
    }

    // ================================================================== accepting

    private void acceptReady() {
        while (!closed) {
            queueLock.lock();
            try {
                if (queue.size() + inflight >= capacity) {
                    acceptPaused = true;
                    acceptKey.interestOps(0);
                    return;
                }
                inflight++;
            } finally {
                queueLock.unlock();
            }
            SocketChannel ch = null;
            try {
                ch = channel.accept();
                if (ch == null) {
                    classified();
                    return;
                }
                ch.configureBlocking(false); // TCP_NODELAY stays as the application sets it, as with plain sockets
                InetSocketAddress remote = (InetSocketAddress) ch.getRemoteAddress();
                InetSocketAddress local = (InetSocketAddress) ch.getLocalAddress();
                new Classifier(this, ch, remote, local).start(loop);
            } catch (IOException e) {
                classified();
                log.debug("accept on {} failed: {}", bound, e.toString());
                if (ch != null) {
                    try {
                        ch.close();
                    } catch (IOException ignored) {
                        // already failed
                    }
                }
                if (!channel.isOpen()) {
                    return;
                }
            }
        }
    }

    /** A connection left classification (to the queue or away). */
    void classified() {
        queueLock.lock();
        try {
            inflight--;
        } finally {
            queueLock.unlock();
        }
    }

    /** Hands an accepted connection or an arrived session to the application. */
    void enqueue(Accepted a) {
        queueLock.lock();
        try {
            if (!closed) {
                queue.add(a);
                notEmpty.signal();
                return;
            }
        } finally {
            queueLock.unlock();
        }
        a.resetQuietly(); // the server socket closed meanwhile; outside the queue lock, which never nests with a session lock
    }

    /**
     * Takes the next accepted connection.
     *
     * @param timeoutMillis 0 for none
     */
    public Accepted take(int timeoutMillis) throws IOException {
        long deadline = timeoutMillis > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis) : Long.MAX_VALUE;
        queueLock.lock();
        try {
            while (queue.isEmpty() || !accepting) {
                if (closed || !accepting) {
                    throw new SocketException("Socket is closed");
                }
                long wait = deadline == Long.MAX_VALUE ? TimeUnit.SECONDS.toNanos(1) : deadline - System.nanoTime();
                if (wait <= 0) {
                    throw new SocketTimeoutException("Accept timed out");
                }
                // JDK 17's ServerSocket.accept ignores interrupts (the flag stays set): so does this wait, without spinning
                Uninterruptibly.awaitNanos(notEmpty, Math.min(wait, TimeUnit.SECONDS.toNanos(1)));
            }
            Accepted a = queue.poll();
            if (acceptPaused && queue.size() + inflight < capacity) {
                acceptPaused = false;
                loop.execute(() -> {
                    if (acceptKey != null && acceptKey.isValid()) {
                        acceptKey.interestOps(SelectionKey.OP_ACCEPT);
                    }
                });
            }
            return a;
        } finally {
            queueLock.unlock();
        }
    }

    void plainClient(PlainConnection c) {
        enqueue(c);
    }

    void newSession(SocketChannel ch, SelectionKey key, InetSocketAddress remote, InetSocketAddress local, Message.Hello hello)
            throws IOException {
        ServerSession.Created c = ServerSession.create(this, ch, key, remote, local, hello, identityFor(local), alternates);
        ServerSession s = c.session();
        register(s);
        s.sendFirst(c.first());
        enqueue(s);
    }

    /** Registers a live session (new, or arrived by migration). */
    void register(ServerSession s) {
        sessions.put(new SessionKey(s.sessionId()), s);
    }

    /** Keeps a place in the accept queue for a session on its way in. */
    void reserveQueuePlace() {
        queueLock.lock();
        try {
            inflight++;
        } finally {
            queueLock.unlock();
        }
    }

    /** The session on its way in arrived (and was queued) or was refused. */
    void releaseQueuePlace() {
        classified();
    }

    ServerSession session(byte[] id) {
        return sessions.get(new SessionKey(id));
    }

    void forget(ServerSession s) {
        sessions.remove(new SessionKey(s.sessionId()), s);
    }

    /** @return live sessions (a snapshot) */
    public List<ServerSession> sessions() {
        return new ArrayList<>(sessions.values());
    }

    /** @return counters of this server's migrations */
    public MigrationStatistics statistics() {
        long live = 0;
        for (ServerSession s : sessions.values()) {
            live += s.duplicatesDropped();
        }
        return recorder.snapshot(live);
    }

    // ================================================================== closing

    /** @param millis how long a session whose connection broke waits for its client to resume it; 0: not at all */
    public void setResumeGraceMillis(long millis) {
        resumeGraceMillis = millis;
    }

    /** @return how long a session whose connection broke waits for its client to resume it, in milliseconds */
    public long resumeGraceMillis() {
        return resumeGraceMillis;
    }

    /** @param d drain on close and at JVM exit within {@code d} ({@code MtcpOptions.DRAIN_ON_CLOSE}), or {@code null}: off */
    public void setDrainOnClose(java.time.Duration d) {
        drainOnClose = d;
        if (d != null) {
            org.mtcp.internal.session.ExitFlush.beforeSessionsEnd(exitDrain);
        } else {
            org.mtcp.internal.session.ExitFlush.removeBeforeSessionsEnd(exitDrain);
        }
    }

    /** @return the drain-on-close deadline, or {@code null} when off */
    public java.time.Duration drainOnClose() {
        return drainOnClose;
    }

    /**
     * Closes as {@link #close}, after a drain when {@code DRAIN_ON_CLOSE} is set: stops accepting (new
     * clients go elsewhere; the control endpoint stays, since the destinations pull the sessions' state
     * through it), moves the sessions to the advertised servers within the deadline, then closes.
     */
    public void closeDraining() throws IOException {
        java.time.Duration d = drainOnClose;
        List<InetSocketAddress> targets = alternates;
        if (d != null && !targets.isEmpty() && !closed && bound != null) {
            stopAccepting();
            CompletableFuture<Integer> f = moves.drain(targets);
            try {
                int moved = f.get(d.toNanos(), TimeUnit.NANOSECONDS);
                log.info("{} drained before closing: {} sessions moved to {}", this, moved, targets);
            } catch (java.util.concurrent.TimeoutException e) {
                f.cancel(false);
                log.warn("{}: the drain before closing did not finish within {}: {} sessions are still here and end with it",
                        this, d, sessions.size());
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
                log.warn("{}: the drain before closing ended early: {}", this, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                f.cancel(false);
            }
        }
        close();
    }

    /** The JVM is exiting: drain (if still open) before the sessions are ended. */
    private void drainBeforeExit() {
        try {
            closeDraining();
        } catch (IOException e) {
            log.warn("{}: drain at exit failed: {}", this, e.getMessage());
        }
    }

    /** Stops taking connections: the listening channel closes and the ones never accepted are reset. */
    private void stopAccepting() {
        accepting = false;
        loop.execute(() -> {
            if (acceptKey != null) {
                acceptKey.cancel();
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing is all we wanted
            }
        });
        List<Accepted> left;
        queueLock.lock();
        try {
            left = new ArrayList<>(queue);
            queue.clear();
            notEmpty.signalAll();
        } finally {
            queueLock.unlock();
        }
        for (Accepted a : left) {
            a.resetQuietly();
        }
    }

    /** Stops listening; live sessions go on. */
    public void close() throws IOException {
        closed = true;
        org.mtcp.internal.session.ExitFlush.removeBeforeSessionsEnd(exitDrain);
        stopAccepting();
        ControlEndpoint c = control;
        if (c != null) {
            c.close();
        }
    }

    /** @return whether {@link #close} was called */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "MTCP server " + identity();
    }
}
