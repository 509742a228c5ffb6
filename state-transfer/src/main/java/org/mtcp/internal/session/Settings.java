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
    /**
     * {@code mtcp.handshakeTimeoutMillis}: a client's wait for the server's handshake answer when the application
     * gave {@code connect} no timeout. The default is as long as the kernel goes on retrying a SYN that a full
     * backlog drops ({@link #kernelConnectWindowMillis()}, 127 s on Linux's defaults): a JDK client's connect
     * waits that long for a server that does not accept, and an MTCP client's waits as long for a server whose
     * application does not accept (the server answers the handshake as it takes the connection off the kernel).
     */
    public static final long HANDSHAKE_TIMEOUT_MILLIS = Long.getLong("mtcp.handshakeTimeoutMillis", kernelConnectWindowMillis());
    /** {@code mtcp.migrateTimeoutMillis}: a client's wait for the destination's answer; above the state timeout. */
    public static final long MIGRATE_TIMEOUT_MILLIS = Long.getLong("mtcp.migrateTimeoutMillis", 10_000);
    /** {@code mtcp.stateTimeoutMillis}: a destination's wait for the origin's state reply. */
    public static final long STATE_TIMEOUT_MILLIS = Long.getLong("mtcp.stateTimeoutMillis", 5_000);
    /** {@code mtcp.freezeTimeoutMillis}: an origin's wait for the commit after it sent the state. */
    public static final long FREEZE_TIMEOUT_MILLIS = Long.getLong("mtcp.freezeTimeoutMillis", 15_000);
    /**
     * {@code mtcp.resumeGraceMillis}: how long a session whose connection broke (a reset, an abort, an end
     * without the library's end of stream) waits for a new one: the client keeps trying to reconnect that long,
     * and a server keeps the session that long (a server socket's {@code MtcpOptions.RESUME_GRACE} overrides it).
     * Zero turns resuming off: a broken connection ends the session as it ends a plain socket's.
     */
    public static final long RESUME_GRACE_MILLIS = Long.getLong("mtcp.resumeGraceMillis", 30_000);
    /**
     * {@code mtcp.heartbeatMillis}: a connection is taken for broken (and the session resumed over a new one) when
     * nothing arrives on it for this long while bytes sent on it wait for acknowledgement; a client's idle
     * connection is probed by the kernel's keepalive after this long without traffic (three probes, a third of it
     * apart), so a path that went silent is noticed within twice this. Zero: off.
     */
    public static final long HEARTBEAT_MILLIS = Long.getLong("mtcp.heartbeatMillis", 15_000);
    /** {@code mtcp.detectMillis}: how long a server waits for a silent new client to show it speaks MTCP. */
    public static final long DETECT_MILLIS = Long.getLong("mtcp.detectMillis", 2000);
    /** {@code mtcp.controlConnectTimeoutMillis}: connecting to a cooperating server's control address. */
    public static final long CONTROL_CONNECT_TIMEOUT_MILLIS = Long.getLong("mtcp.controlConnectTimeoutMillis", 3_000);

    /**
     * @return how long the kernel retries a SYN before {@code connect} fails: with {@code net.ipv4.tcp_syn_retries}
     * retries and an initial retransmission timeout of 1 s doubling each time, 2^(n+1) - 1 seconds; Linux's default
     * of 6 where the setting cannot be read
     */
    static long kernelConnectWindowMillis() {
        int retries = 6;
        try {
            java.nio.file.Path p = java.nio.file.Path.of("/proc/sys/net/ipv4/tcp_syn_retries");
            if (java.nio.file.Files.isReadable(p)) {
                retries = Integer.parseInt(java.nio.file.Files.readString(p).trim());
            }
        } catch (java.io.IOException | NumberFormatException | SecurityException e) {
            // keep Linux's default
        }
        retries = Math.max(1, Math.min(retries, 10)); // the kernel caps it at 127; beyond 10 is over half an hour
        return ((1L << (retries + 1)) - 1) * 1000;
    }
}
