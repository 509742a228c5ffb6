package org.mtcp.internal.io;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Lets an application thread wait for one non-blocking channel itself, the way the JDK's
 * {@code NioSocketImpl} polls its file descriptor: a thread blocked in {@code read} reads the data
 * the moment it arrives, without a hand-off from a library thread (a cross-CPU wake-up costs more
 * than a loopback round trip). Each thread that waits gets its own small selector; the channel stays
 * registered with it between waits on the same channel, so a read loop costs one {@code epoll_wait}
 * per wait, as a plain socket's {@code poll}. A wait for another channel lets go of the last one's
 * registration: a selector holds at most one key (and the channel waited for next, while selecting).
 *
 * <p>A closed channel's descriptor is only released once every selector it was registered with lets
 * go of it; {@link #forget} makes sure that happens, and selectors of threads that died are closed
 * by {@link #reapDeadThreads} (called periodically by the I/O loops).
 */
public final class ChannelWaiter {
    private static final ThreadLocal<ChannelWaiter> CURRENT = new ThreadLocal<>();
    private static final Set<ChannelWaiter> ALL = ConcurrentHashMap.newKeySet();

    private final Selector selector;
    private final WeakReference<Thread> owner;
    /** Held while the selector is in use; lets other threads flush it when the owner is not selecting. */
    private final ReentrantLock use = new ReentrantLock();
    /** The key of the last channel waited for; guarded by {@link #use}. */
    private SelectionKey lastKey;
    /** A channel was forgotten while the owner was selecting: flush cancelled keys after the wait. */
    private volatile boolean flushPending;

    private ChannelWaiter() throws IOException {
        this.selector = Selector.open();
        this.owner = new WeakReference<>(Thread.currentThread());
    }

    /** @return this thread's waiter, created on first use */
    public static ChannelWaiter current() throws IOException {
        ChannelWaiter w = CURRENT.get();
        if (w == null || !w.selector.isOpen()) {
            w = new ChannelWaiter();
            CURRENT.set(w);
            ALL.add(w);
        }
        return w;
    }

    /** @return {@code true} when some thread has a waiter */
    static boolean anyRegistered() {
        return !ALL.isEmpty();
    }

    /**
     * Waits until the channel is ready for one of {@code ops}, the deadline passes, or
     * {@link #wakeup()} is called. Must be called by the waiter's own thread.
     *
     * @param ch            a non-blocking channel
     * @param ops           the operations to wait for
     * @param deadlineNanos {@link System#nanoTime()} to give up at; {@code Long.MAX_VALUE} for none
     * @return the operations that are ready, 0 when none (timeout or wake-up)
     */
    public int await(SelectableChannel ch, int ops, long deadlineNanos) throws IOException {
        use.lock();
        try {
            SelectionKey key = ch.keyFor(selector);
            if (key != null && !key.isValid()) {
                selector.selectNow(); // flush the cancelled key before registering again
                key = null;
            }
            if (key == null) {
                key = ch.register(selector, ops);
            } else if (key.interestOps() != ops) {
                key.interestOps(ops);
            }
            if (lastKey != null && lastKey != key) {
                // A channel waited for earlier must not wake later waits, and a thread that serves many connections in
                // turn must not keep a registration (~130 bytes) for each: the select below lets go of it. Dropping
                // the interest instead costs the same epoll_ctl and keeps the key.
                lastKey.cancel();
            }
            lastKey = key;
            long waitNanos = deadlineNanos == Long.MAX_VALUE ? 0 : deadlineNanos - System.nanoTime();
            // A selector returns at once for an interrupted thread, which would make every wait spin. JDK 17's
            // sockets ignore interrupts and leave the flag set: clear it for the wait and set it again after.
            boolean interrupted = Thread.interrupted();
            try {
                if (deadlineNanos != Long.MAX_VALUE && waitNanos <= 0) {
                    selector.selectNow();
                } else if (deadlineNanos == Long.MAX_VALUE) {
                    selector.select();
                } else {
                    selector.select(Math.max(1, (waitNanos + 999_999) / 1_000_000));
                }
            } finally {
                if (interrupted || Thread.interrupted()) {
                    Thread.currentThread().interrupt();
                }
            }
            int ready = 0;
            Set<SelectionKey> selected = selector.selectedKeys();
            if (!selected.isEmpty()) {
                if (selected.contains(key) && key.isValid()) {
                    ready = key.readyOps() & ops;
                }
                selected.clear();
            }
            if (flushPending) {
                flushPending = false;
                selector.selectNow();
                selector.selectedKeys().clear();
            }
            return ready;
        } finally {
            use.unlock();
        }
    }

    /** Makes a wait in progress, or the next one, return at once. Any thread. */
    public void wakeup() {
        selector.wakeup();
    }

    /**
     * Makes sure this waiter's selector lets go of a channel that is being closed, so that its
     * descriptor is released now rather than on the owner's next wait. Any thread.
     */
    public void forget(SelectableChannel ch) {
        SelectionKey key = ch.keyFor(selector);
        if (key == null) {
            return;
        }
        key.cancel();
        if (use.tryLock()) {
            try {
                if (selector.isOpen()) {
                    selector.selectNow();
                    selector.selectedKeys().clear();
                }
            } catch (IOException ignored) {
                // the selector is broken; closing it below in reapDeadThreads or here is all we can do
            } finally {
                use.unlock();
            }
        } else {
            flushPending = true;
            selector.wakeup();
        }
    }

    /** Closes the selectors of threads that have ended. */
    static void reapDeadThreads() {
        for (ChannelWaiter w : ALL) {
            Thread t = w.owner.get();
            if (t == null || !t.isAlive()) {
                ALL.remove(w);
                try {
                    w.selector.close();
                } catch (IOException ignored) {
                    // nothing more to release
                }
            }
        }
    }
}
