package org.mtcp.samples.stream;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MtcpOptions;
import org.mtcp.server.MtcpServerSocket;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One stream server: an {@link MtcpServerSocket} whose accept loop serves every connection with its
 * own copy of the stream application ({@link StreamSession}) on its own thread.
 *
 * <p>Create it, {@link #cooperate} it with its peers, then {@link #start()} it. Failures of its
 * application copies, other than the session migrating away, are kept in {@link #failures()}.
 */
public final class StreamServer implements Closeable {
    /** How an application copy ended. */
    enum Ending {
        /** The client had the whole stream and closed. */
        COMPLETED,
        /** The session moved to another server. */
        MIGRATED_AWAY,
        /** Anything else. */
        FAILED
    }

    private final String name;
    private final MtcpServerSocket socket;
    private final int stateBytes;
    private final ServerPacing pacing;
    private final int idleTimeoutMillis;
    private final Consumer<String> log;
    private final ExecutorService sessions;
    private final List<Exception> failures = new CopyOnWriteArrayList<>();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final List<MigrationEvent> migrations = new CopyOnWriteArrayList<>();
    private final AtomicInteger started = new AtomicInteger();
    private final AtomicInteger arrived = new AtomicInteger();
    private final AtomicInteger completed = new AtomicInteger();
    private final AtomicInteger left = new AtomicInteger();
    private volatile boolean closing;
    private Thread acceptor;

    /**
     * Binds the server to an ephemeral port.
     *
     * @param name              short name for logs and plots, e.g. {@code S1}
     * @param bindAddress       address to listen on
     * @param stateBytes        application-state size each snapshot is padded to
     * @param pacing            how the server writes and degrades
     * @param idleTimeoutMillis longest wait for the client (its request, its close)
     * @param log               where to report failures
     * @throws IOException when the socket cannot be bound
     */
    public StreamServer(String name, InetAddress bindAddress, int stateBytes, ServerPacing pacing,
                        int idleTimeoutMillis, Consumer<String> log) throws IOException {
        if (stateBytes < StreamState.MIN_BYTES) {
            throw new IllegalArgumentException("state size below " + StreamState.MIN_BYTES + ": " + stateBytes);
        }
        this.name = name;
        this.stateBytes = stateBytes;
        this.pacing = pacing;
        this.idleTimeoutMillis = idleTimeoutMillis;
        this.log = log;
        this.socket = new MtcpServerSocket(0, 50, bindAddress);
        // the servers see what the client cannot: the state moved and their own phase timings
        socket.addMigrationListener(migrations::add);
        this.sessions = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, name + "-session");
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
            sessions.execute(new StreamSession(connection, this));
        }
    }

    /** @return the address clients connect to */
    public InetSocketAddress serviceAddress() {
        return new InetSocketAddress(socket.getInetAddress(), socket.getLocalPort());
    }

    /** @return the server's short name */
    public String name() {
        return name;
    }

    /** @return the underlying server socket, e.g. to add migration listeners */
    public MtcpServerSocket socket() {
        return socket;
    }

    /** @return failures of this server's application copies so far (never a session migrating away) */
    public List<Exception> failures() {
        return List.copyOf(failures);
    }

    /** @return every migration this server took part in so far, as origin or destination */
    public List<MigrationEvent> migrationEvents() {
        return List.copyOf(migrations);
    }

    /** @return sessions this server started from a client's request */
    public int sessionsStarted() {
        return started.get();
    }

    /** @return sessions that arrived at this server by migration */
    public int sessionsArrived() {
        return arrived.get();
    }

    /** @return sessions that ended here with the client having every byte */
    public int sessionsCompleted() {
        return completed.get();
    }

    /** @return application copies that ended because their session migrated away */
    public int sessionsLeft() {
        return left.get();
    }

    int stateBytes() {
        return stateBytes;
    }

    ServerPacing pacing() {
        return pacing;
    }

    int idleTimeoutMillis() {
        return idleTimeoutMillis;
    }

    void sessionStarted(boolean migrated) {
        (migrated ? arrived : started).incrementAndGet();
    }

    void sessionEnded(Socket connection, Ending ending, Exception failure) {
        open.remove(connection);
        switch (ending) {
            case COMPLETED -> completed.incrementAndGet();
            case MIGRATED_AWAY -> left.incrementAndGet();
            case FAILED -> {
                if (closing) {
                    return; // ended by close(): not the application's failure
                }
                failures.add(failure);
                log.accept(name + ": stream application failed: " + failure);
            }
        }
    }

    /**
     * Stops accepting and ends the application copies still running, after giving them a moment to
     * see their client's close.
     */
    @Override
    public void close() throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (!open.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
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
                // do not hang on a copy that still does not end
                sessions.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
