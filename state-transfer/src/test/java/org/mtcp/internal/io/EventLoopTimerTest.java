package org.mtcp.internal.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.ref.WeakReference;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cancelled timer lets go of its task at once, although it stays in the loop's queue until it is due: a migrated
 * session's heartbeat deadline (15 s away) kept the session and its state reachable, and the warm-migration
 * benchmark with 1 MiB states ran out of a 1 GiB heap.
 */
class EventLoopTimerTest {

    /** A task that holds a large object, as a session's deadline holds the session. */
    private static final class Holding implements Runnable {
        private final byte[] state;

        Holding(byte[] state) {
            this.state = state;
        }

        @Override
        public void run() {
            if (state.length == 0) {
                throw new AssertionError("never runs");
            }
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aCancelledTimerNoLongerHoldsItsTask() throws InterruptedException {
        byte[] state = new byte[1 << 20];
        WeakReference<byte[]> ref = new WeakReference<>(state);
        EventLoop.Timer timer = EventLoop.next().schedule(TimeUnit.HOURS.toNanos(1), new Holding(state));
        state = null;
        timer.cancel();
        for (int i = 0; i < 100 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertTrue(ref.get() == null, "the cancelled timer, an hour from due, still holds its task's 1 MiB state");
    }
}
