package org.mtcp.client;

import org.mtcp.api.MigrationEvent;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * Decides, as data arrives, when a client session should move to another server. The client library
 * consults it on the thread that received the data; a non-null answer starts a migration in the
 * background (reported to {@link org.mtcp.api.MigrationListener}s with initiation
 * {@link MigrationEvent.Initiation#POLICY}) while the application goes on reading.
 *
 * <p>Implementations are called by one thread at a time for a given socket, must return quickly, and
 * should not be shared between sockets unless they are stateless.
 */
public interface MigrationPolicy {

    /**
     * Called every time the library receives server data for this session.
     *
     * @param bytes      how many bytes of server data just arrived (at least 1)
     * @param nanoTime   {@link System#nanoTime()} at arrival
     * @param current    the server the session is attached to
     * @param alternates the alternates the current server advertised (may be empty)
     * @return the server to migrate to, or {@code null} to stay
     */
    InetSocketAddress onData(int bytes, long nanoTime, InetSocketAddress current, List<InetSocketAddress> alternates);

    /**
     * Called after every migration of this session, whoever started it, committed or not.
     *
     * @param event    the outcome
     * @param nanoTime {@link System#nanoTime()} when the outcome was known
     */
    default void onMigration(MigrationEvent event, long nanoTime) {
    }
}
