package org.mtcp.samples.http;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A server's policy for asking its clients to migrate (the thesis's server-side trigger): consulted
 * by the server's sessions at every restart point, right after each state export, with the bytes
 * written since the previous one. Answering {@code true} makes that session's socket
 * {@link org.mtcp.api.MtcpOptions#TRIGGER TRIGGER} a migration to the server's target.
 *
 * <p>One instance serves every session of one server and is called from their threads at once.
 */
@FunctionalInterface
public interface TriggerPolicy {

    /**
     * @param bytesWritten bytes the session wrote since its previous restart point
     * @return {@code true} to ask this session's client to migrate now
     */
    boolean shouldTrigger(long bytesWritten);

    /** @return a policy that never triggers (migrations come from commands or a drain) */
    static TriggerPolicy never() {
        return bytes -> false;
    }

    /**
     * Triggers once every {@code bytes} the server writes, counting all its sessions together: the
     * session that crosses the mark is the one asked to move.
     *
     * @param bytes bytes between triggers, at least 1
     * @return a new policy, for one server
     */
    static TriggerPolicy everyBytes(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("bytes must be positive: " + bytes);
        }
        AtomicLong sinceLast = new AtomicLong();
        return written -> {
            long now = sinceLast.addAndGet(written);
            // only the thread that resets the counter triggers: one trigger per mark crossed
            return now >= bytes && sinceLast.compareAndSet(now, 0);
        };
    }

    /**
     * Triggers at every restart point: a session keeps moving, whatever it is doing, which tests
     * that the server resumes correctly from each kind of snapshot.
     *
     * @return a policy that always triggers
     */
    static TriggerPolicy always() {
        return bytes -> true;
    }
}
