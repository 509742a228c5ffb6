package org.mtcp.server.testkit;

import org.mtcp.api.ConnectionMigratedException;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MtcpOptions;
import org.mtcp.server.MtcpServerSocket;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import javax.net.ssl.SSLContext;

/**
 * Cooperating MTCP servers on 127.0.0.1 (or addresses of their own, with TLS) for tests: each accepts on its own thread and runs an
 * application per connection on a thread of its own. Records migration events, application errors,
 * and which accepted socket currently serves each client (by the client's local port, which the
 * tests know).
 */
public final class Cluster implements AutoCloseable {
    /** A server application: serves one accepted connection until it ends or migrates away. */
    public interface App {
        /**
         * @param s      the accepted socket (new, or arrived by migration)
         * @param server index of the server it runs on
         */
        void serve(Socket s, int server) throws IOException;
    }

    private final List<MtcpServerSocket> servers = new ArrayList<>();
    private final List<InetSocketAddress> service = new ArrayList<>();
    private final Map<InetSocketAddress, SocketAddress> mappings = new LinkedHashMap<>();
    /** Every migration event any server reported. */
    public final List<MigrationEvent> events = new CopyOnWriteArrayList<>();
    /** First unexpected application failure, if any. */
    public final AtomicReference<Throwable> appFailure = new AtomicReference<>();
    /** Accepted sockets currently serving, by server index. */
    private final Map<Integer, List<Socket>> live = new ConcurrentHashMap<>();
    /** The application thread serving each accepted socket, while it serves. */
    private final Map<Socket, Thread> appThreads = new ConcurrentHashMap<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private volatile boolean closing;

    /**
     * Starts {@code n} servers, all cooperating, each advertising the others.
     *
     * @param appFor the application of each server, by index
     */
    public Cluster(int n, Function<Integer, App> appFor) throws IOException {
        this(n, appFor, true);
    }

    /**
     * @param cooperate whether to set CONTROL_MAPPINGS
     */
    public Cluster(int n, Function<Integer, App> appFor, boolean cooperate) throws IOException {
        this(n, appFor, cooperate, i -> InetAddress.getLoopbackAddress(), i -> null);
    }

    /**
     * Servers on addresses of their own (service and control), with TLS on their control connections.
     *
     * @param hostFor the address server i binds, e.g. 127.0.0.2 (all of 127.0.0.0/8 is on {@code lo})
     * @param tlsFor  the {@code CONTROL_TLS} of server i, set before its CONTROL_MAPPINGS, or null for none
     */
    public Cluster(int n, Function<Integer, App> appFor, Function<Integer, InetAddress> hostFor,
                   Function<Integer, SSLContext> tlsFor) throws IOException {
        this(n, appFor, true, hostFor, tlsFor);
    }

    /**
     * Servers that know nothing of each other yet (no CONTROL_MAPPINGS, no ADDITIONAL_SERVERS): for a
     * {@link org.mtcp.server.Membership} to tell them. {@link #mappings()} has the control address
     * reserved for each, to publish.
     *
     * @param hostFor the address server i binds, e.g. 127.0.0.2
     */
    public static Cluster unmapped(int n, Function<Integer, App> appFor, Function<Integer, InetAddress> hostFor)
            throws IOException {
        return new Cluster(n, appFor, false, false, hostFor, i -> null);
    }

    private Cluster(int n, Function<Integer, App> appFor, boolean cooperate, Function<Integer, InetAddress> hostFor,
                    Function<Integer, SSLContext> tlsFor) throws IOException {
        this(n, appFor, cooperate, true, hostFor, tlsFor);
    }

    private Cluster(int n, Function<Integer, App> appFor, boolean cooperate, boolean advertise,
                    Function<Integer, InetAddress> hostFor, Function<Integer, SSLContext> tlsFor) throws IOException {
        List<ServerSocket> reserved = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            InetAddress host = hostFor.apply(i);
            MtcpServerSocket s = new MtcpServerSocket(0, 200, host);
            servers.add(s);
            InetSocketAddress a = new InetSocketAddress(host, s.getLocalPort());
            service.add(a);
            ServerSocket free = new ServerSocket(0, 1, host);
            reserved.add(free);
            mappings.put(a, new InetSocketAddress(host, free.getLocalPort()));
        }
        for (ServerSocket r : reserved) {
            r.close();
        }
        for (int i = 0; i < n; i++) {
            MtcpServerSocket s = servers.get(i);
            SSLContext tls = tlsFor.apply(i);
            if (tls != null) {
                s.setOption(MtcpOptions.CONTROL_TLS, tls);
            }
            if (cooperate) {
                s.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);
            }
            if (advertise) {
                List<InetSocketAddress> others = new ArrayList<>(service);
                others.remove(i);
                s.setOption(MtcpOptions.ADDITIONAL_SERVERS, others);
            }
            s.addMigrationListener(events::add);
            int index = i;
            App app = appFor.apply(i);
            live.put(i, new CopyOnWriteArrayList<>());
            Thread t = new Thread(() -> acceptLoop(s, index, app), "test-accept-" + i);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
    }

    private void acceptLoop(MtcpServerSocket s, int index, App app) {
        while (!s.isClosed()) {
            Socket c;
            try {
                c = s.accept();
            } catch (IOException e) {
                return;
            }
            Thread w = new Thread(() -> {
                appThreads.put(c, Thread.currentThread());
                live.get(index).add(c);
                try (c) {
                    app.serve(c, index);
                } catch (ConnectionMigratedException e) {
                    // this copy ends; the destination serves on
                } catch (IOException e) {
                    if (!(e.getCause() instanceof ConnectionMigratedException) && !closing) {
                        appFailure.compareAndSet(null, e);
                    }
                } catch (Throwable e) {
                    appFailure.compareAndSet(null, e);
                } finally {
                    live.get(index).remove(c);
                    appThreads.remove(c);
                }
            }, "test-app-" + index);
            w.setDaemon(true);
            w.start();
            threads.add(w);
        }
    }

    /** @return server i */
    public MtcpServerSocket server(int i) {
        return servers.get(i);
    }

    /** @return service address of server i */
    public InetSocketAddress address(int i) {
        return service.get(i);
    }

    /** @return the control mappings */
    public Map<InetSocketAddress, SocketAddress> mappings() {
        return Collections.unmodifiableMap(mappings);
    }

    /** @return number of servers */
    public int size() {
        return servers.size();
    }

    /** @return the accepted sockets now serving on server i */
    public List<Socket> live(int i) {
        return live.get(i);
    }

    /** @return the application thread serving accepted socket {@code s}, or null once its copy ended */
    public Thread appThread(Socket s) {
        return appThreads.get(s);
    }

    /**
     * @return the accepted socket on any server serving the client whose local port is given, or null
     */
    public Socket serving(int clientLocalPort) {
        for (List<Socket> l : live.values()) {
            for (Socket s : l) {
                if (s.getPort() == clientLocalPort && !s.isClosed()) {
                    return s;
                }
            }
        }
        return null;
    }

    /** @return index of the server whose service address is {@code a}, or -1 */
    public int indexOf(InetSocketAddress a) {
        return service.indexOf(a);
    }

    /** Fails the test with the first application failure, if any. */
    public void assertNoAppFailure() {
        Throwable t = appFailure.get();
        if (t != null) {
            throw new AssertionError("a server application failed: " + t, t);
        }
    }

    @Override
    public void close() throws IOException {
        closing = true;
        for (MtcpServerSocket s : servers) {
            s.close();
        }
    }
}
