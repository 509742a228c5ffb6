package org.mtcp.internal.io;

import java.util.Arrays;

/**
 * The loop's timers, earliest first: a binary heap in which each timer knows its slot, so that a timer
 * cancelled on the loop thread leaves at once ({@code PriorityQueue.remove} walks the whole queue). A
 * session's silence deadline is taken out this way when the session goes quiet: an idle session holds no
 * timer. Loop thread only.
 */
final class TimerHeap {
    private EventLoop.Timer[] heap = new EventLoop.Timer[16];
    private int size;

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    /** @return the earliest timer, or {@code null} */
    EventLoop.Timer peek() {
        return size == 0 ? null : heap[0];
    }

    void add(EventLoop.Timer t) {
        if (t.slot >= 0) {
            throw new IllegalStateException("timer queued already");
        }
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        siftUp(size++, t);
    }

    /** @return the earliest timer, taken out, or {@code null} */
    EventLoop.Timer poll() {
        if (size == 0) {
            return null;
        }
        EventLoop.Timer first = heap[0];
        removeAt(0);
        return first;
    }

    /** Takes {@code t} out if it is queued here; @return whether it was */
    boolean remove(EventLoop.Timer t) {
        int i = t.slot;
        if (i < 0 || i >= size || heap[i] != t) {
            return false;
        }
        removeAt(i);
        return true;
    }

    private void removeAt(int i) {
        EventLoop.Timer gone = heap[i];
        gone.slot = -1;
        int last = --size;
        EventLoop.Timer moved = heap[last];
        heap[last] = null;
        if (i != last) {
            siftDown(i, moved);
            if (heap[i] == moved) {
                siftUp(i, moved);
            }
        }
        if (heap.length > 64 && size < heap.length / 4) {
            heap = Arrays.copyOf(heap, heap.length / 2); // a burst of timers does not keep its array
        }
    }

    private void siftUp(int i, EventLoop.Timer t) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            EventLoop.Timer p = heap[parent];
            if (t.compareTo(p) >= 0) {
                break;
            }
            heap[i] = p;
            p.slot = i;
            i = parent;
        }
        heap[i] = t;
        t.slot = i;
    }

    private void siftDown(int i, EventLoop.Timer t) {
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            EventLoop.Timer c = heap[child];
            int right = child + 1;
            if (right < size && c.compareTo(heap[right]) > 0) {
                child = right;
                c = heap[child];
            }
            if (t.compareTo(c) <= 0) {
                break;
            }
            heap[i] = c;
            c.slot = i;
            i = child;
        }
        heap[i] = t;
        t.slot = i;
    }
}
