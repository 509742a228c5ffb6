package org.mtcp.internal.session;

import org.mtcp.internal.io.ChannelWaiter;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.util.concurrent.TimeUnit;

/**
 * Who does a session's network I/O. An application thread blocked in a read or a write becomes the
 * session's <i>pump</i>: it reads and writes the channel itself and waits for it with its own
 * {@link ChannelWaiter}, so data reaches it without a thread hand-off. When no application thread
 * pumps, the session's {@link org.mtcp.internal.io.EventLoop} does (acknowledgements keep flowing,
 * pending output drains): the loop's interest is switched off while an application thread pumps
 * and switched back on by the loop's tick shortly after the application stops, which costs no
 * wake-up on the data path. Every field is guarded by the session's lock, except {@link #backedOff}.
 */
final class Pump {
    /** How long after an application thread stops pumping the loop takes over. */
    private static final long LOOP_TAKEOVER_NANOS = TimeUnit.MILLISECONDS.toNanos(Long.getLong("mtcp.takeoverMillis", 5));
    /** A pump waits at most this long in one go, then looks at the session again. */
    static final long MAX_WAIT_SLICE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /**
     * How long the loop keeps ticking a session whose application thread is blocked pumping, from the pump's start
     * ({@code mtcp.pumpAttentionMillis}): long enough that request/response traffic, which starts and stops the pump
     * constantly, does not have to wake the loop at every stop; short enough that a quiet connection whose thread
     * waits for its next request is not ticked all along (a second made a connection used every 100 ms-1 s ticked
     * every 5 ms for ever: 2,000 of them kept a quarter of a core busy).
     */
    private static final long PUMP_ATTENTION_NANOS = TimeUnit.MILLISECONDS.toNanos(Long.getLong("mtcp.pumpAttentionMillis", 20));

    private final SessionCore s;
    /** Application thread doing the session's network I/O, or {@code null}. */
    private Thread thread;
    /** Its waiter, to wake it. */
    private ChannelWaiter waiter;
    /** When an application thread last stopped pumping. */
    private long lastEnd;
    /** When the current pump started. */
    private long start;
    /** Whether the loop is ticking the session. */
    private boolean attended;
    /** The loop found the session busy and stopped watching its link until the next tick; no lock (the loop sets it without one). */
    private volatile boolean backedOff;
    /** Compare-and-set on {@link #backedOff} (a field, not an {@code AtomicBoolean}: an idle session's bytes count). */
    private static final VarHandle BACKED_OFF;

