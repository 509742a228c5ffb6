package org.mtcp.benchmarks;

import org.mtcp.api.ConnectionMigratedException;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Accepts connections on a server socket (plain or MTCP) and runs one server application per
 * accepted connection on a pooled thread, as the thesis's servers do. A pool (not a thread per
 * connection) keeps thread creation off the migration path: the warm migration loop accepts one
 * migrated connection per operation.
 */
public final class Acceptor implements AutoCloseable {

    /** A server application: serves one accepted connection until it ends or moves away. */
    @FunctionalInterface
    public interface App {
        /**
         * @param socket the accepted connection; closed by the caller afterwards
         * @throws IOException when I/O fails ({@link ConnectionMigratedException} ends the application quietly)
         */
        void serve(Socket socket) throws IOException;
    }

    private static final AtomicInteger IDS = new AtomicInteger();

    private final ServerSocket server;
    private final App app;
    private final ExecutorService apps;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Thread acceptThread;
    private volatile boolean closing;

    /**
     * Starts accepting at once.
     *
     * @param server a bound server socket; closed by {@link #close()}
     * @param app    the server application run for every accepted connection
     */
    public Acceptor(ServerSocket server, App app) {
        this.server = server;
        this.app = app;
        int id = IDS.incrementAndGet();
        AtomicInteger n = new AtomicInteger();
        this.apps = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "bench-app-" + id + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.acceptThread = new Thread(this::acceptLoop, "bench-accept-" + id);
        acceptThread.setDaemon(true);
        acceptThread.start();
    }

    /** @return the server socket this acceptor serves */
    public ServerSocket server() {
        return server;
    }

    private void acceptLoop() {
        while (!closing) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (!closing && !server.isClosed()) {
                    System.err.println("bench: accept failed on " + server + ": " + e);
                    e.printStackTrace();
                }
                return;
            }
            open.add(s);
            try {
                apps.execute(() -> run(s));
            } catch (RuntimeException e) { // rejected: closing
                open.remove(s);
                closeQuietly(s);
            }
        }
    }

    private void run(Socket s) {
        try {
            app.serve(s);
        } catch (ConnectionMigratedException e) {
            // the session moved to another server: this copy of the application ends here
        } catch (IOException e) {
            if (!closing && !(e.getCause() instanceof ConnectionMigratedException) && !isEndOfConnection(e)) {
                System.err.println("bench: server application failed: " + e);
                e.printStackTrace();
            }
        } catch (RuntimeException e) {
            if (!closing) {
                System.err.println("bench: server application failed: " + e);
                e.printStackTrace();
            }
        } finally {
            open.remove(s);
            closeQuietly(s);
        }
    }

    /** The client went away (benchmark teardown): not worth a report. */
    private static boolean isEndOfConnection(IOException e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("Connection reset") || m.contains("Broken pipe") || m.contains("Socket closed")
                || m.contains("closed");
    }

    static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // teardown
        }
    }

    /** Stops accepting, closes the server socket and every connection still served, and ends the pool. */
    @Override
    public void close() {
        closing = true;
        closeQuietly(server);
        for (Socket s : open) {
            closeQuietly(s);
        }
        apps.shutdownNow();
        try {
            if (!apps.awaitTermination(5, TimeUnit.SECONDS)) {
                System.err.println("bench: server application threads still running after close");
            }
            acceptThread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
