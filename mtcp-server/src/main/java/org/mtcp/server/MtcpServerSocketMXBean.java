package org.mtcp.server;

import java.util.Map;

/**
 * The management interface every bound {@link MtcpServerSocket} registers in the platform MBean server,
 * as {@code org.mtcp:type=MtcpServerSocket,port=<its local port>} (with {@code ,address=<its address>}
 * added when another server socket of the JVM has that port on another address), unregistered when it
 * closes. jconsole, VisualVM, jmxterm and monitoring agents read it; addresses are written
 * {@code host:port} ({@code [v6]:port}). Operations that fail throw an {@link IllegalStateException} or an
 * {@link IllegalArgumentException} whose message says why (JDK types, so that every JMX client can read them).
 */
public interface MtcpServerSocketMXBean {
    /** @return the live MTCP sessions (plain TCP clients are not sessions) */
    int getSessionCount();

    /** @return the live sessions' ids, what {@link #move} takes */
    String[] getSessionIds();

    /** @return one line per live session: id, client, migrated, bytes read and written, migrations, movable */
    String[] getSessions();

    /** @return the servers this one advertises to its clients: where its sessions may move */
    String[] getAdvertisedServers();

    /** @return migrations of this server's sessions started (in and out), triggers that did not move included */
    long getMigrationsStarted();

    /** @return migrations committed */
    long getMigrationsCommitted();

    /** @return migrations that did not commit */
    long getMigrationsFailed();

    /** @return migrations that did not commit, by reason */
    Map<String, Long> getMigrationsFailedByReason();

    /** @return client bytes carried to destinations (read logs and unread data) */
    long getBytesReplayed();

    /** @return server bytes carried to destinations to be sent again */
    long getBytesResent();

    /** @return duplicate bytes dropped after migrations */
    long getDuplicateBytesDropped();

    /**
     * @return one line per cooperating server of {@code CONTROL_MAPPINGS} (this one left out): its service and
     *         control addresses and this server's control connection to it, e.g.
     *         {@code "10.0.0.2:9000 control 10.0.0.2:9100: open (TLS)"}; the connection is "open", "connecting",
     *         or "none" and what comes next: with {@code CONTROL_OPEN_AHEAD} {@code "none, try 3 in 800 ms"},
     *         else {@code "none (opened by the pair's next migration)"}. Empty without mappings.
     */
    String[] getControlPeers();

    /**
     * @return why the last control connections closed or could not be opened (at most 32), oldest first: a
     *         refused connect, a TLS refusal naming its peer and reason, a connection closed on request
     */
    String[] getControlCloseReasons();

    /**
     * Moves one session and waits for the outcome (at most about 30 s).
     *
     * @param sessionId a session id of this server
     * @param target    {@code host:port} of a server this one advertises
     * @return where the session went
     */
    String move(String sessionId, String target);

    /**
     * Drains this server to the targets and waits until no session is left, at most the
     * {@code DRAIN_ON_CLOSE} deadline when set, else 60 s (the drain goes on after a timeout).
     *
     * @param target {@code host:port}, or several separated by commas (the sessions are spread over them)
     * @return the number of sessions moved
     */
    int drain(String target);

    /**
     * Asks another cooperating server to move one of its sessions (a third party's trigger) and waits for
     * the outcome (at most about 40 s).
     *
     * @param server    {@code host:port} of the server that has the session
     * @param sessionId the session's id there
     * @param target    {@code host:port} of where it should go (this server's own address: a pull)
     * @return where the session went
     */
    String requestMove(String server, String sessionId, String target);
}
