package org.mtcp.samples.stream;

/**
 * One sample of a download's trace: after a read, how much of the stream the client had and from
 * which server the session was receiving.
 *
 * @param nanos  time since the client started to connect
 * @param offset stream bytes received so far
 * @param server name of the server the session was on
 */
public record TracePoint(long nanos, long offset, String server) {
    /** @return {@link #nanos} in milliseconds */
    public double millis() {
        return nanos / 1e6;
    }
}
