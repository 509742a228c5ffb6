package org.mtcp.internal.session;

/**
 * A session's life, the same at both ends; a session changes it only through
 * {@link SessionCore#state}. A migration under way is not a lifecycle state: it is an object of its
 * own at each end (the client's migration, the origin's outgoing transfer), and an application may
 * close its session while one runs.
 */
public enum Lifecycle {
    /** Streams flowing both ways. */
    OPEN,
    /** The peer ended its stream and closed its connection: what arrived is read to the end, writes fail. */
    PEER_DONE,
    /** The application closed the socket; the connection stays until the peer has everything (bounded by the linger time). */
    CLOSING,
    /** The session committed to another server (server end only): this copy is done. */
    MOVED,
    /** A fatal error: every call of the application throws it. */
    FAILED,
    /** Released: buffers returned, nothing more happens. */
    CLOSED;

    /** @return whether a session may go from {@code from} to {@code to}: forward only, MOVED and CLOSED final */
    public static boolean allowed(Lifecycle from, Lifecycle to) {
        switch (from) {
            case OPEN:
                return to != Lifecycle.OPEN;
            case PEER_DONE:
                return to != Lifecycle.OPEN && to != Lifecycle.PEER_DONE;
            case CLOSING:
            case FAILED:
                return to == Lifecycle.MOVED || to == Lifecycle.CLOSED;
            default:
                return false; // MOVED, CLOSED
        }
    }
}
