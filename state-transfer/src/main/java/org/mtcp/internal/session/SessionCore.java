package org.mtcp.internal.session;

import org.mtcp.internal.io.ChannelWaiter;
import org.mtcp.internal.io.EventLoop;
import org.mtcp.internal.io.Uninterruptibly;
import org.mtcp.internal.wire.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
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
    private static final Logger log = LoggerFactory.getLogger(SessionCore.class);
    /** A closed session waits at most this long for the peer to acknowledge everything. */
    private static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(Long.getLong("mtcp.lingerSeconds", 30));

    /** Who does the network I/O: an application thread or the loop; guarded by the session lock. */
    private final Pump pump = new Pump(this);
    // ---- every field below is guarded by the session lock ----
    /** Where the session is in its life; every change goes through {@link #state}. */
    private Lifecycle lifecycle = Lifecycle.OPEN;
    /** Why the session FAILED: every later call of the application fails with it. */
    private IOException failure;
    /** When the application closed it, for the linger deadline. */
    private long closedAt;
    /** The application wrote once after the peer closed its connection (the next write fails). */
    private boolean wroteAfterPeerDone;
    /** The peer's connection ended with a reset after its end of stream. */
    private boolean peerReset;

    /**
     * @param loop          the session's I/O loop
     * @param outStart      stream offset of the first outgoing byte
     * @param inStart       stream offset of the first incoming byte
     * @param sendWindow    most unacknowledged outgoing bytes
     * @param receiveWindow most unread incoming bytes
     */
    protected SessionCore(EventLoop loop, long outStart, long inStart, int sendWindow, int receiveWindow) {
        super(loop, outStart, inStart, sendWindow, receiveWindow);
        ExitFlush.add(this);
    }

    /** Waits until the session is released or failed, or the deadline. */
    void awaitReleased(long deadlineNanos) {
        lock.lock();
        try {
            while (lifecycle == Lifecycle.CLOSING) {
                if (link == null || link.dead) {
                    // its connection broke and the session waits for a resume: the process ends before that, and the
                    // session with it, as a plain socket's connection that was reset
                    log.debug("{}: released at exit while waiting for a resume", this);
                    released();
                    return;
                }
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    log.warn("{}: the JVM exits before the peer acknowledged everything written", this);
                    return;
                }
                changed.awaitNanos(Math.min(left, Pump.MAX_WAIT_SLICE_NANOS));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    /** @return {@link #describe()}: log messages name the session lazily */
    @Override
    public final String toString() {
        return describe();
    }

    /** @return how far the peer has acknowledged the outgoing stream (the FIN counts one), for diagnostics and tests */
    public long acknowledgedOffset() {
        lock.lock();
        try {
            return peerHas;
        } finally {
            lock.unlock();
        }
    }

    /** @return the stream offsets and I/O state, for diagnostics */
    public String debugState() {
        lock.lock();
        try {
            Link l = link;
            return describe() + ": out [" + out.head() + ", " + out.tail() + ") next " + outNext
                    + (outFinQueued ? " fin" + (outFinSent ? "-sent" : "") + (outFinAcked ? "-acked" : "") : "")
                    + "; in [" + in.start() + ", " + in.readOffset() + ", " + in.end() + ")" + (inFin ? " fin" : "")
                    + " ackSent " + ackSent + " releaseSent " + releaseSent + "; peer has " + peerHas + " released "
                    + peerReleased + "; link " + (l == null ? "none" : l + (l.dead ? " dead" : "")
                    + " inOffset " + l.inOffset + " interest " + l.interest + " " + l.output.describe())
                    + "; pump " + pump.describe() + " " + lifecycle + (failure != null ? " (" + failure + ")" : "")
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

    /** @return the read timeout in milliseconds (0: none) of a {@link SessionInputStream} made without one */
    protected int readTimeoutMillis() {
        return 0;
    }

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
                if (lifecycle != Lifecycle.FAILED || in.available() == 0) {
                    checkReadable(); // bytes that arrived are readable before a failure is reported, as with plain TCP
                }
                if (inShutdown) {
                    return -1;
                }
                if (in.available() > 0) {
                    boolean wasFull = networkRoom() <= 0;
                    int n = in.read(b, off, len);
                    afterApplicationRead(n);
                    if (creditValue() - creditSent >= receiveWindow / 4 && link != null) {
                        queueAck(link); // the window opened: tell the peer (a window update, and the release)
                        flushLocked();
                    } else {
                        releaseDue();
                    }
                    if (wasFull && !pump.active()) {
                        needAttention(); // the network was left unread for lack of room
                    }
                    return n;
                }
                if (inFin || lifecycle == Lifecycle.PEER_DONE) {
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
            if (isClosing()) {
                checkOpen();
            }
            return inShutdown ? 0 : (int) Math.min(Integer.MAX_VALUE, in.available()); // after a failure too, as the JDK
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
            if (lifecycle == Lifecycle.PEER_DONE) {
                // the peer closed its connection. A kernel takes the first write for it all the same (the peer's
                // reset comes back later) and fails the next: so does the session; those bytes go nowhere
                if (!wroteAfterPeerDone && !peerReset) {
                    wroteAfterPeerDone = true;
                    return;
                }
                throw new SocketException((peerReset ? "Connection reset" : "Broken pipe")
                        + " (the peer closed its connection: " + describe() + ")");
            }
            long room = sendWindow - unacknowledged();
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
        if (!pump.active() && (out.size() > 0 || hasPendingOutput())) {
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
            releaseDue(); // what the application will never read is released, as a kernel acknowledges it
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
        long lingerNanos = -1;
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
            lingerNanos = link.lingerNanos();
            if (lingerNanos == 0) {
                // SO_LINGER 0: an abortive close, as java.net's: the kernel resets the connection, nothing more is sent
                state(Lifecycle.CLOSING, "closed by the application with SO_LINGER 0: reset");
                sendReset("the application closed its socket with SO_LINGER 0");
                closeLinkNow(false);
                released();
                return;
            }
            state(Lifecycle.CLOSING, "closed by the application");
            beforeCloseEndsOutput();
            outFinQueued = true;
            boolean unread = in.available() > 0;
            in.releaseAll();
            flushLocked();
            if (unread) {
                // as a plain socket's close with bytes unread: the end of stream goes out after the data, then the
                // kernel resets the connection (what it had not sent yet is lost with it, as there)
                link.resetOnClose();
                closeLinkNow(false); // no TCP FIN before the reset: the peer's library must see the reset, not an end
                released();
                return;
            }
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
        if (lingerNanos > 0) {
            awaitReleased(System.nanoTime() + lingerNanos); // SO_LINGER n: close blocks until delivered, at most n seconds
        }
    }

    /** {@link #close} is about to end the outgoing stream (queue the FIN); session lock held. */
    protected void beforeCloseEndsOutput() {
    }

    /** The session is gone for good; session lock held. Subclasses unregister it. */
    protected void released() {
        if (lifecycle != Lifecycle.MOVED) {
            state(Lifecycle.CLOSED, "released");
        }
        ExitFlush.remove(this);
        cancelSilenceCheck();
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
     * change {@link Lifecycle#allowed} does not permit is ignored (a late event about a session that already
     * ended). Session lock held.
     */
    protected final void state(Lifecycle next, String reason) {
        if (!Lifecycle.allowed(lifecycle, next)) {
            return;
        }
        log.debug("{}: {} -> {} ({})", this, lifecycle, next, reason);
        lifecycle = next;
        wake();
    }

    /** Wakes every thread waiting on the session and the pump: something they wait for changed; session lock held. */
    protected final void wake() {
        wakeWaiters();
        wakePump();
    }

    /**
     * Wakes the threads waiting on the session's condition but leaves the pump in its wait for the channel:
     * for a change the pump need not act on (it finds out when the channel is ready or its slice ends, and
     * does nothing it must not); session lock held.
     */
    protected final void wakeWaiters() {
        changed.signalAll();
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

    /**
     * The session's connection ended and nothing else (a migration) decides its fate: it ends as a
     * plain socket's would. After the peer's end of stream, or without one (the kernel closed it: the
     * peer's process ended), reads drain to the end of stream; a reset fails the session, with the
     * JDK's words first ("Connection reset"), which java.net code matches. Session lock held.
     *
     * @param cause      why it ended, {@code null} for an end of stream
     * @param connection which connection, for messages ("the connection to ...")
     */
    protected final void connectionEnded(IOException cause, String connection) {
        if (peerFinished()) {
            peerClosed(connection + " closed after the peer's end of stream", cause != null);
        } else if (cause == null) {
            log.warn("{}: {} closed without the end of stream: the peer's process ended", this, connection);
            peerClosed(connection + " closed without an end of stream", false);
        } else {
            fail(new SocketException(cause.getMessage() + " (" + connection + " was lost: " + describe() + ")"));
        }
    }

    /**
     * The peer closed the session's connection: reads drain to the end of stream, writes fail
     * ({@link Lifecycle#PEER_DONE}); a session its application closed already has nothing left to wait
     * for and is released. Session lock held.
     *
     * @param reset whether the connection ended with a reset after the peer's end of stream (it closed
     *              with bytes unread): writes fail from the first, as they do on a plain socket
     */
    private void peerClosed(String reason, boolean reset) {
        peerReset = reset;
        if (lifecycle == Lifecycle.CLOSING) {
            log.debug("{}: released: {}", this, reason);
            closeLinkNow(false);
            released();
            return;
        }
        state(Lifecycle.PEER_DONE, reason);
    }

    /** Waits on {@link #changed} until signalled or the deadline; session lock held. */
    protected final void awaitChange(long deadlineNanos) throws IOException {
        long slice = Math.min(Pump.MAX_WAIT_SLICE_NANOS,
                deadlineNanos == Long.MAX_VALUE ? Pump.MAX_WAIT_SLICE_NANOS : deadlineNanos - System.nanoTime());
        if (slice <= 0) {
            return;
        }
        Uninterruptibly.awaitNanos(changed, slice); // as JDK 17's sockets, which ignore interrupts
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

    /** @return whether a closed session has lingered enough: the peer has everything, or the linger time passed */
    boolean lingerDone(long now) {
        return (outFinAcked && !hasPendingOutput()) || now - closedAt > LINGER_NANOS;
    }

    // ================================================================== the streams, for the two ends (session lock held)

    /** @return the session's lock: guards every field of the session and its link */
    protected final ReentrantLock lock() {
        return lock;
    }

    /** @return the session's I/O loop */
    protected final EventLoop loop() {
        return loop;
    }

    /** @return the current link, or {@code null} */
    protected final Link link() {
        return link;
    }

    /** @return the current link's channel, or {@code null} */
    protected final SocketChannel linkChannel() {
        Link l = link;
        return l == null ? null : l.channel;
    }

    /** @return whether there is no link that can carry the session */
    protected final boolean linkDead() {
        return link == null || link.dead;
    }

    /** @return whether the peer's FIN has arrived */
    protected final boolean peerFinished() {
        return inFin;
    }

    /** @return the application's read offset in the incoming stream */
    protected final long readOffset() {
        return in.readOffset();
    }

    /** @return the first incoming byte still held: the read log's start on a server */
    protected final long logStart() {
        return in.start();
    }

    /** Forgets the incoming bytes below {@code offset}, which the application has read. */
    protected final void trimReadLog(long offset) {
        in.trimTo(offset);
    }

    /** @return whether the application ended its outgoing stream */
    protected final boolean finQueued() {
        return outFinQueued;
    }

    /** @return the first outgoing byte still held: nothing below it needs sending again */
    protected final long sendHead() {
        return out.head();
    }

    /** @return the credit last given to the peer */
    protected final long creditSent() {
        return creditSent;
    }

    /** @return the current connection's channel, or {@code null}; takes the session lock */
    public final SocketChannel channel() {
        lock.lock();
        try {
            return linkChannel();
        } finally {
            lock.unlock();
        }
    }

    /** @return bytes received twice (after migrations) and dropped so far; takes the session lock */
    public final long duplicatesDropped() {
        lock.lock();
        try {
            return duplicateBytesDropped;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues a control frame (TRIGGER, ERROR), sealed under the session key, on the current link and
     * sends what can go now; session lock held.
     *
     * @return {@code false} when there is no room for it (the peer is not reading)
     */
    protected final boolean sendControl(Message m) throws IOException {
        return link != null && send(link.sealed(m));
    }

    /**
     * Queues a handshake answer (HELLO_ACK, MIGRATE_ACK: the frames that set up the session key, so
     * not sealed) on the current link and sends it; session lock held.
     *
     * @return {@code false} when there is no room for it
     */
    protected final boolean sendHandshake(Message m) throws IOException {
        return send(m.encode());
    }

    private boolean send(ByteBuffer frame) throws IOException {
        if (!queueControl(link, frame)) {
            return false;
        }
        flushLocked();
        if (hasPendingOutput()) {
            needAttention();
        }
        return true;
    }

    // ================================================================== the pump and the loop (Pump)

    /**
     * Makes progress on the network for a blocked application thread ({@link Pump#run}); session lock
     * held on entry and on return.
     */
    protected final void pump(int ops, long deadlineNanos) throws IOException {
        pump.run(ops, deadlineNanos);
    }

    /** Wakes the pump so it looks at the session again (link replaced, frozen, closed). */
    protected final void wakePump() {
        pump.wake();
    }

    /** Asks the loop to tick this session; session lock held. */
    @Override
    protected final void needAttention() {
        pump.needAttention();
    }

    @Override
    public final boolean tick(long now) {
        return pump.tick(now);
    }

    @Override
    final void loopReady(Link l, SelectionKey k) {
        pump.loopReady(l, k);
    }

    /** Makes {@code l} the session's link and registers it with the loop; session lock held. */
    protected final void attach(Link l) {
        pump.attach(l);
    }

    /** Makes {@code l} the session's link, taking over its channel's key with this loop; loop thread, session lock held. */
    protected final void attachRegistered(Link l, SelectionKey key) {
        pump.attachRegistered(l, key);
    }
}
