package org.mtcp.api;

import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * The outcome of one migration as one party saw it, with that party's phase timings as the thesis
 * measured them (figure 5.2).
 */
public final class MigrationEvent {

    /** The part a party plays in a migration. */
    public enum Role {
        /** The client, which initiates every migration. */
        CLIENT,
        /** The server the session leaves. */
        ORIGIN,
        /** The server the session moves to. */
        DESTINATION
    }

    /** Who decided that the session should move. */
    public enum Initiation {
        /** The client application, through {@code MIGRATE}. */
        CLIENT,
        /** A server, through {@code TRIGGER}. */
        SERVER_TRIGGER,
        /** A client-side migration policy. */
        POLICY,
        /**
         * Unknown to this party. The client says who started a migration in its request, and the
         * destination passes it on to the origin; a request that does not say (a hand-made one) leaves the
         * destination with this and the origin with what it knows itself (its own trigger).
         */
        UNKNOWN,
        /**
         * The client library itself, to resume the session over a new connection after the one under it
         * broke (a reset, an abort, an end without the library's end of stream): to the same server, or to
         * an advertised alternate when that one cannot be reached. Statistics count these as resumes, not
         * migrations.
         */
        RESUME
    }

    /** The phases of thesis figure 5.2; each belongs to one role. */
    public enum Phase {
        /** Client: from the decision to the request sent to the destination (connect included). */
        CLIENT_PREPARE(Role.CLIENT),
        /** Client: waiting for the destination's answer. */
        CLIENT_WAIT(Role.CLIENT),
        /** Client: switching the session to the new connection. */
        CLIENT_COMPLETE(Role.CLIENT),
        /** Destination: from the client's request to the state request sent to the origin. */
        DESTINATION_PREPARE_REQUEST(Role.DESTINATION),
        /** Destination: waiting for the origin's state reply. */
        DESTINATION_WAIT_REPLY(Role.DESTINATION),
        /** Destination: installing the state and answering the client. */
        DESTINATION_REINSTATE(Role.DESTINATION),
        /** Origin: from the state request to the state reply sent. */
        ORIGIN_PREPARE_REPLY(Role.ORIGIN);

        private final Role role;

        Phase(Role role) {
            this.role = role;
        }

        /** @return the role whose timing this phase is */
        public Role role() {
            return role;
        }
    }

    private final Role role;
    private final Initiation initiation;
    private final String sessionId;
    private final InetSocketAddress from;
    private final InetSocketAddress to;
    private final MigrationException failure;
    private final int stateBytes;
    private final long replayedBytes;
    private final long resentBytes;
    private final Map<Phase, Long> phaseNanos;

    /**
     * @param role          the part this party played
     * @param initiation    who decided the move
     * @param sessionId     the session's identifier (hex)
     * @param from          the origin's service address
     * @param to            the destination's service address
     * @param failure       why it failed, or {@code null} when it committed
     * @param stateBytes    size of the application state transferred
     * @param replayedBytes client bytes carried to the destination (the read log; bytes the application had not
     *                      read only when the client's stream had ended or the input was shut: the client
     *                      sends the others to the destination itself)
     * @param resentBytes   server bytes carried to the destination to be sent again
     * @param phaseNanos    this party's phase timings in nanoseconds
     */
    public MigrationEvent(Role role, Initiation initiation, String sessionId, InetSocketAddress from, InetSocketAddress to,
                          MigrationException failure, int stateBytes, long replayedBytes, long resentBytes,
                          Map<Phase, Long> phaseNanos) {
        this.role = Objects.requireNonNull(role, "role");
        this.initiation = Objects.requireNonNull(initiation, "initiation");
        this.sessionId = Objects.requireNonNull(sessionId, "sessionId");
        this.from = from;
        this.to = to;
        this.failure = failure;
        this.stateBytes = stateBytes;
        this.replayedBytes = replayedBytes;
        this.resentBytes = resentBytes;
        EnumMap<Phase, Long> copy = new EnumMap<>(Phase.class);
        copy.putAll(phaseNanos);
        this.phaseNanos = Collections.unmodifiableMap(copy);
    }

    /** @return the part this party played */
    public Role role() {
        return role;
    }

    /** @return who decided the move, as far as this party knows */
    public Initiation initiation() {
        return initiation;
    }

    /** @return the session's identifier, the same on every party and across migrations */
    public String sessionId() {
        return sessionId;
    }

    /** @return the origin's service address */
    public InetSocketAddress from() {
        return from;
    }

    /** @return the destination's service address */
    public InetSocketAddress to() {
        return to;
    }

    /** @return {@code true} when the session moved */
    public boolean committed() {
        return failure == null;
    }

    /** @return why the migration failed, or {@code null} when it committed */
    public MigrationException failure() {
        return failure;
    }

    /** @return size in bytes of the application state transferred (servers know it; a client's events say 0) */
    public int stateBytes() {
        return stateBytes;
    }

    /** @return client-to-server bytes carried to the destination in the state (the read log; see the constructor) */
    public long replayedBytes() {
        return replayedBytes;
    }

    /** @return server-to-client bytes carried to the destination to be sent again */
    public long resentBytes() {
        return resentBytes;
    }

    /** @return this party's phase timings in nanoseconds; phases it did not reach are absent */
    public Map<Phase, Long> phaseNanos() {
        return phaseNanos;
    }

    /**
     * @param phase a phase of this party's role
     * @return its duration in nanoseconds, or -1 when it was not reached
     */
    public long phaseNanos(Phase phase) {
        Long v = phaseNanos.get(phase);
        return v == null ? -1 : v;
    }

    /** @return the sum of this party's phase timings in nanoseconds */
    public long totalNanos() {
        long sum = 0;
        for (long v : phaseNanos.values()) {
            sum += v;
        }
        return sum;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("MigrationEvent[").append(role).append(' ').append(sessionId)
                .append(' ').append(from).append(" -> ").append(to)
                .append(committed() ? " committed" : " failed: " + failure.getMessage())
                .append(", state ").append(stateBytes).append(" B");
        phaseNanos.forEach((p, n) -> sb.append(", ").append(p).append(' ').append(n / 1000).append(" us"));
        return sb.append(']').toString();
    }
}
