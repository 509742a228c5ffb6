package org.mtcp.server.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.nio.channels.SocketChannel;

/** A connection waiting in, or taken from, a server's accept queue: an MTCP session or a plain TCP client. */
public interface Accepted {
    /** @return the client's address */
    InetSocketAddress remote();

    /** @return the local address of the connection */
    InetSocketAddress local();

    /** @return the application's input stream */
    InputStream input();

    /** @return the application's output stream */
    OutputStream output();

    /**
     * @param timeoutMillis read timeout, 0 for none
     */
    void setReadTimeout(int timeoutMillis);

    /** @return bytes readable without blocking */
    int available() throws IOException;

    /** Exports the application state (a snapshot at a restart point). */
    void exportState(byte[] state) throws IOException;

    /** @return the last exported state, empty on a new connection */
    byte[] importState() throws IOException;

    /** @return whether the connection arrived by migration */
    boolean migrated();

    /**
     * Asks the client to migrate.
     *
     * @param to destination, or {@code null} for the client's choice
     */
    void trigger(InetSocketAddress to) throws IOException;

    /** Ends the output stream. */
    void shutdownOutput() throws IOException;

    /** Ends the input stream. */
    void shutdownInput() throws IOException;

    /** Closes the connection. */
    void close() throws IOException;

    /**
     * Closes a connection the application never accepted as the kernel does when a listening socket
     * closes with connections in its accept queue: with a reset. Errors are swallowed: nobody is there to
     * tell.
     */
    default void resetQuietly() {
        SocketChannel ch = channel();
        if (ch != null) {
            try {
                ch.setOption(java.net.StandardSocketOptions.SO_LINGER, 0);
            } catch (IOException | RuntimeException ignored) {
                // closed already: nothing to reset
            }
        }
        try {
            close();
        } catch (IOException ignored) {
            // nobody to tell
        }
    }

    /** @return the channel of the current connection, for socket options; may be {@code null} */
    SocketChannel channel();

    /**
     * Applies a standard socket option to the connection (and to later ones after migrations).
     */
    <T> void setOption(SocketOption<T> name, T value) throws IOException;
}
