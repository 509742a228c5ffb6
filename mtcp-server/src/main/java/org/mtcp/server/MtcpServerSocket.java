package org.mtcp.server;

import org.mtcp.api.MigrationListener;
import org.mtcp.api.MigrationStatistics;
import org.mtcp.api.MtcpOptions;
import org.mtcp.server.internal.Server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A server socket whose accepted sessions can migrate to cooperating servers and arrive from them.
 * Use it as any {@link ServerSocket}; {@link #accept()} returns sessions opened here and sessions
 * that migrated here ({@link MtcpOptions#MIGRATED} tells them apart). Clients that do not speak MTCP
 * are served as plain, non-migratable TCP connections.
 *
 * <p>To cooperate with other servers, set {@link MtcpOptions#CONTROL_MAPPINGS} (after binding) and,
 * to tell clients where they may go, {@link MtcpOptions#ADDITIONAL_SERVERS}. The server application
 * exports its per-connection state with {@link MtcpOptions#APP_STATE} at restart points, imports it
 * when a connection arrives by migration, and stops serving a connection when its I/O throws
 * {@link org.mtcp.api.ConnectionMigratedException}.
 *
 * <p>Servers on different hosts must protect their control connections: set
 * {@link MtcpOptions#CONTROL_TLS} (an {@link javax.net.ssl.SSLContext} with this server's certificate
 * and the cluster CA; {@link ControlTls} builds one from PKCS#12 or PEM files) before
 * {@code CONTROL_MAPPINGS}, which otherwise refuses a control address that is not a loopback address.
 *
 * <p>Closing the server socket stops accepting; sessions already accepted go on.
 */
public class MtcpServerSocket extends ServerSocket {
    private final ListenerImpl impl;
    private final Object membershipLock = new Object();
    /** Serializes {@link #setMembership} (held across a membership's first lookup); never taken under membershipLock. */
    private final Object membershipSetLock = new Object();
    /** Its MXBean, registered while bound. */
    private final ServerSocketManagement management = new ServerSocketManagement(this);
    /** The membership followed, or {@code null}; guarded by membershipLock. */
    private Membership membership;

    /** @throws IOException when the socket cannot be created */
    public MtcpServerSocket() throws IOException {
        this(new ListenerImpl());
    }

    private MtcpServerSocket(ListenerImpl impl) {
        super(impl);
        this.impl = impl;
    }

    /**
     * @param port port, 0 for any
     * @throws IOException when binding fails
     */
    public MtcpServerSocket(int port) throws IOException {
        this(port, 50, null);
    }

    /**
     * @param port    port, 0 for any
     * @param backlog accept queue length
     * @throws IOException when binding fails
     */
    public MtcpServerSocket(int port, int backlog) throws IOException {
        this(port, backlog, null);
    }

    /**
     * @param port     port, 0 for any
     * @param backlog  accept queue length
     * @param bindAddr local address, {@code null} for any
     * @throws IOException when binding fails
     */
    public MtcpServerSocket(int port, int backlog, InetAddress bindAddr) throws IOException {
        this();
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        try {
            bind(new InetSocketAddress(bindAddr, port), backlog);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Waits for the next connection: a new session, a session arriving by migration, or a plain TCP
     * client.
     */
    @Override
    public Socket accept() throws IOException {
        if (isClosed()) {
            throw new SocketException("Socket is closed");
        }
        if (!isBound()) {
            throw new SocketException("Socket is not bound yet");
        }
        AcceptedSocket s = new AcceptedSocket(new AcceptedSocketImpl());
        implAccept(s);
        return s;
    }

    /** @param listener told about every migration of a session to or from this server, on a library thread */
    public void addMigrationListener(MigrationListener listener) {
        server().recorder.listeners().add(Objects.requireNonNull(listener, "listener"));
    }

    /** @param listener no longer told */
    public void removeMigrationListener(MigrationListener listener) {
        server().recorder.listeners().remove(listener);
    }

    /**
     * @return counters of the migrations of this server's sessions, in and out (a snapshot). A session this
     *         server moved away is counted before it leaves {@link #sessions()} and before a {@link #drain} or
     *         {@link #move} that moved it completes; one that arrived, before its client is answered (its
     *         {@code migrate()} returns to find it counted here). Listeners are told after that, on a library thread
     */
    public MigrationStatistics statistics() {
        return impl.server().statistics();
    }

    /**
     * Drains this server (the deploy use case) to one target: {@link #drain(List)} with one element.
     *
     * @param target the server the sessions should move to
     * @return completes with the number of sessions that moved away, when the server has no session left
     */
    public CompletableFuture<Integer> drain(InetSocketAddress target) {
        return drain(List.of(Objects.requireNonNull(target, "target")));
    }

    /**
     * Drains this server (the deploy use case): asks every live MTCP session, and every one that arrives
     * meanwhile, to migrate to one of {@code targets}, spread round robin; a session whose move fails is asked
     * again a second later, to the next target. The future completes with the number of sessions that moved
     * away once no MTCP session is left (moved, or ended); plain TCP clients cannot move and are not waited
     * for. Bound the wait with {@link CompletableFuture#get(long, java.util.concurrent.TimeUnit)}; a new drain
     * replaces this one (which is then cancelled). The control connection to each target is opened first, if the
     * pair has none, so that the first migrations do not wait for it.
     *
     * @param targets servers this one advertises ({@link MtcpOptions#ADDITIONAL_SERVERS})
     * @return completes when the server has no session left
     * @throws IllegalArgumentException when {@code targets} is empty or names a server not advertised
     */
    public CompletableFuture<Integer> drain(List<InetSocketAddress> targets) {
        return impl.server().moves.drain(List.copyOf(targets));
    }

    /**
     * @return this server's live MTCP sessions (a snapshot; plain TCP clients are not sessions and are not
     *         listed), with what {@link #move} needs
     */
    public List<SessionInfo> sessions() {
        List<SessionInfo> out = new java.util.ArrayList<>();
        for (org.mtcp.server.internal.ServerSession s : impl.server().sessions()) {
            if (!s.isClosed()) {
                out.add(s.info());
            }
        }
        return out;
    }

    /**
     * Moves one session to {@code target}: sends its client a TRIGGER (thesis 3.2.1) and follows it to its
     * outcome. The future completes with this server's migration event once the session has arrived at
     * the destination (committed), or exceptionally with a {@link org.mtcp.api.MigrationException} whose
     * {@link org.mtcp.api.MigrationException#reason() reason} says why not: the client refused or could not
     * reach the target ({@code NOT_AUTHORIZED}, {@code PEER_UNREACHABLE}, ...), a migration already under way
     * took its place ({@code SUPERSEDED}), the session ended first ({@code SESSION_ENDED}), it is not here
     * ({@code UNKNOWN_SESSION}), or the client did not answer in time ({@code TIMEOUT}, within about 25 s).
     * The listeners and the statistics hear of every outcome too.
     *
     * @param sessionId a {@link SessionInfo#id()} of this server
     * @param target    a server this one advertises ({@link MtcpOptions#ADDITIONAL_SERVERS})
     * @return the outcome
     */
    public CompletableFuture<org.mtcp.api.MigrationEvent> move(String sessionId, InetSocketAddress target) {
        return impl.server().moves.move(Objects.requireNonNull(sessionId, "sessionId"), Objects.requireNonNull(target, "target"));
    }

    /**
     * Asks another cooperating server to move one of its sessions (thesis 3.2.1(b), a third party's trigger:
     * an operator or a load balancer acting through this server), over the authenticated control connection;
     * with {@code target} this server's own address it pulls the session here. The holder moves it as
     * {@link #move} does, and refuses what {@code move} refuses.
     *
     * @param holder    the service address of the server that has the session (this one's own works too)
     * @param sessionId the session's id there ({@link SessionInfo#id()})
     * @param target    where it should go: a server the holder advertises
     * @return completes with where the session went, or exceptionally with a
     *         {@link org.mtcp.api.MigrationException} that says why not
     */
    public CompletableFuture<InetSocketAddress> requestMove(InetSocketAddress holder, String sessionId, InetSocketAddress target) {
        return impl.server().moves.requestMove(Objects.requireNonNull(holder, "holder"), Objects.requireNonNull(sessionId, "sessionId"),
                Objects.requireNonNull(target, "target"));
    }

    /** @return the live sessions' offsets and I/O states, for diagnostics (not a stable format) */
    public String debugState() {
        StringBuilder sb = new StringBuilder();
        for (org.mtcp.server.internal.ServerSession s : impl.server().sessions()) {
            sb.append(s.debugState()).append('\n');
        }
        return sb.toString();
    }

    /**
     * Takes the cooperating servers from {@code membership} from now on: each member list it reports
     * replaces {@link MtcpOptions#CONTROL_MAPPINGS} (this server's own entry kept when the list lacks it)
     * and {@link MtcpOptions#ADDITIONAL_SERVERS} (every member but this server, at most 64), so a server
     * that leaves is no longer advertised to new clients nor trusted as a peer, and one that joins is. A
     * list the server refuses (e.g. a non-loopback control address without {@link MtcpOptions#CONTROL_TLS})
     * is logged and the previous one stays. The membership is closed with this socket, or when replaced;
     * setting the one already followed does nothing, and one whose {@code watch} throws is not followed
     * (it may be set again later).
     *
     * @param membership the source, or {@code null} to stop following the current one (the last list stays)
     * @throws IOException when the socket is not bound, or the membership cannot start watching
     */
    public void setMembership(Membership membership) throws IOException {
        if (!isBound()) {
            throw new SocketException("bind the server socket before setting its membership");
        }
        synchronized (membershipSetLock) { // one change at a time: two racing calls must not both end up watching
            if (isClosed()) {
                throw new SocketException("Socket is closed: no membership to follow");
            }
            Membership old;
            synchronized (membershipLock) {
                old = this.membership;
                if (old == membership && membership != null) {
                    return; // already followed
                }
                this.membership = membership;
            }
            if (old != null) {
                old.close();
            }
            if (membership == null) {
                return;
            }
            try {
                membership.watch(list -> MembershipUpdate.apply(server(), list));
            } catch (IOException | RuntimeException e) {
                synchronized (membershipLock) {
                    if (this.membership == membership) {
                        this.membership = null; // not followed: a later setMembership(membership) may try again
                    }
                }
                throw e;
            }
            if (isClosed()) { // closed while the first lookup ran: close() may have missed it
                synchronized (membershipLock) {
                    if (this.membership == membership) {
                        this.membership = null;
                    }
                }
                membership.close();
            }
        }
    }

    /** Binds as {@link ServerSocket#bind(SocketAddress, int)}, then registers the socket's {@link MtcpServerSocketMXBean}. */
    @Override
    public void bind(java.net.SocketAddress endpoint, int backlog) throws IOException {
        super.bind(endpoint, backlog);
        management.register();
    }

    /**
     * Closes the socket as {@link ServerSocket#close()} (after its drain, with {@link MtcpOptions#DRAIN_ON_CLOSE}),
     * then the membership, if any (so that a registry that announces this server keeps it a member while its
     * sessions leave), and unregisters the MXBean.
     */
    @Override
    public void close() throws IOException {
        try {
            super.close();
        } finally {
            Membership m;
            synchronized (membershipLock) {
                m = membership;
                membership = null;
            }
            try {
                if (m != null) {
                    m.close();
                }
            } finally {
                management.unregister();
            }
        }
    }

    Server server() {
        return impl.server();
    }

    /** A socket accepted by this server. */
    static final class AcceptedSocket extends Socket {
        AcceptedSocket(AcceptedSocketImpl impl) throws SocketException {
            super(impl);
        }
    }
}
