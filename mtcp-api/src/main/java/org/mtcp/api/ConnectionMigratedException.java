package org.mtcp.api;

import java.net.SocketException;

/**
 * I/O on a server's socket after its session migrated to another server (the thesis's
 * {@code EMIGRATED}). The application copy on this server should stop serving the session: the
 * destination's copy resumes it from the last exported state.
 */
public class ConnectionMigratedException extends SocketException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what happened and to which connection
     */
    public ConnectionMigratedException(String message) {
        super(message);
    }
}