    static {
        try {
            BACKED_OFF = MethodHandles.lookup().findVarHandle(Pump.class, "backedOff", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    Pump(SessionCore session) {
        this.s = session;
    }

    /** @return whether an application thread pumps now */
    boolean active() {
        return thread != null;
    }

    /** @return the pumping thread's name, for diagnostics */
    String describe() {
        return (thread == null ? "none" : thread.getName()) + (attended ? " attended" : "");
    }

    /**
     * Makes progress on the network for a blocked application thread: reads or flushes what can be
     * done now, else waits for the channel (as the pump) or for the pump (as another thread). Returns
     * after some progress, a wake-up or a time slice; the caller re-checks its condition. Session lock
     * held on entry and on return.
     */
    void run(int ops, long deadlineNanos) throws IOException {
        Link l = s.link;
        Thread me = Thread.currentThread();
        if (l == null || l.dead || !s.canReadLink() || (thread != null && thread != me)) {
            s.awaitChange(deadlineNanos);
            return;
        }
        if (s.hasPendingOutput()) {
            s.flushLocked();
        }
        // a read before waiting saves the wait when data streams in, and costs a syscall when it
        // does not (request/response): try it only while recent reads found more than they took
        if ((ops & SelectionKey.OP_READ) != 0 && s.readAhead && s.readLink(l) != 0) {
            return;
        }
        if (s.link != l || l.dead) {
            return;
        }
        int waitOps = ops;
        if (s.hasPendingOutput()) {
            waitOps |= SelectionKey.OP_WRITE;
        }
        if (s.networkRoom() <= 0) {
            waitOps &= ~SelectionKey.OP_READ;
        }
        if (waitOps == 0) {
            s.awaitChange(deadlineNanos);
            return;
        }
        ChannelWaiter w = ChannelWaiter.current();
        l.waitingWith(w);
        thread = me;
        waiter = w;
        l.setInterest(0, s.loop);
        long now = System.nanoTime();
        start = now;
        long until = deadlineNanos == Long.MAX_VALUE || deadlineNanos - now > MAX_WAIT_SLICE_NANOS
                ? now + MAX_WAIT_SLICE_NANOS : deadlineNanos;
        if ((waitOps & SelectionKey.OP_READ) != 0) {
            long ackAt = l.acknowledgeBy(now); // the application took what arrived and waits for more
            if (ackAt != Long.MAX_VALUE && ackAt - until < 0) {
                until = ackAt;
            }
        }
        int ready = 0;
        s.lock.unlock();
        try {
            ready = w.await(l.channel, waitOps, until);
        } catch (ClosedChannelException | CancelledKeyException e) {
            ready = 0; // the link was closed or replaced meanwhile: the caller looks at the session again
        } finally {
            s.lock.lock();
            thread = null;
            waiter = null;
            lastEnd = System.nanoTime();
            s.changed.signalAll();
            needAttention(); // the loop takes over if this thread does not pump again soon
        }
        if (s.link != l || l.dead) {
            return;
        }
        if ((ready & SelectionKey.OP_WRITE) != 0) {
            s.flushLocked();
        }
        if ((ready & SelectionKey.OP_READ) != 0) {
            s.readLink(l);
        }
    }

    /** Wakes the pump so it looks at the session again (link replaced, frozen, closed). */
    void wake() {
        if (waiter != null) {
            waiter.wakeup();
        }
    }

    /** Asks the loop to tick the session; session lock held. */
    void needAttention() {
        if (!attended) {
            attended = true;
            s.loop.attention(s);
        }
    }

    /** The loop's tick: delayed acknowledgements, the linger, taking over from a quiet application. */
    boolean tick(long now) {
        if (!s.lock.tryLock()) {
            return true; // an application thread is in the session: look again on the next tick
        }
        try {
            backedOff = false;
            boolean again = s.onTick(now);
            Link l = s.link;
            if (l != null && !l.dead) {
                if (s.ackDueSince != 0) {
                    if (now - s.ackDueSince >= LinkEngine.ACK_DELAY_NANOS || s.isClosing()) {
                        s.queueAck(l);
                        s.flushLocked();
                    } else {
                        again = true;
                    }
                }
                if (s.lifecycle() == Lifecycle.CLOSING) {
                    if (s.lingerDone(now)) {
                        s.closeLinkNow(true);
                        s.released();
                        attended = false;
                        return false;
                    }
                    arm(l);
                    again = true;
                } else if (thread == null) {
                    if (now - lastEnd >= LOOP_TAKEOVER_NANOS) {
                        arm(l);
                        s.releaseIdleMemory(); // the application went quiet
                        s.dropSettledSilenceCheck();
                    } else {
                        again = true;
                    }
                } else if (now - start < PUMP_ATTENTION_NANOS) {
                    // an application thread pumps; keep ticking a while so that its next stop costs
                    // no wake-up of an idle loop (request/response traffic stops and starts constantly)
                    again = true;
                }
            }
            attended = again;
            return again;
        } catch (IOException e) {
            s.fail(e);
            attended = false;
            return false;
        } finally {
            s.lock.unlock();
        }
    }

    /** Gives the loop the interest the session needs now; session lock held. */
    void arm(Link l) {
        if (l.key == null) {
            return; // the registration sets it
        }
        int ops = 0;
        if (s.canReadLink() && s.networkRoom() > 0) {
            ops |= SelectionKey.OP_READ;
        }
        if (s.hasPendingOutput()) {
            ops |= SelectionKey.OP_WRITE;
        }
        l.setInterest(ops, s.loop);
    }

    /** The loop saw the link ready. */
    void loopReady(Link l, SelectionKey k) {
        if (!s.lock.tryLock()) {
            // an application thread is in the session (writing, most likely): waiting for it would
            // park the loop and wake it on every acknowledgement; stop watching the link instead, and
            // let the tick give it back shortly (the application reads it itself if it must wait)
            try {
                k.interestOps(0);
            } catch (CancelledKeyException ignored) {
                return;
            }
            l.interestStale = true;
            if (BACKED_OFF.compareAndSet(this, false, true)) {
                s.loop.attention(s);
            }
            return;
        }
        try {
            if (s.link != l || l.dead) {
                k.cancel();
                return;
            }
            if (thread != null) {
                l.setInterest(0, s.loop);
                return;
            }
            if (k.isWritable()) {
                s.flushLocked();
            }
            if (k.isReadable()) {
                for (int i = 0; i < 4 && s.link == l && !l.dead; i++) {
                    if (s.readLink(l) <= 0) {
                        break;
                    }
                }
            }
            if (s.lifecycle() == Lifecycle.CLOSING && s.link == l && s.lingerDone(System.nanoTime())) {
                s.closeLinkNow(true);
                s.released();
                return;
            }
            if (s.link == l && !l.dead) {
                arm(l);
            }
            s.releaseIdleMemory(); // no application thread is at work here
        } catch (IOException e) {
            s.fail(e);
        } finally {
            s.lock.unlock();
        }
    }

    /**
     * Makes {@code l} the session's link and registers it with the loop (armed when no application
     * thread pumps); session lock held.
     */
    void attach(Link l) {
        s.link = l;
        s.loop.execute(() -> {
            s.lock.lock();
            try {
                if (l.dead) {
                    return;
                }
                l.key = s.loop.register(l.channel, 0, l);
                l.interest = 0;
                if (thread == null) {
                    arm(l);
                }
            } catch (IOException e) {
                s.fail(e);
            } finally {
                s.lock.unlock();
            }
        });
    }

    /**
     * Makes {@code l} the session's link, taking over a key its channel already has with the
     * session's loop; loop thread, session lock held.
     */
    void attachRegistered(Link l, SelectionKey key) {
        s.link = l;
        key.attach(l);
        l.key = key;
        l.interest = key.interestOps();
        arm(l);
    }
}
