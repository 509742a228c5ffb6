package org.mtcp.client;

import org.mtcp.api.MigrationEvent;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * The thesis's client policy (section 5.3.2): a smoothed throughput {@code S = a*C + (1-a)*S}, where
 * {@code C} is the throughput of the latest arrival (its bytes over the time since the previous one),
 * updated on every arrival; the session migrates to the next alternate server when {@code S} falls
 * below a fraction of the highest {@code S} seen on the current server. After a migration, committed
 * or not, the policy waits a minimum dwell time before it may ask again, and a committed migration
 * starts the measurements afresh on the new server.
 *
 * <p>Arrivals with the same timestamp are merged into the next arrival with a later one.
 */
public final class SmoothedThroughputPolicy implements MigrationPolicy {
    /** The thesis's smoothing weight of the newest sample. */
    public static final double DEFAULT_ALPHA = 0.4;
    /** The thesis's threshold: migrate when {@code S} falls below 0.7 of its maximum. */
    public static final double DEFAULT_THRESHOLD = 0.7;
    /** Default minimum time between migrations, so the policy cannot thrash. */
    public static final Duration DEFAULT_MIN_DWELL = Duration.ofMillis(200);

    private final double alpha;
    private final double threshold;
    private final long minDwellNanos;

    private boolean started;
    private long lastArrivalNanos;
    private long pendingBytes;
    private boolean haveSample;
    private double smoothed;
    private double maximum;
    private long dwellStartNanos;
    private boolean migrationPending;
    private int nextAlternate;

    /** The thesis's parameters: a = 0.4, threshold 0.7, and the default dwell time. */
    public SmoothedThroughputPolicy() {
        this(DEFAULT_ALPHA, DEFAULT_THRESHOLD, DEFAULT_MIN_DWELL);
    }

    /**
     * @param alpha     weight of the newest sample, in (0, 1]
     * @param threshold fraction of the maximum below which to migrate, in (0, 1)
     * @param minDwell  minimum time on a server before the policy may ask to move again
     */
    public SmoothedThroughputPolicy(double alpha, double threshold, Duration minDwell) {
        if (!(alpha > 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1]: " + alpha);
        }
        if (!(threshold > 0 && threshold < 1)) {
            throw new IllegalArgumentException("threshold must be in (0, 1): " + threshold);
        }
        if (minDwell.isNegative()) {
            throw new IllegalArgumentException("negative dwell time: " + minDwell);
        }
        this.alpha = alpha;
        this.threshold = threshold;
        this.minDwellNanos = minDwell.toNanos();
    }

    @Override
    public InetSocketAddress onData(int bytes, long nanoTime, InetSocketAddress current, List<InetSocketAddress> alternates) {
        if (!started) {
            started = true;
            lastArrivalNanos = nanoTime;
            dwellStartNanos = nanoTime;
            return null;
        }
        long elapsed = nanoTime - lastArrivalNanos;
        if (elapsed <= 0) {
            pendingBytes += bytes;
            return null;
        }
        double sample = (pendingBytes + bytes) * 1e9 / elapsed;
        pendingBytes = 0;
        lastArrivalNanos = nanoTime;
        smoothed = haveSample ? alpha * sample + (1 - alpha) * smoothed : sample;
        haveSample = true;
        maximum = Math.max(maximum, smoothed);
        if (migrationPending || nanoTime - dwellStartNanos < minDwellNanos || smoothed >= threshold * maximum) {
            return null;
        }
        InetSocketAddress next = nextAlternate(current, alternates);
        if (next != null) {
            migrationPending = true;
        }
        return next;
    }

    @Override
    public void onMigration(MigrationEvent event, long nanoTime) {
        migrationPending = false;
        dwellStartNanos = nanoTime;
        if (event.committed()) {
            haveSample = false;
            smoothed = 0;
            maximum = 0;
            pendingBytes = 0;
            lastArrivalNanos = nanoTime;
        }
    }

    /** @return the current smoothed throughput in bytes per second (0 before the first sample) */
    public double smoothed() {
        return smoothed;
    }

    /** @return the highest smoothed throughput seen on the current server, bytes per second */
    public double maximum() {
        return maximum;
    }

    private InetSocketAddress nextAlternate(InetSocketAddress current, List<InetSocketAddress> alternates) {
        for (int i = 0; i < alternates.size(); i++) {
            InetSocketAddress candidate = alternates.get((nextAlternate + i) % alternates.size());
            if (!candidate.equals(current)) {
                nextAlternate = (nextAlternate + i + 1) % alternates.size();
                return candidate;
            }
        }
        return null;
    }
}
