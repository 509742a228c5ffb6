package org.mtcp.internal.io;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The loop's timer heap against a sorted set: random adds, polls and removals from anywhere in the heap. */
class TimerHeapTest {

    private static EventLoop.Timer timer(long due, long seq) {
        EventLoop.Timer t = new EventLoop.Timer(due, () -> { });
        t.seq = seq;
        return t;
    }

    @Test
    void randomOperationsKeepTheEarliestFirstAndRemoveAnyTimer() {
        for (long seed = 1; seed <= 40; seed++) {
            Random r = new Random(seed);
            TimerHeap heap = new TimerHeap();
            TreeSet<EventLoop.Timer> model = new TreeSet<>();
            List<EventLoop.Timer> queued = new ArrayList<>();
            long seq = 0;
            for (int step = 0; step < 4000; step++) {
                int op = r.nextInt(10);
                if (op < 5) {
                    // few distinct due times: equal dues are ordered by sequence, as the loop does
                    EventLoop.Timer t = timer(r.nextInt(50) - 25, ++seq);
                    heap.add(t);
                    model.add(t);
                    queued.add(t);
                } else if (op < 7) {
                    EventLoop.Timer expected = model.pollFirst();
                    EventLoop.Timer got = heap.poll();
                    assertSame(expected, got, "seed " + seed + " step " + step + ": poll");
                    queued.remove(got);
                    if (got != null) {
                        assertEquals(-1, got.slot, "a polled timer has no slot");
                    }
                } else if (!queued.isEmpty()) {
                    EventLoop.Timer t = queued.remove(r.nextInt(queued.size()));
                    assertTrue(heap.remove(t), "seed " + seed + " step " + step + ": a queued timer is removed");
                    assertFalse(heap.remove(t), "a timer is removed once");
                    model.remove(t);
                }
                assertEquals(model.size(), heap.size(), "seed " + seed + " step " + step + ": size");
                assertSame(model.isEmpty() ? null : model.first(), heap.peek(), "seed " + seed + " step " + step + ": peek");
            }
            while (!model.isEmpty()) {
                assertSame(model.pollFirst(), heap.poll(), "seed " + seed + ": draining");
            }
            assertTrue(heap.isEmpty());
            assertNull(heap.poll());
        }
    }

    @Test
    void aTimerIsQueuedOnceAndAnUnqueuedOneIsNotRemoved() {
        TimerHeap heap = new TimerHeap();
        EventLoop.Timer t = timer(5, 1);
        assertFalse(heap.remove(t), "never queued");
        heap.add(t);
        assertThrows(IllegalStateException.class, () -> heap.add(t));
        EventLoop.Timer other = timer(1, 2);
        TimerHeap second = new TimerHeap();
        second.add(other);
        assertFalse(heap.remove(other), "queued in another heap, at a slot this heap holds something else in");
        assertSame(t, heap.poll());
    }
}
