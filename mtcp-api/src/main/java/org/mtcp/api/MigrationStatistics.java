package org.mtcp.api;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * Counters of the migrations a socket took part in, read through {@code MtcpSocket.statistics()} or
 * {@code MtcpServerSocket.statistics()}: a snapshot, cumulative since the socket was created.
 */
public final class MigrationStatistics {
    private final long started;
    private final long committed;
    private final Map<MigrationException.Reason, Long> failed;
    private final long bytesReplayed;
    private final long bytesResent;
    private final long duplicateBytesDropped;
    private final long resumed;
    private final long resumesFailed;

    /**
     * @param started               migrations begun (as client, origin or destination)
     * @param committed             migrations that moved the session
     * @param failed                migrations that did not, by reason
     * @param bytesReplayed         client bytes carried to destinations (read logs and unread data)
     * @param bytesResent           server bytes carried to destinations to be sent again
     * @param duplicateBytesDropped bytes dropped because the other end already had them
     */
    public MigrationStatistics(long started, long committed, Map<MigrationException.Reason, Long> failed, long bytesReplayed,
                               long bytesResent, long duplicateBytesDropped) {
        this(started, committed, failed, bytesReplayed, bytesResent, duplicateBytesDropped, 0, 0);
    }

    /**
     * As the six-argument constructor, with the link resumes.
     *
     * @param resumed       sessions that went on over a new connection after theirs broke
     * @param resumesFailed sessions whose connection broke and that could not resume in time
     */
    public MigrationStatistics(long started, long committed, Map<MigrationException.Reason, Long> failed, long bytesReplayed,
                               long bytesResent, long duplicateBytesDropped, long resumed, long resumesFailed) {
        this.resumed = resumed;
        this.resumesFailed = resumesFailed;
        this.started = started;
        this.committed = committed;
        EnumMap<MigrationException.Reason, Long> copy = new EnumMap<>(MigrationException.Reason.class);
        copy.putAll(failed);
        this.failed = Collections.unmodifiableMap(copy);
        this.bytesReplayed = bytesReplayed;
        this.bytesResent = bytesResent;
        this.duplicateBytesDropped = duplicateBytesDropped;
    }

    /** @return migrations begun */
    public long started() {
        return started;
    }

    /** @return migrations that moved the session */
    public long committed() {
        return committed;
    }

    /** @return migrations that failed or were rejected, by reason */
    public Map<MigrationException.Reason, Long> failedByReason() {
        return failed;
    }

    /** @return migrations that failed or were rejected, all reasons */
    public long failed() {
        long n = 0;
        for (long v : failed.values()) {
            n += v;
        }
        return n;
    }

    /** @return client-to-server bytes carried to destinations (read logs and unread data) */
    public long bytesReplayed() {
        return bytesReplayed;
    }

    /** @return server-to-client bytes carried to destinations to be sent again */
    public long bytesResent() {
        return bytesResent;
    }

    /** @return bytes dropped because the other end already had them (after migrations) */
    public long duplicateBytesDropped() {
        return duplicateBytesDropped;
    }

    /**
     * @return times a session went on over a new connection after the one under it broke (not counted as
     *         migrations, although a resume at an alternate server moves the session)
     */
    public long resumed() {
        return resumed;
    }

    /** @return sessions whose connection broke and that did not resume within the grace period */
    public long resumesFailed() {
        return resumesFailed;
    }

    @Override
    public String toString() {
        return "MigrationStatistics[started " + started + ", committed " + committed + ", failed " + failed
                + ", replayed " + bytesReplayed + " B, resent " + bytesResent + " B, duplicates dropped "
                + duplicateBytesDropped + " B, resumed " + resumed + (resumesFailed > 0 ? ", resumes failed " + resumesFailed : "")
                + "]";
    }
}
