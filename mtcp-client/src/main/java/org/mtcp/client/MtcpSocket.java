package org.mtcp.client;

import org.mtcp.api.MigrationListener;
import org.mtcp.api.MigrationStatistics;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.internal.ClientSession;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.util.Objects;

/**
 * A client socket whose server endpoint can migrate between cooperating servers while the session
 * is live, with every byte delivered exactly once in both directions. Use it as any {@link Socket}:
 * its streams keep working across migrations, and {@link #getInetAddress()} / {@link #getPort()}
 * name the server the session is on now.
 *
 * <p>Migrations happen when the application asks ({@link #migrate}, or {@link MtcpOptions#MIGRATE}),
 * when the server asks ({@link MtcpOptions#TRIGGER} on its side), or when a {@link MigrationPolicy}
 * decides; {@link MigrationListener}s hear about each one.
 */
public class MtcpSocket extends Socket {
    private final ClientSocketImpl impl;

    /**
     * An unconnected socket; call {@link #connect}.
     *
     * @throws SocketException only if a security manager refuses the socket implementation
     */
    public MtcpSocket() throws SocketException {
        this(new ClientSocketImpl(a -> true));
    }

    private MtcpSocket(ClientSocketImpl impl) throws SocketException {
        super(impl);
        this.impl = impl;
    }

    /**
     * Connects to an MTCP server.
     *
     * @param host server host
     * @param port server port
     * @throws IOException when the connection or the MTCP handshake fails
     */
    public MtcpSocket(String host, int port) throws IOException {
        this();
        connectOrClose(new InetSocketAddress(host, port));
    }

    /**
     * Connects to an MTCP server.
     *
     * @param address server address
     * @param port    server port
     * @throws IOException when the connection or the MTCP handshake fails
     */
    public MtcpSocket(InetAddress address, int port) throws IOException {
        this();
        connectOrClose(new InetSocketAddress(address, port));
    }

    /**
     * Connects to an MTCP server from a given local address.
     *
     * @param host      server host
     * @param port      server port
     * @param localAddr local address, {@code null} for any
     * @param localPort local port, 0 for any
     * @throws IOException when binding, the connection or the MTCP handshake fails
     */
    public MtcpSocket(String host, int port, InetAddress localAddr, int localPort) throws IOException {
        this();
        bindAndConnect(new InetSocketAddress(host, port), localAddr, localPort);
    }

    /**
     * Connects to an MTCP server from a given local address.
     *
     * @param address   server address
     * @param port      server port
     * @param localAddr local address, {@code null} for any
     * @param localPort local port, 0 for any
     * @throws IOException when binding, the connection or the MTCP handshake fails
     */
    public MtcpSocket(InetAddress address, int port, InetAddress localAddr, int localPort) throws IOException {
        this();
        bindAndConnect(new InetSocketAddress(address, port), localAddr, localPort);
    }

    private void bindAndConnect(InetSocketAddress to, InetAddress localAddr, int localPort) throws IOException {
        try {
            bind(new InetSocketAddress(localAddr, localPort));
        } catch (IOException e) {
            close();
            throw e;
        }
        connectOrClose(to);
    }

    private void connectOrClose(InetSocketAddress to) throws IOException {
        try {
            connect(to);
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    /**
     * Migrates the session now, as {@code setOption(MtcpOptions.MIGRATE, to)}: returns when the
     * client is attached to the new server; migrating to the current server returns at once.
     *
     * @param to the destination server's service address
     * @throws org.mtcp.api.MigrationException when the migration failed (the message says whether
     *                                         the session is still alive on the old server)
     * @throws IOException                     when the socket is not connected or is closed
     */
    public void migrate(InetSocketAddress to) throws IOException {
        setOption(MtcpOptions.MIGRATE, Objects.requireNonNull(to, "to"));
    }

    /** @param listener told about every migration of this socket, on a library thread */
    public void addMigrationListener(MigrationListener listener) {
        impl.recorder.listeners().add(Objects.requireNonNull(listener, "listener"));
    }

    /** @param listener no longer told */
    public void removeMigrationListener(MigrationListener listener) {
        impl.recorder.listeners().remove(listener);
    }

    /**
     * Installs a migration policy, consulted as server data arrives.
     *
     * @param policy the policy, or {@code null} for none
     */
    public void setMigrationPolicy(MigrationPolicy policy) {
        impl.setPolicy(policy);
    }

    /** @return counters of this socket's migrations (a snapshot) */
    public MigrationStatistics statistics() {
        ClientSession s = impl.session();
        return impl.recorder.snapshot(s == null ? 0 : s.duplicatesDropped());
    }

    /** @return the session's identifier (hex), or {@code null} before the MTCP handshake */
    public String sessionId() {
        ClientSession s = impl.session();
        return s == null ? null : s.sessionId();
    }

    /** @return the service address of the server the session is on, or {@code null} before connect */
    public InetSocketAddress currentServer() {
        ClientSession s = impl.session();
        return s == null ? null : s.server();
    }

    /** @return the session's offsets and I/O state, for diagnostics (not a stable format) */
    public String debugState() {
        ClientSession s = impl.session();
        return s == null ? "no session" : s.debugState();
    }

    @Override
    public String toString() {
        try {
            return "MtcpSocket[" + (isConnected() ? "session " + sessionId() + " on " + currentServer() : "unconnected") + "]";
        } catch (RuntimeException e) {
            return "MtcpSocket";
        }
    }
}
