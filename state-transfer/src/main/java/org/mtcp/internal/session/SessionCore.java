package org.mtcp.internal.session;

import org.mtcp.internal.buffer.ChunkPool;
import org.mtcp.internal.buffer.ReceiveBuffer;
import org.mtcp.internal.buffer.SendBuffer;
import org.mtcp.internal.io.ChannelWaiter;
import org.mtcp.internal.io.EventLoop;
import org.mtcp.internal.wire.Frames;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.ProtocolException;
import org.mtcp.internal.wire.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The stream engine both ends share: two byte streams addressed by offsets that survive migrations,
 * carried as frames over the current {@link Link}; the outgoing bytes kept until acknowledged, the
 * incoming bytes kept until read (and, on a server, until the next snapshot).
 *
 * <p><b>Who does the I/O.</b> An application thread blocked in {@link #read} or {@link #write}
 * becomes the session's <i>pump</i>: it reads and writes the channel itself and waits for it with its
 * own {@link ChannelWaiter}, so data reaches it without a thread hand-off. When no application thread
 * is pumping, the session's {@link EventLoop} does (acknowledgements keep flowing, pending output
 * drains): the loop's interest is switched off while an application thread pumps and switched back
 * on by the loop's tick shortly after the application stops, which costs no wake-up on the data path.
 *
 * <p><b>Locking.</b> One {@link #lock} guards every field of the session and its link, and every
 * channel operation (all of them non-blocking). It is never held while waiting: pumps wait outside
 * it, other threads wait on {@link #changed}. Subclasses follow the same rule.
 */
public abstract class SessionCore extends LinkEngine implements EventLoop.Attention {
    /**
     * A session's life, the same at both ends. A migration under way is not a lifecycle state: it is
     * an object of its own at each end (the client's migration, the origin's outgoing transfer), and
     * a session may be closed by its application while one runs.
     */
    public enum Lifecycle {
        /** Streams flowing both ways. */
        OPEN,
        /** The peer ended its stream and closed its connection: what arrived is read to the end, writes fail. */
        PEER_DONE,
        /** The application closed the socket; the connection stays until the peer has everything (bounded by the linger time). */
        CLOSING,
        /** The session committed to another server (server end only): this copy is done. */
        MOVED,
        /** A fatal error: every call of the application throws it. */
        FAILED,
        /** Released: buffers returned, nothing more happens. */
        CLOSED
    }

    private static final Logger log = LoggerFactory.getLogger(SessionCore.class);
    /** How long after an application thread stops pumping the loop takes over. */
    private static final long LOOP_TAKEOVER_NANOS = TimeUnit.MILLISECONDS.toNanos(Long.getLong("mtcp.takeoverMillis", 5));
    /** A pump waits at most this long in one go, then looks at the session again. */
    private static final long MAX_WAIT_SLICE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How long the loop keeps ticking a session whose application thread is blocked pumping. */
    private static final long PUMP_ATTENTION_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** A closed session waits at most this long for the peer to acknowledge everything. */
    private static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(Long.getLong("mtcp.lingerSeconds", 30));

    /** Application thread doing this session's network I/O, or {@code null}. */
    private Thread pumpThread;
    private ChannelWaiter pumpWaiter;
    /** When an application thread last stopped pumping. */
    private long lastPumpEnd;
    /** When the current pump started. */
    private long pumpStart;
    /** Whether the loop is ticking this session. */
    private boolean attended;
    /** The loop found the session busy and stopped watching its link until the next tick. */
    private final java.util.concurrent.atomic.AtomicBoolean backedOff = new java.util.concurrent.atomic.AtomicBoolean();
    /** Where the session is in its life; every change goes through {@link #state}. */
    private Lifecycle lifecycle = Lifecycle.OPEN;
    /** Why the session FAILED: every later call of the application fails with it. */
    private IOException failure;
    /** When the application closed it, for the linger deadline. */
    private long closedAt;

    /**
     * @param loop          the session's I/O loop
     * @param outStart      stream offset of the first outgoing byte
     * @param inStart       stream offset of the first incoming byte
     * @param sendWindow    most unacknowledged outgoing bytes
     * @param receiveWindow most unread incoming bytes
     */
    protected SessionCore(EventLoop loop, long outStart, long inStart, int sendWindow, int receiveWindow) {
        super(loop, outStart, inStart, sendWindow, receiveWindow);
    }

    /** @return the stream offsets and I/O state, for diagnostics */
    public String debugState() {
        lock.lock();
        try {
            Link l = link;
            return describe() + ": out [" + out.head() + ", " + out.tail() + ") next " + outNext
                    + (outFinQueued ? " fin" + (outFinSent ? "-sent" : "") + (outFinAcked ? "-acked" : "") : "")
                    + "; in [" + in.start() + ", " + in.readOffset() + ", " + in.end() + ")" + (inFin ? " fin" : "")
                    + " ackSent " + ackSent + "; link " + (l == null ? "none" : l.name + (l.dead ? " dead" : "")
                    + " inOffset " + l.inOffset + " interest " + l.interest + (l.inFrame ? " in-frame to " + l.frameEnd : "")
                    + " ctrl " + l.controlOut.position()) + "; pump " + (pumpThread == null ? "none" : pumpThread.getName())
                    + (attended ? " attended" : "") + " " + lifecycle + (failure != null ? " (" + failure + ")" : "")
                    + extraDebugState();
        } finally {
            lock.unlock();
        }
    }

    /** @return subclass state for {@link #debugState} */
    protected String extraDebugState() {
        return "";
    }

    // ================================================================== hooks for the two ends

    /** The application read {@code n} bytes; session lock held. */
    protected void afterApplicationRead(int n) {
    }

    /** Throws if the application may not read now; session lock held. */
    protected void checkReadable() throws IOException {
        checkOpen();
    }

    /** Throws if the application may not write now; session lock held. */
    protected void checkWritable() throws IOException {
        checkOpen();
        if (outFinQueued) {
            throw new SocketException("Socket output is shutdown (" + describe() + ")");
        }
    }

    /** @return whether an application read must wait for something other than data (a transfer) */
    protected boolean readMustWait() {
        return false;
    }

    /** Called on every tick while attended; session lock held. @return whether to keep ticking */
    protected boolean onTick(long nowNanos) {
        return false;
    }

    // ================================================================== application side

    /**
     * Reads like {@code InputStream.read}: blocks until at least one byte, end of stream, or the
     * timeout.
     *
     * @param timeoutMillis 0 for none
     */
    public int read(byte[] b, int off, int len, int timeoutMillis) throws IOException {
        if (len == 0) {
            return 0;
        }
        long deadline = timeoutMillis > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis) : Long.MAX_VALUE;
        lock.lock();
        try {
            while (true) {
                checkReadable();
                if (inShutdown) {
                    return -1;
                }
                if (in.available() > 0) {
                    boolean wasFull = networkRoom() <= 0;
                    int n = in.read(b, off, len);
                    afterApplicationRead(n);
                    if (creditValue() - creditSent >= receiveWindow / 4 && link != null) {
                        queueAck(link); // the window opened: tell the peer (a window update)
                        flushLocked();
                    }
                    if (wasFull && pumpThread == null) {
                        needAttention(); // the network was left unread for lack of room
                    }
                    return n;
                }
                if (inFin) {
                    return -1;
                }
                if (deadline != Long.MAX_VALUE && deadline - System.nanoTime() <= 0) {
                    throw new SocketTimeoutException("Read timed out (" + describe() + ")");
                }
                if (readMustWait()) {
                    awaitChange(deadline);
                } else {
                    pump(SelectionKey.OP_READ, deadline);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** @return bytes readable without blocking */
    public int available() throws IOException {
        lock.lock();
        try {
            checkOpen();
            return (int) Math.min(Integer.MAX_VALUE, in.available());
        } finally {
            lock.unlock();
        }
    }

    /** Writes every byte, blocking while the window is full. */
    public void write(byte[] b, int off, int len) throws IOException {
        lock.lock();
        try {
            writeLocked(b, off, len);
        } finally {
            lock.unlock();
        }
    }

    /** {@link #write} with the lock held. */
    protected void writeLocked(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            checkWritable();
            long room = sendWindow - out.size();
            if (room <= 0) {
                pump(SelectionKey.OP_READ, Long.MAX_VALUE);
                continue;
            }
            int n = (int) Math.min(room, len);
            out.append(b, off, n);
            afterAppend(n);
            off += n;
            len -= n;
            if (!kernelFull) {
                flushLocked(); // while the kernel's buffer is full, writes only append: no syscall that takes nothing
            }
        }
        if (pumpThread == null && (out.size() > 0 || hasPendingOutput())) {
            needAttention(); // bytes wait for acknowledgement or credit: someone must read the link
        }
    }

    /** Called after application bytes were appended to {@link #out}; session lock held. */
    protected void afterAppend(int n) {
    }

    /** Ends the outgoing stream (a FIN follows the last byte). */
    public void shutdownOutput() throws IOException {
        lock.lock();
        try {
            checkOpen();
            if (!outFinQueued) {
                outFinQueued = true;
                flushLocked();
                if (hasPendingOutput()) {
                    needAttention();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** The application will read no more; later reads return end of stream. */
    public void shutdownInput() throws IOException {
        lock.lock();
        try {
            checkOpen();
            inShutdown = true;
            in.releaseAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Closes the session: threads blocked in it fail, the outgoing stream ends with a FIN, and the
     * loop keeps the connection until the peer has acknowledged everything (bounded by a linger
     * time), so that nothing written before close is lost.
     */
    public void close() {
        lock.lock();
        try {
            if (isClosing() || lifecycle == Lifecycle.MOVED) {
                return;
            }
            closedAt = System.nanoTime();
            if (lifecycle == Lifecycle.FAILED || link == null || link.dead) {
                closeLinkNow(false);
                released();
                return;
            }
            state(Lifecycle.CLOSING, "closed by the application");
            outFinQueued = true;
            in.releaseAll();
            flushLocked();
            if (outFinAcked) {
                closeLinkNow(true);
                released();
            } else {
                needAttention();
            }
        } catch (IOException e) {
            closeLinkNow(false);
            released();
        } finally {
            lock.unlock();
        }
    }

    /** The session is gone for good; session lock held. Subclasses unregister it. */
    protected void released() {
        if (lifecycle != Lifecycle.MOVED) {
            state(Lifecycle.CLOSED, "released");
        }
        out.releaseAll();
        in.releaseAll();
        out.releaseSpare();
        in.releaseSpare();
    }

    /** @return where the session is in its life; session lock held */
    protected final Lifecycle lifecycle() {
        return lifecycle;
    }

    /**
     * The one place the lifecycle changes: logs why, wakes every waiting thread and the pump. A
     * change {@link #allowed} does not permit is ignored (a late event about a session that already
     * ended). Session lock held.
     */
    protected final void state(Lifecycle next, String reason) {
        if (!allowed(lifecycle, next)) {
            return;
        }
        log.debug("{}: {} -> {} ({})", describe(), lifecycle, next, reason);
        lifecycle = next;
        wake();
    }

    /** @return whether a session may go from {@code from} to {@code to}: forward only, MOVED and CLOSED final */
    static boolean allowed(Lifecycle from, Lifecycle to) {
        switch (from) {
            case OPEN:
                return to != Lifecycle.OPEN;
            case PEER_DONE:
                return to != Lifecycle.OPEN && to != Lifecycle.PEER_DONE;
            case CLOSING:
            case FAILED:
                return to == Lifecycle.MOVED || to == Lifecycle.CLOSED;
            default:
                return false; // MOVED, CLOSED
        }
    }

    /** Wakes every thread waiting on the session and the pump: something they wait for changed; session lock held. */
    protected final void wake() {
        changed.signalAll();
        wakePump();
    }

    /** @return whether the application closed the session (lingering or released); session lock held */
    @Override
    protected final boolean isClosing() {
        return lifecycle == Lifecycle.CLOSING || lifecycle == Lifecycle.CLOSED;
    }

    /** @return whether the link may still carry the session (open, peer done, or lingering); session lock held */
    protected final boolean isLive() {
        return lifecycle == Lifecycle.OPEN || lifecycle == Lifecycle.PEER_DONE || lifecycle == Lifecycle.CLOSING;
    }

    /** @return why the session failed, or {@code null}; session lock held */
    protected final IOException failure() {
        return failure;
    }

    /** @throws IOException when the session failed or was closed */
    protected final void checkOpen() throws IOException {
        if (isClosing()) {
            throw new SocketException("Socket closed (" + describe() + ")");
        }
        if (lifecycle == Lifecycle.FAILED) {
            IOException e = failure instanceof SocketException ? new SocketException(failure.getMessage())
                    : new IOException(failure.getMessage());
            e.initCause(failure);
            throw e;
        }
    }

    /** Waits on {@link #changed} until signalled or the deadline; session lock held. */
    protected final void awaitChange(long deadlineNanos) throws IOException {
        long slice = Math.min(MAX_WAIT_SLICE_NANOS,
                deadlineNanos == Long.MAX_VALUE ? MAX_WAIT_SLICE_NANOS : deadlineNanos - System.nanoTime());
        if (slice <= 0) {
            return;
        }
        try {
            changed.awaitNanos(slice);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting on " + describe());
        }
    }

    /**
     * Makes progress on the network for a blocked application thread: reads or flushes what can be
     * done now, else waits for the channel (as the pump) or for the pump (as another thread). Returns
     * after some progress, a wake-up or a time slice; the caller re-checks its condition. Session lock
     * held on entry and on return.
     */
    protected final void pump(int ops, long deadlineNanos) throws IOException {
        Link l = link;
        Thread me = Thread.currentThread();
        if (l == null || l.dead || !canReadLink() || (pumpThread != null && pumpThread != me)) {
            awaitChange(deadlineNanos);
            return;
        }
        if (hasPendingOutput()) {
            flushLocked();
        }
        // a read before waiting saves the wait when data streams in, and costs a syscall when it
        // does not (request/response): try it only while recent reads found more than they took
        if ((ops & SelectionKey.OP_READ) != 0 && readAhead && readLink(l) != 0) {
            return;
        }
        if (link != l || l.dead) {
            return;
        }
        int waitOps = ops;
        if (hasPendingOutput()) {
            waitOps |= SelectionKey.OP_WRITE;
        }
        if (networkRoom() <= 0) {
            waitOps &= ~SelectionKey.OP_READ;
        }
        if (waitOps == 0) {
            awaitChange(deadlineNanos);
            return;
        }
        ChannelWaiter waiter = ChannelWaiter.current();
        if (!l.waiters.contains(waiter)) {
            l.waiters.add(waiter);
        }
        pumpThread = me;
        pumpWaiter = waiter;
        l.setInterest(0, loop);
        long now = System.nanoTime();
        pumpStart = now;
        long until = deadlineNanos == Long.MAX_VALUE || deadlineNanos - now > MAX_WAIT_SLICE_NANOS
                ? now + MAX_WAIT_SLICE_NANOS : deadlineNanos;
        int ready = 0;
        lock.unlock();
        try {
            ready = waiter.await(l.channel, waitOps, until);
        } catch (ClosedChannelException | CancelledKeyException e) {
            ready = 0; // the link was closed or replaced meanwhile: the caller looks at the session again
        } finally {
            lock.lock();
            pumpThread = null;
            pumpWaiter = null;
            lastPumpEnd = System.nanoTime();
            changed.signalAll();
            needAttention(); // the loop takes over if this thread does not pump again soon
        }
        if (link != l || l.dead) {
            return;
        }
        if ((ready & SelectionKey.OP_WRITE) != 0) {
            flushLocked();
        }
        if ((ready & SelectionKey.OP_READ) != 0) {
            readLink(l);
        }
    }

    /** Wakes the pump so it looks at the session again (link replaced, frozen, closed). */
    protected final void wakePump() {
        if (pumpWaiter != null) {
            pumpWaiter.wakeup();
        }
    }

    // ================================================================== network side

    /**
     * Fails the session: every application call from now on throws {@code e}; a session its
     * application closed already is released. Session lock held.
     */
    @Override
    protected final void fail(IOException e) {
        if (failure == null) {
            failure = e;
        }
        closeLinkNow(false);
        if (lifecycle == Lifecycle.OPEN || lifecycle == Lifecycle.PEER_DONE) {
            state(Lifecycle.FAILED, e.getMessage());
        } else if (lifecycle == Lifecycle.CLOSING) {
            released();
        } else {
            wake();
        }
    }

    // ================================================================== the loop's side

    /** Asks the loop to tick this session; session lock held. */
    @Override
    protected final void needAttention() {
        if (!attended) {
            attended = true;
            loop.attention(this);
        }
    }

    @Override
    public final boolean tick(long now) {
        if (!lock.tryLock()) {
            return true; // an application thread is in the session: look again on the next tick
        }
        try {
            backedOff.set(false);
            boolean again = onTick(now);
            Link l = link;
            if (l != null && !l.dead) {
                if (ackDueSince != 0) {
                    if (now - ackDueSince >= ACK_DELAY_NANOS || isClosing()) {
                        queueAck(l);
                        flushLocked();
                    } else {
                        again = true;
                    }
                }
                if (lifecycle == Lifecycle.CLOSING) {
                    if (lingerDone(now)) {
                        closeLinkNow(true);
                        released();
                        attended = false;
                        return false;
                    }
                    arm(l);
                    again = true;
                } else if (pumpThread == null) {
                    if (now - lastPumpEnd >= LOOP_TAKEOVER_NANOS) {
                        arm(l);
                        out.releaseSpare(); // the application went quiet: give the spare chunks back
                        in.releaseSpare();
                    } else {
                        again = true;
                    }
                } else if (now - pumpStart < PUMP_ATTENTION_NANOS) {
                    // an application thread pumps; keep ticking a while so that its next stop costs
                    // no wake-up of an idle loop (request/response traffic stops and starts constantly)
                    again = true;
                }
            }
            attended = again;
            return again;
        } catch (IOException e) {
            fail(e);
            attended = false;
            return false;
        } finally {
            lock.unlock();
        }
    }

    private boolean lingerDone(long now) {
        return (outFinAcked && !hasPendingOutput()) || now - closedAt > LINGER_NANOS;
    }

    /** Gives the loop the interest this session needs now; session lock held. */
    protected final void arm(Link l) {
        if (l.key == null) {
            return; // the registration sets it
        }
        int ops = 0;
        if (canReadLink() && networkRoom() > 0) {
            ops |= SelectionKey.OP_READ;
        }
        if (hasPendingOutput()) {
            ops |= SelectionKey.OP_WRITE;
        }
        l.setInterest(ops, loop);
    }

    /** The loop saw the link ready. */
    @Override
    final void loopReady(Link l, SelectionKey k) {
        if (!lock.tryLock()) {
            // an application thread is in the session (writing, most likely): waiting for it would
            // park the loop and wake it on every acknowledgement; stop watching the link instead, and
            // let the tick give it back shortly (the application reads it itself if it must wait)
            try {
                k.interestOps(0);
            } catch (CancelledKeyException ignored) {
                return;
            }
            l.interestStale = true;
            if (backedOff.compareAndSet(false, true)) {
                loop.attention(this);
            }
            return;
        }
        try {
            if (link != l || l.dead) {
                k.cancel();
                return;
            }
            if (pumpThread != null) {
                l.setInterest(0, loop);
                return;
            }
            if (k.isWritable()) {
                flushLocked();
            }
            if (k.isReadable()) {
                for (int i = 0; i < 4 && link == l && !l.dead; i++) {
                    if (readLink(l) <= 0) {
                        break;
                    }
                }
            }
            if (lifecycle == Lifecycle.CLOSING && link == l && lingerDone(System.nanoTime())) {
                closeLinkNow(true);
                released();
                return;
            }
            if (link == l && !l.dead) {
                arm(l);
            }
            // no application thread is at work here: whatever emptied gives its spare chunk back
            out.releaseSpare();
            in.releaseSpare();
        } catch (IOException e) {
            fail(e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Makes {@code l} the session's link and registers it with the loop (armed when no application
     * thread pumps); session lock held.
     */
    protected final void attach(Link l) {
        link = l;
        loop.execute(() -> {
            lock.lock();
            try {
                if (l.dead) {
                    return;
                }
                l.key = loop.register(l.channel, 0, l);
                l.interest = 0;
                if (pumpThread == null) {
                    arm(l);
                }
            } catch (IOException e) {
                fail(e);
            } finally {
                lock.unlock();
            }
        });
    }

    /**
     * Makes {@code l} the session's link, taking over a key its channel already has with this
     * session's loop; loop thread, session lock held.
     */
    protected final void attachRegistered(Link l, SelectionKey key) {
        link = l;
        key.attach(l);
        l.key = key;
        l.interest = key.interestOps();
        arm(l);
    }

}
