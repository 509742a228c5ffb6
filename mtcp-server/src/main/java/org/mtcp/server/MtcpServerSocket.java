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

    /** @return counters of the migrations of this server's sessions, in and out (a snapshot) */
    public MigrationStatistics statistics() {
        return impl.server().statistics();
    }

    /**
     * Drains this server (the deploy use case): asks every live migratable session, and every one
     * that arrives meanwhile, to migrate to {@code target}, again every second until it has. The
     * future completes with the number of sessions that moved away once no MTCP session is left;
     * plain TCP clients cannot move and are not waited for. Bound the wait with
     * {@link CompletableFuture#get(long, java.util.concurrent.TimeUnit)}; a new drain replaces this one.
     *
     * @param target the server the sessions should move to
     * @return completes when the server has no session left
     */
    public CompletableFuture<Integer> drain(InetSocketAddress target) {
        return impl.server().drain(Objects.requireNonNull(target, "target"));
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
        if (membership != null) {
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
        }
    }

    /** Closes the membership (if any), then the socket as {@link ServerSocket#close()}. */
    @Override
    public void close() throws IOException {
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
            super.close();
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
