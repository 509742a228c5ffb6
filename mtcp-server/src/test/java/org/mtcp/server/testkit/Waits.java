package org.mtcp.server.testkit;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Bounded waits for conditions other threads make true (a report, an accept): never a timing assertion. */
public final class Waits {
    private Waits() {
    }

    /**
     * Polls until the condition holds or the time is up.
     *
     * @return whether the condition holds
     */
    public static boolean until(BooleanSupplier condition, Duration atMost) throws InterruptedException {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (!condition.getAsBoolean()) {
            if (deadline - System.nanoTime() <= 0) {
                return false;
            }
            TimeUnit.MILLISECONDS.sleep(2);
        }
        return true;
    }
}
