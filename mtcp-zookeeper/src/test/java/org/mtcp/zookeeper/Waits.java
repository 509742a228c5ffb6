package org.mtcp.zookeeper;

import java.time.Duration;
import java.util.concurrent.Callable;

/** Bounded polls: a condition is waited for up to a generous deadline, and the test fails with what was seen. */
final class Waits {
    static final Duration DEADLINE = Duration.ofSeconds(30);

    private Waits() {
    }

    /** Polls {@code condition} until it holds, failing with {@code state} after {@link #DEADLINE}. */
    static void until(String what, Callable<Boolean> condition, Callable<String> state) throws Exception {
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.call()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("not within " + DEADLINE.toSeconds() + " s: " + what + "; " + state.call());
            }
            Thread.sleep(20);
        }
    }
}
