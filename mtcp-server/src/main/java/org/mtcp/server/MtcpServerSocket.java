package org.mtcp.server;

import org.mtcp.api.MigrationListener;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * A server socket whose accepted sessions can migrate (STUB: being implemented).
 */
public class MtcpServerSocket extends ServerSocket {

    /** @throws IOException when the socket cannot be created */
    public MtcpServerSocket() throws IOException {
        super();
    }

    /** @param port port, 0 for any @throws IOException when binding fails */
    public MtcpServerSocket(int port) throws IOException {
        super(port);
    }

    /** @param port port @param backlog backlog @throws IOException when binding fails */
    public MtcpServerSocket(int port, int backlog) throws IOException {
        super(port, backlog);
    }

    /** @param port port @param backlog backlog @param bindAddr address @throws IOException when binding fails */
    public MtcpServerSocket(int port, int backlog, InetAddress bindAddr) throws IOException {
        super(port, backlog, bindAddr);
    }

    /** @param listener told about every migration of a session of this server */
    public void addMigrationListener(MigrationListener listener) {
        throw new UnsupportedOperationException("stub");
    }

    /** @param listener no longer told */
    public void removeMigrationListener(MigrationListener listener) {
        throw new UnsupportedOperationException("stub");
    }
}
