package org.mtcp.samples.http;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationListener;
import org.mtcp.api.MigrationStatistics;
import org.mtcp.api.MtcpOptions;
import org.mtcp.server.MtcpServerSocket;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A migratable static-file HTTP/1.1 server on an {@link MtcpServerSocket}: the web server of the
 * thesis's section 6.1.2 with keep-alive, {@code Content-Length}, single byte ranges, GET and HEAD.
 * Each accepted connection, new or arriving by migration, is served by its own copy of the
 * application ({@link HttpSession}) on its own thread.
 *
 * <p>Create it over a document root shared with its peers, {@link #cooperate} it with them, then
 * {@link #start()} it. Migrations away from it happen when its {@link TriggerPolicy} says so, when
 * {@link #triggerAll} is called, or while it is {@linkplain #drain drained}. Failures of its
 * application copies, other than a session migrating away or a client going away, are kept in
 * {@link #failures()}.
 */
public final class HttpFileServer implements Closeable {
    /** Body bytes per write and per state export: the thesis's {@code nmax}. */
    public static final int DEFAULT_CHUNK_BYTES = 64 * 1024;
    /** Longest wait for the next request on a keep-alive connection. */
    public static final int DEFAULT_IDLE_TIMEOUT_MILLIS = 30_000;

    /** How an application copy ended. */
    enum Ending {
        /** The client closed the connection, or the server closed it after a {@code Connection: close} response. */
        COMPLETED,
        /** The session moved to another server. */
        MIGRATED_AWAY,
        /** The connection stayed idle longer than the idle timeout. */
        IDLE,
        /** Anything else. */
        FAILED
    }

    private final String name;
    private final DocumentRoot root;
    private final TriggerPolicy policy;
    private final MtcpServerSocket socket;
    private final ExecutorService sessions;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final List<Exception> failures = new CopyOnWriteArrayList<>();
    private final List<MigrationEvent> migrations = new CopyOnWriteArrayList<>();
    private final AtomicLong started = new AtomicLong();
    private final AtomicLong arrived = new AtomicLong();
    private final Map<HttpState.Phase, AtomicLong> resumedIn = new EnumMap<>(HttpState.Phase.class);
    private final AtomicLong left = new AtomicLong();
    private final AtomicLong responses = new AtomicLong();
    private final AtomicLong bodyBytes = new AtomicLong();
    private final AtomicLong triggers = new AtomicLong();
    private final AtomicLong triggersRefused = new AtomicLong();
    private volatile InetSocketAddress triggerTarget;
    private volatile int chunkBytes = DEFAULT_CHUNK_BYTES;
    private volatile int idleTimeoutMillis = DEFAULT_IDLE_TIMEOUT_MILLIS;
    private volatile long rateLimit;
    private volatile Consumer<String> log = message -> { };
    private volatile boolean closing;
    private Thread acceptor;

    /**
     * Binds the server to an ephemeral port.
     *
     * @param name         short name for logs, e.g. {@code S1}
     * @param documentRoot the directory of files to serve, the same for every cooperating server
     * @param bindAddress  address to listen on
     * @param policy       when to ask clients to migrate away (one instance per server)
     * @throws IOException when the socket cannot be bound or the root is not a directory
     */
    public HttpFileServer(String name, Path documentRoot, InetAddress bindAddress, TriggerPolicy policy) throws IOException {
        this(name, documentRoot, bindAddress, 0, policy);
    }

    /**
     * Binds the server to a port.
     *
     * @param name         short name for logs, e.g. {@code S1}
     * @param documentRoot the directory of files to serve, the same for every cooperating server
     * @param bindAddress  address to listen on
     * @param port         port to listen on, 0 for an ephemeral one
     * @param policy       when to ask clients to migrate away (one instance per server)
     * @throws IOException when the socket cannot be bound or the root is not a directory
     */
    public HttpFileServer(String name, Path documentRoot, InetAddress bindAddress, int port, TriggerPolicy policy)
            throws IOException {
        this.name = Objects.requireNonNull(name, "name");
        this.root = new DocumentRoot(documentRoot);
        this.policy = Objects.requireNonNull(policy, "policy");
        this.socket = new MtcpServerSocket(port, 128, bindAddress);
        // the server sees what the client cannot: the state moved and its own phase timings
        socket.addMigrationListener(migrations::add);
        for (HttpState.Phase p : HttpState.Phase.values()) {
            resumedIn.put(p, new AtomicLong());
        }
        this.sessions = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, name + "-http");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Joins this server to its cooperating peers.
     *
     * @param controlMappings service address to control address of every server, this one included
     * @param alternates      the other servers' service addresses, advertised to clients
     * @throws IOException when the control listener cannot start
     */
    public void cooperate(Map<InetSocketAddress, SocketAddress> controlMappings, List<InetSocketAddress> alternates)
            throws IOException {
        socket.setOption(MtcpOptions.CONTROL_MAPPINGS, controlMappings);
        socket.setOption(MtcpOptions.ADDITIONAL_SERVERS, alternates);
    }

    /**
     * Runs a standalone server until the JVM is stopped (Ctrl-C), as {@code jwebserver} does: see
     * {@link ServerCommand} for the options ({@code --port}, {@code --root}, {@code --peers}, ...).
     *
     * @param args the options
     * @throws Exception when the server cannot start
     */
    public static void main(String[] args) throws Exception {
        System.exit(ServerCommand.run(args, System.out, System.err));
    }

    /** Starts accepting connections. */
    public synchronized void start() {
        if (acceptor != null) {
            throw new IllegalStateException(name + " already started");
        }
        acceptor = new Thread(this::acceptLoop, name + "-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void acceptLoop() {
        while (!socket.isClosed()) {
            Socket connection;
            try {
                connection = socket.accept();
            } catch (IOException e) {
                if (!socket.isClosed()) {
                    failures.add(e);
                    log.accept(name + ": accept failed: " + e);
                }
                return;
            }
            open.add(connection);
            sessions.execute(new HttpSession(connection, this));
        }
    }

    /**
     * @param target where the {@link TriggerPolicy} sends sessions; {@code null} lets each client
     *               choose among the alternates this server advertises
     */
    public void setTriggerTarget(InetSocketAddress target) {
        this.triggerTarget = target;
    }

    /** @param bytes body bytes per write and per state export (default {@value #DEFAULT_CHUNK_BYTES}) */
    public void setChunkBytes(int bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("chunk must be positive: " + bytes);
        }
        this.chunkBytes = bytes;
    }

    /** @param millis longest wait for a request on an idle connection (default {@value #DEFAULT_IDLE_TIMEOUT_MILLIS}) */
    public void setIdleTimeoutMillis(int millis) {
        this.idleTimeoutMillis = millis;
    }

    /**
     * Caps how fast each response body is sent, as static-file servers do ({@code limit_rate}):
     * on loopback a large download would otherwise end before a migration triggered mid-way has
     * been negotiated. The cap changes when bytes are written, never which bytes.
     *
     * @param bytesPerSecond body bytes per second per response, 0 for no cap (the default)
     */
    public void setRateLimit(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("negative rate: " + bytesPerSecond);
        }
        this.rateLimit = bytesPerSecond;
    }

    /** @param log where failures of application copies are reported as they happen */
    public void setLog(Consumer<String> log) {
        this.log = Objects.requireNonNull(log, "log");
    }

    /**
     * The command form of the trigger: asks every client connected now to migrate.
     *
     * @param target where to, or {@code null} for each client's choice among the alternates
     * @return how many sessions were asked (plain TCP clients and sessions already leaving are not)
     */
    public int triggerAll(InetSocketAddress target) {
        int asked = 0;
        for (Socket s : open) {
            if (trigger(s, target)) {
                asked++;
            }
        }
        return asked;
    }

    /**
     * Drains this server, the deploy use case: every session is asked to move to {@code target}
     * until none is left (see {@link MtcpServerSocket#drain}).
     *
     * @param target the server to move the sessions to
     * @return completes with the number of sessions moved away once none is left
     */
    public CompletableFuture<Integer> drain(InetSocketAddress target) {
        return socket.drain(target);
    }

    /** @return the address clients connect to */
    public InetSocketAddress serviceAddress() {
        return new InetSocketAddress(socket.getInetAddress(), socket.getLocalPort());
    }

    /** @return the server's short name */
    public String name() {
        return name;
    }

    /** @return the underlying server socket */
    public MtcpServerSocket socket() {
        return socket;
    }

    /** @return the library's counters of this server's migrations, in and out */
    public MigrationStatistics statistics() {
        return socket.statistics();
    }

    /** @param listener told about every migration to or from this server, on a library thread */
    public void addMigrationListener(MigrationListener listener) {
        socket.addMigrationListener(listener);
    }

    /** @return every migration this server took part in so far, as origin or destination */
    public List<MigrationEvent> migrationEvents() {
        return List.copyOf(migrations);
    }

    /** @return failures of this server's application copies so far (never a session migrating away) */
    public List<Exception> failures() {
        return List.copyOf(failures);
    }

    /** @return connections this server accepted from a client's connect */
    public long sessionsStarted() {
        return started.get();
    }

    /** @return connections that arrived at this server by migration */
    public long sessionsArrived() {
        return arrived.get();
    }

    /** @return application copies here that ended because their session migrated away */
    public long sessionsLeft() {
        return left.get();
    }

    /** @return responses this server completed (a response begun elsewhere counts where it ends) */
    public long responsesCompleted() {
        return responses.get();
    }

    /** @return file bytes this server's copies wrote, including bytes written again after a migration */
    public long bodyBytesWritten() {
        return bodyBytes.get();
    }

    /** @return migrations this server asked for (policy and commands) */
    public long triggersSent() {
        return triggers.get();
    }

    /** @return policy triggers that could not be sent (plain TCP client, migration already under way) */
    public long triggersRefused() {
        return triggersRefused.get();
    }

    /** @return connections currently served here */
    public int liveSessions() {
        return open.size();
    }

    DocumentRoot root() {
        return root;
    }

    int chunkBytes() {
        return chunkBytes;
    }

    int idleTimeoutMillis() {
        return idleTimeoutMillis;
    }

    long rateLimit() {
        return rateLimit;
    }

    /** @return the time responses are dated with, whole seconds */
    long nowSeconds() {
        return TimeUnit.MILLISECONDS.toSeconds(System.currentTimeMillis());
    }

    void sessionStarted(boolean migrated, HttpState state) {
        if (migrated) {
            arrived.incrementAndGet();
            resumedIn.get(state.phase()).incrementAndGet();
        } else {
            started.incrementAndGet();
        }
    }

    /**
     * @param phase a phase of the request/response cycle
     * @return sessions that arrived here by migration with their state in that phase
     */
    long sessionsResumedIn(HttpState.Phase phase) {
        return resumedIn.get(phase).get();
    }

    void bodyBytesWritten(long n) {
        bodyBytes.addAndGet(n);
    }

    void responseCompleted() {
        responses.incrementAndGet();
    }

    /** A session exported its state: the policy may now ask its client to move. */
    void restartPoint(Socket s, long bytesWritten) {
        if (policy.shouldTrigger(bytesWritten)) {
            InetSocketAddress target = triggerTarget;
            if (!trigger(s, target)) {
                // this session could not go (plain TCP client, migration already under way)
                triggersRefused.incrementAndGet();
            }
        }
    }

    /** @return {@code true} when the client was asked to migrate */
    private boolean trigger(Socket s, InetSocketAddress target) {
        try {
            s.setOption(MtcpOptions.TRIGGER, target);
            triggers.incrementAndGet();
            return true;
        } catch (IOException e) {
            // MigrationException: this client cannot move now (plain TCP, a migration under way);
            // ConnectionMigratedException: it has already gone, and its next I/O ends this copy
            return false;
        }
    }

    void sessionEnded(Socket connection, Ending ending, Exception failure) {
        open.remove(connection);
        switch (ending) {
            case COMPLETED, IDLE -> {
                // the client is done with the connection
            }
            case MIGRATED_AWAY -> left.incrementAndGet();
            case FAILED -> {
                if (closing) {
                    return; // ended by close(): not the application's failure
                }
                failures.add(failure);
                log.accept(name + ": http application failed: " + failure);
            }
        }
    }

    /** Stops accepting and ends the application copies still running (idle keep-alive connections). */
    @Override
    public void close() throws IOException {
        closing = true;
        try {
            socket.close();
        } finally {
            // a socket read does not end on an interrupt: closing the sockets ends their copies
            for (Socket s : open) {
                try {
                    s.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
            sessions.shutdownNow();
            try {
                sessions.awaitTermination(2, TimeUnit.SECONDS); // do not hang on a copy that does not end
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
