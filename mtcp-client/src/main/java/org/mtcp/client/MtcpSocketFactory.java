package org.mtcp.client;

import javax.net.SocketFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A {@link SocketFactory} of {@link MtcpSocket}s, for libraries that take one (OkHttp,
 * Apache HttpClient, PostgreSQL JDBC...). {@link #createSocket()} returns an unconnected socket.
 */
public class MtcpSocketFactory extends SocketFactory {
    /** Makes each socket's policy, or {@code null} for none. */
    private final Supplier<? extends MigrationPolicy> policies;

    /** A factory of plain migratory sockets (no migration policy: they move when a server or the application asks). */
    public MtcpSocketFactory() {
        this.policies = null;
    }

    /**
     * A factory whose sockets follow a migration policy, e.g. {@code new MtcpSocketFactory(SmoothedThroughputPolicy::new)}:
     * the library that takes the factory needs no change for its connections to leave a slow server.
     *
     * @param policies called once per socket: a policy keeps per-connection state, so each socket gets its own
     */
    public MtcpSocketFactory(Supplier<? extends MigrationPolicy> policies) {
        this.policies = Objects.requireNonNull(policies, "policies");
    }

    private MtcpSocket fresh() throws IOException {
        MtcpSocket s = new MtcpSocket();
        if (policies != null) {
            s.setMigrationPolicy(policies.get());
        }
        return s;
    }

    @Override
    public Socket createSocket() throws IOException {
        return fresh();
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return connected(fresh(), new InetSocketAddress(host, port), null);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return connected(fresh(), new InetSocketAddress(host, port), new InetSocketAddress(localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return connected(fresh(), new InetSocketAddress(host, port), null);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return connected(fresh(), new InetSocketAddress(address, port), new InetSocketAddress(localAddress, localPort));
    }

    private static Socket connected(MtcpSocket s, InetSocketAddress to, InetSocketAddress local) throws IOException {
        try {
            if (local != null) {
                s.bind(local);
            }
            if (to.isUnresolved()) {
                throw new java.net.UnknownHostException(to.getHostName());
            }
            s.connect(to);
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }
}
