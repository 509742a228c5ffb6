package org.mtcp.samples.multihost;

import org.mtcp.api.MigrationEvent;
import org.mtcp.client.MigrationPolicy;
import org.mtcp.client.SmoothedThroughputPolicy;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * The thesis's {@link SmoothedThroughputPolicy}, fed one throughput sample per window instead of one per
 * read. Over a real network one paced chunk arrives in several reads, microseconds apart; per-read samples
 * then swing by orders of magnitude and the policy's maximum is a spike. Summing the bytes of a window
 * (100 ms here) gives the policy the rate the application sees, so it moves when a link slows, not on noise.
 */
final class WindowedPolicy implements MigrationPolicy {
    private final SmoothedThroughputPolicy delegate;
    private final long windowNanos;
    private long windowStart = -1;
    private int windowBytes;

    WindowedPolicy(SmoothedThroughputPolicy delegate, long windowNanos) {
        this.delegate = delegate;
        this.windowNanos = windowNanos;
    }

    @Override
    public synchronized InetSocketAddress onData(int bytes, long nanoTime, InetSocketAddress current,
                                                 List<InetSocketAddress> alternates) {
        if (windowStart < 0) {
            windowStart = nanoTime;
            return delegate.onData(bytes, nanoTime, current, alternates); // starts its clock
        }
        windowBytes += bytes;
        if (nanoTime - windowStart < windowNanos) {
            return null;
        }
        int n = windowBytes;
        windowBytes = 0;
        windowStart = nanoTime;
        return delegate.onData(n, nanoTime, current, alternates);
    }

    @Override
    public synchronized void onMigration(MigrationEvent event, long nanoTime) {
        delegate.onMigration(event, nanoTime);
        windowBytes = 0;
        windowStart = nanoTime;
    }

    synchronized double smoothed() {
        return delegate.smoothed();
    }
}
