package org.mtcp.client;

import org.mtcp.api.MigrationListener;
import org.mtcp.api.MtcpOptions;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * A client socket whose server endpoint can migrate (STUB: being implemented).
 */
public class MtcpSocket extends Socket {

    /** An unconnected socket; call {@link #connect}. */
    public MtcpSocket() {
        super();
    }

    /**
     * @param host server host
     * @param port server port
     * @throws IOException when the connection or the handshake fails
     */
    public MtcpSocket(String host, int port) throws IOException {
        this();
        connect(new InetSocketAddress(host, port));
    }

    /**
     * @param address server address
     * @param port    server port
     * @throws IOException when the connection or the handshake fails
     */
    public MtcpSocket(InetAddress address, int port) throws IOException {
        this();
        connect(new InetSocketAddress(address, port));
    }

    /**
     * Migrates the session now, as {@code setOption(MtcpOptions.MIGRATE, to)}.
     *
     * @param to the destination server's service address
     * @throws IOException {@link org.mtcp.api.MigrationException} when the migration failed
     */
    public void migrate(InetSocketAddress to) throws IOException {
        setOption(MtcpOptions.MIGRATE, to);
    }

    /** @param listener told about every migration of this socket */
    public void addMigrationListener(MigrationListener listener) {
        throw new UnsupportedOperationException("stub");
    }

    /** @param listener no longer told */
    public void removeMigrationListener(MigrationListener listener) {
        throw new UnsupportedOperationException("stub");
    }

    /** @param policy consulted as data arrives, or {@code null} for none */
    public void setMigrationPolicy(MigrationPolicy policy) {
        throw new UnsupportedOperationException("stub");
    }
}
