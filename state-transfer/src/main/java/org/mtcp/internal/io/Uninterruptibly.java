package org.mtcp.internal.io;

import java.util.concurrent.locks.Condition;

/**
 * Waits that ignore interrupts as JDK 17's sockets do: a thread blocked in {@code read},
 * {@code write} or {@code accept} keeps waiting when interrupted, and its interrupt flag is still set
 * when the call returns. Waiting with the flag set would return at once and make the caller's loop
 * spin, so the flag is cleared for the wait and set again after it.
 */
public final class Uninterruptibly {
    private Uninterruptibly() {
    }

    /**
     * {@link Condition#awaitNanos} that an interrupt does not end.
     *
     * @param c     a condition whose lock the caller holds
     * @param nanos the most to wait
     */
    public static void awaitNanos(Condition c, long nanos) {
        boolean interrupted = Thread.interrupted();
        try {
            c.awaitNanos(nanos);
        } catch (InterruptedException e) {
            interrupted = true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
