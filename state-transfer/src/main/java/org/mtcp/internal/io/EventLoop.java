package org.mtcp.internal.io;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One library I/O thread: a selector, a task queue, timers, and a periodic tick for sessions that
 * asked for attention. All library I/O that no application thread is doing runs on a small fixed set
 * of these ({@link #next()}), whatever the number of connections: an idle session costs a selection
 * key, not a thread.
 *
 * <p>Thread rules: everything but {@link #execute}, {@link #schedule}, {@link #attention} and
 * {@link #wakeup} runs on the loop's own thread.
 */
public final class EventLoop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);

    /** Period of the attention tick, milliseconds. */
    public static final long TICK_MILLIS = Long.getLong("mtcp.tickMillis", 5);
    private static final long REAP_NANOS = 1_000_000_000L;

    private static final EventLoop[] LOOPS = new EventLoop[Math.max(1, Integer.getInteger("mtcp.ioThreads",
            Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors() / 2))))];
    private static final AtomicInteger NEXT = new AtomicInteger();

    /** Something that wants to be called on every tick until it says it is done. */
    public interface Attention {
        /**
         * Called on the loop thread every tick.
         *
         * @param nowNanos the tick's time
         * @return {@code true} to be called again on the next tick
         */
        boolean tick(long nowNanos);
    }

    private final Selector selector;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Attention> newAttention = new ConcurrentLinkedQueue<>();
    /** Sessions being ticked; loop thread only. */
    private final List<Attention> attending = new ArrayList<>();
    /** Timers; loop thread only. */
    private final TimerHeap timers = new TimerHeap();
    /** {@link #AWAKE}, or how the loop is (about to be) blocked in select; cleared by whoever wakes it. */
    private final AtomicInteger sleeping = new AtomicInteger();
    private static final int AWAKE = 0;
    /** Blocked until the next tick at most. */
    private static final int TIMED = 1;
    /** Blocked longer than a tick (or until woken). */
    private static final int INDEFINITE = 2;
    private long lastTick;
    private long lastReap;
    private long timerSeq;

    private EventLoop(int index) throws IOException {
        this.selector = Selector.open();
        this.thread = new Thread(this, "mtcp-io-" + index);
        thread.setDaemon(true);
        thread.start();
    }

    /** @return one of the process's I/O loops, round robin; started on first use */
    public static EventLoop next() {
        int i = Math.floorMod(NEXT.getAndIncrement(), LOOPS.length);
        synchronized (LOOPS) {
            if (LOOPS[i] == null) {
                try {
                    LOOPS[i] = new EventLoop(i);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot open a selector for the MTCP I/O thread", e);
                }
            }
            return LOOPS[i];
        }
    }

    /** @return {@code true} on this loop's thread */
    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** Runs a task on the loop thread, soon. */
    public void execute(Runnable task) {
        tasks.add(task);
        wakeup();
    }

    /** Wakes the loop if it is blocked in select. */
    public void wakeup() {
        if (sleeping.get() != AWAKE && sleeping.getAndSet(AWAKE) != AWAKE) {
            selector.wakeup();
        }
    }

    /**
     * Asks for {@link Attention#tick} calls every tick until it returns {@code false}. The caller
     * keeps track of whether it is already attended to.
     */
    public void attention(Attention a) {
        newAttention.add(a);
        // a loop that is ticking anyway picks it up on its next tick; only an idle loop needs waking
        if (!inLoop() && sleeping.get() == INDEFINITE && sleeping.compareAndSet(INDEFINITE, AWAKE)) {
            selector.wakeup();
        }
    }

    /**
     * Registers a channel; loop thread only.
     *
     * @return the key
     */
    public SelectionKey register(SelectableChannel ch, int ops, IoHandler handler) throws IOException {
        assert inLoop();
        return ch.register(selector, ops, handler);
    }

    /**
     * Registers a channel from any thread.
     *
     * @return the key, when registered
     */
    public CompletableFuture<SelectionKey> registerLater(SelectableChannel ch, int ops, IoHandler handler) {
        CompletableFuture<SelectionKey> f = new CompletableFuture<>();
        execute(() -> {
            try {
                f.complete(ch.register(selector, ops, handler));
            } catch (IOException | RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /**
     * Runs a task after a delay on the loop thread; any thread.
     *
     * @return a handle to cancel it
     */
    public Timer schedule(long delayNanos, Runnable task) {
        Timer t = new Timer(System.nanoTime() + delayNanos, task);
        if (inLoop()) {
            t.seq = ++timerSeq;
            timers.add(t);
        } else {
            execute(() -> {
                if (!t.cancelled) {
                    t.seq = ++timerSeq;
                    timers.add(t);
                }
            });
        }
        return t;
    }

    /**
     * Cancels {@code t} and, on this loop's thread, takes it out of the queue at once (elsewhere it leaves when it
     * would have been due): what a quiet session's deadline costs it is then nothing.
     */
    public void cancel(Timer t) {
        t.cancel();
        if (inLoop()) {
            timers.remove(t);
        }
    }

    /** A scheduled task. */
    public static final class Timer implements Comparable<Timer> {
        final long due;
        /**
         * Dropped at cancellation: a cancelled timer waits in the queue until it is due, and must not keep what its
         * task refers to (a migrated session and its state, for a heartbeat 15 s away) reachable that long.
         */
        private volatile Runnable task;
        long seq;
        volatile boolean cancelled;
        /** Where it sits in its loop's {@link TimerHeap}, -1 when not queued; loop thread only. */
        int slot = -1;

        Timer(long due, Runnable task) {
            this.due = due;
            this.task = task;
        }

        /** Stops the task from running, if it has not yet. */
        public void cancel() {
            cancelled = true;
            task = null;
        }

        @Override
        public int compareTo(Timer o) {
            int c = Long.compare(due - o.due, 0);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    @Override
    public void run() {
        while (true) {
            try {
                loopOnce();
            } catch (Throwable t) {
                log.error("MTCP I/O loop {}: unexpected failure, going on", thread.getName(), t);
            }
        }
    }

    private void loopOnce() throws IOException {
        runTasks();
        long now = System.nanoTime();
        long timeoutMillis = 0; // 0 = block until woken
        if (!attending.isEmpty() || !newAttention.isEmpty()) {
            timeoutMillis = Math.max(1, TICK_MILLIS - (now - lastTick) / 1_000_000);
        }
        Timer t = firstTimer();
        if (t != null) {
            long ms = Math.max(1, (t.due - now + 999_999) / 1_000_000);
            timeoutMillis = timeoutMillis == 0 ? ms : Math.min(timeoutMillis, ms);
        }
        if (ChannelWaiter.anyRegistered()) {
            long ms = Math.max(1, REAP_NANOS / 1_000_000);
            timeoutMillis = timeoutMillis == 0 ? ms : Math.min(timeoutMillis, ms);
        }
        // a loop that will tick soon picks new attention up by itself; one that sleeps longer must be woken
        sleeping.set(timeoutMillis == 0 || timeoutMillis > TICK_MILLIS ? INDEFINITE : TIMED);
        if (!tasks.isEmpty() || (timeoutMillis == 0 && !newAttention.isEmpty())) {
            sleeping.set(AWAKE);
            selector.selectNow();
        } else {
            selector.select(timeoutMillis);
            sleeping.set(AWAKE);
        }
        Set<SelectionKey> keys = selector.selectedKeys();
        if (!keys.isEmpty()) {
            Iterator<SelectionKey> it = keys.iterator();
            while (it.hasNext()) {
                SelectionKey k = it.next();
                it.remove();
                try {
                    if (k.isValid()) {
                        ((IoHandler) k.attachment()).ready(k);
                    }
                } catch (CancelledKeyException ignored) {
                    // closed while we looked at it
                } catch (RuntimeException e) {
                    log.error("MTCP I/O handler {} failed", k.attachment(), e);
                }
            }
        }
        now = System.nanoTime();
        runTimers(now);
        if (now - lastTick >= TICK_MILLIS * 1_000_000) {
            lastTick = now;
            tick(now);
        }
        if (now - lastReap >= REAP_NANOS) {
            lastReap = now;
            ChannelWaiter.reapDeadThreads();
        }
    }

    private void runTasks() {
        Runnable r;
        while ((r = tasks.poll()) != null) {
            try {
                r.run();
            } catch (RuntimeException e) {
                log.error("MTCP I/O task failed", e);
            }
        }
    }

    private Timer firstTimer() {
        while (!timers.isEmpty() && timers.peek().cancelled) {
            timers.poll();
        }
        return timers.peek();
    }

    private void runTimers(long now) {
        Timer t;
        while ((t = firstTimer()) != null && t.due - now <= 0) {
            timers.poll();
            Runnable task = t.task;
            if (task == null) {
                continue; // cancelled meanwhile, from another thread
            }
            try {
                task.run();
            } catch (RuntimeException e) {
                log.error("MTCP timer task failed", e);
            }
        }
    }

    private void tick(long now) {
        Attention a;
        while ((a = newAttention.poll()) != null) {
            attending.add(a);
        }
        for (int i = attending.size() - 1; i >= 0; i--) {
            boolean again;
            try {
                again = attending.get(i).tick(now);
            } catch (RuntimeException e) {
                log.error("MTCP attention tick failed", e);
                again = false;
            }
            if (!again) {
                int last = attending.size() - 1;
                attending.set(i, attending.get(last));
                attending.remove(last);
            }
        }
    }
}
