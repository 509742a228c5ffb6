package org.mtcp.samples.stream;

/**
 * A migration as the client saw it, placed on the download's trace.
 *
 * @param nanos          time since the client started to connect, when the outcome was known
 * @param offset         stream bytes the client had read by then
 * @param from           name of the origin server
 * @param to             name of the destination server
 * @param committed      whether the session moved
 * @param failure        why it failed, or {@code null}
 * @param migrationNanos the client's own time spent migrating (its phases)
 */
public record MigrationMark(long nanos, long offset, String from, String to, boolean committed, String failure,
                            long migrationNanos) {
    /** @return {@link #nanos} in milliseconds */
    public double millis() {
        return nanos / 1e6;
    }
}
