package org.mtcp.api;

import java.io.IOException;

/**
 * A migration failed. The message says why and whether the session is still alive on the server it
 * was on before; {@link #reason()} and {@link #sessionAlive()} say the same for programs.
 */
public class MigrationException extends IOException {
    private static final long serialVersionUID = 1L;

    /** Why a migration failed. */
    public enum Reason {
        /** The origin server does not know the session. */
        UNKNOWN_SESSION,
        /** The session cannot migrate now (handshake not finished, closed, or a plain TCP connection). */
        INVALID_STATE,
        /** The read log outgrew its limit since the last export; the session migrates again after the next export. */
        LOG_OVERFLOW,
        /** The migration request carried no valid proof of ownership, or replayed an old one. */
        NOT_AUTHORIZED,
        /** A party did not answer within the deadline. */
        TIMEOUT,
        /** The destination, or the origin as seen from the destination, could not be reached. */
        PEER_UNREACHABLE,
        /** The destination failed after the origin committed the transfer: the session is lost. */
        DESTINATION_FAILED_AFTER_COMMIT,
        /** The destination has no control mapping for the origin, or is not a cooperating server. */
        NOT_COOPERATING,
        /** The socket was closed while migrating. */
        CLOSED,
        /** A party broke the protocol. */
        PROTOCOL_ERROR,
        /** No destination was given and the server advertised no alternate. */
        NO_DESTINATION,
        /** Anything else. */
        OTHER,
        /** A migration already under way took the place of the one asked for (a TRIGGER or a move). */
        SUPERSEDED,
        /** The session ended (closed, or its client gone) before it could move. */
        SESSION_ENDED
    }

    private final Reason reason;
    private final boolean sessionAlive;

    /**
     * A failure with reason {@link Reason#OTHER}, the session still alive on the old server.
     *
     * @param message what happened and to which connection
     */
    public MigrationException(String message) {
        this(message, Reason.OTHER, true, null);
    }

    /**
     * @param message      what happened and to which connection
     * @param reason       why
     * @param sessionAlive whether the session still lives on the server it was on
     * @param cause        the underlying failure, or {@code null}
     */
    public MigrationException(String message, Reason reason, boolean sessionAlive, Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.sessionAlive = sessionAlive;
    }

    /** @return why the migration failed */
    public Reason reason() {
        return reason;
    }

    /** @return {@code true} when the session goes on at the server it was on before the attempt */
    public boolean sessionAlive() {
        return sessionAlive;
    }
}
