package org.mtcp.samples.stream;

import java.time.Duration;

/**
 * How fast a server writes and how it degrades, the thesis's simulated degrading server. A server
 * writes one chunk every {@code baseDelay}; once it has served {@code degradeAfterBytes} of a session
 * (counted from when that session arrived at it), the interval grows linearly over the next
 * {@code rampBytes} up to {@code maxDelay} and stays there. The thesis made the delays gradual too,
 * which is what a smoothed-throughput policy can follow.
 *
 * <p>Counting per server copy, not per stream offset, is what makes migration pay: the session
 * arrives at a server that is fast again, as the thesis's second server "responds to the client at a
 * faster rate initially (before the delay threshold is crossed)".
 *
 * @param baseDelay         interval between chunks of a healthy server (the best rate)
 * @param degradeAfterBytes bytes of a session a server serves before it starts to slow down
 * @param rampBytes         bytes over which the interval grows to {@code maxDelay} (0: at once)
 * @param maxDelay          interval between chunks of a fully degraded server
 */
public record ServerPacing(Duration baseDelay, long degradeAfterBytes, long rampBytes, Duration maxDelay) {

    /** Checks the values. */
    public ServerPacing {
        if (baseDelay.isNegative() || maxDelay.compareTo(baseDelay) < 0) {
            throw new IllegalArgumentException("need 0 <= base delay <= max delay: " + baseDelay + ", " + maxDelay);
        }
        if (degradeAfterBytes < 0 || rampBytes < 0) {
            throw new IllegalArgumentException("negative byte counts: " + degradeAfterBytes + ", " + rampBytes);
        }
    }

    /** @return a server that never slows down nor waits between chunks */
    public static ServerPacing unpaced() {
        return new ServerPacing(Duration.ZERO, Long.MAX_VALUE, 0, Duration.ZERO);
    }

    /**
     * @param servedHere bytes of this session this server copy has written so far
     * @return interval in nanoseconds to leave before the next chunk
     */
    public long delayNanos(long servedHere) {
        long base = baseDelay.toNanos();
        if (servedHere < degradeAfterBytes) {
            return base;
        }
        double fraction = rampBytes == 0 ? 1 : Math.min(1.0, (servedHere - degradeAfterBytes) / (double) rampBytes);
        return base + Math.round(fraction * (maxDelay.toNanos() - base));
    }

    /**
     * @param chunkBytes chunk size
     * @return a healthy server's rate in bytes per second ({@code +Infinity} when unpaced)
     */
    public double bestBytesPerSecond(int chunkBytes) {
        long base = baseDelay.toNanos();
        return base == 0 ? Double.POSITIVE_INFINITY : chunkBytes * 1e9 / base;
    }
}
