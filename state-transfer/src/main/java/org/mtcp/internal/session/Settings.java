package org.mtcp.internal.session;

/**
 * Tunables, read once from system properties (names in the constants' comments). The defaults suit
 * loopback and LAN; every buffer and wait they bound is named here.
 */
public final class Settings {
    private Settings() {
    }

    /** {@code mtcp.sendWindow}: most unacknowledged bytes a writer may have outstanding (retransmit / write buffer). */
    public static final int SEND_WINDOW = Integer.getInteger("mtcp.sendWindow", 1024 * 1024);
    /** {@code mtcp.receiveWindow}: the credit: how far past the application's read offset the peer may send. */
    public static final int RECEIVE_WINDOW = Integer.getInteger("mtcp.receiveWindow", 1024 * 1024);
    /** {@code mtcp.readLogLimit}: most bytes logged since the last export before a session becomes non-migratable. */
    public static final int READ_LOG_LIMIT = Integer.getInteger("mtcp.readLogLimit", 1024 * 1024);
    /** {@code mtcp.maxStateBytes}: largest application state an export may hold. */
    public static final int MAX_STATE_BYTES = Integer.getInteger("mtcp.maxStateBytes", 4 * 1024 * 1024);
    /** {@code mtcp.handshakeTimeoutMillis}: a client's wait for the server's handshake answer. */
    public static final long HANDSHAKE_TIMEOUT_MILLIS = Long.getLong("mtcp.handshakeTimeoutMillis", 10_000);
    /** {@code mtcp.migrateTimeoutMillis}: a client's wait for the destination's answer; above the state timeout. */
    public static final long MIGRATE_TIMEOUT_MILLIS = Long.getLong("mtcp.migrateTimeoutMillis", 10_000);
    /** {@code mtcp.stateTimeoutMillis}: a destination's wait for the origin's state reply. */
    public static final long STATE_TIMEOUT_MILLIS = Long.getLong("mtcp.stateTimeoutMillis", 5_000);
    /** {@code mtcp.freezeTimeoutMillis}: an origin's wait for the commit after it sent the state. */
    public static final long FREEZE_TIMEOUT_MILLIS = Long.getLong("mtcp.freezeTimeoutMillis", 15_000);
    /** {@code mtcp.detectMillis}: how long a server waits for a silent new client to show it speaks MTCP. */
    public static final long DETECT_MILLIS = Long.getLong("mtcp.detectMillis", 2000);
    /** {@code mtcp.controlConnectTimeoutMillis}: connecting to a cooperating server's control address. */
    public static final long CONTROL_CONNECT_TIMEOUT_MILLIS = Long.getLong("mtcp.controlConnectTimeoutMillis", 3_000);
}
