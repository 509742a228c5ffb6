package org.mtcp.internal.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A connected TCP channel behind {@code java.net.Socket} streams that behave as JDK 17's own
 * ({@code NioSocketImpl}): the channel is non-blocking and application threads wait for it with
 * their {@link ChannelWaiter}, so that
 * <ul>
 * <li>an interrupt neither closes the connection nor ends a blocked read or write (the JDK ignores it,
 * the flag stays set);</li>
 * <li>reads and writes have locks of their own (a blocked read never holds up a write), reads honour
 * the socket's read timeout ({@code SocketTimeoutException("Read timed out")});</li>
 * <li>failures are {@code SocketException}s with the JDK's messages ("Socket closed", "Broken pipe",
 * "Connection reset");</li>
 * <li>{@link #available()} counts bytes waiting in the kernel (NIO has no {@code FIONREAD}: up to
 * {@value #AHEAD} bytes are read ahead into a buffer when the application asks);</li>
 * <li>{@link #close()} ends the output first (FIN) unless {@code SO_LINGER} is 0, as the JDK does; unread
 * data then makes the kernel reset the connection, also data this class had read ahead.</li>
 * </ul>
 */
public final class ChannelStreams {
    /** The most bytes {@link #available()} reads ahead of the application. */
    static final int AHEAD = 8192;
    private static final String CLOSED = "Socket closed";

    private final SocketChannel channel;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ReentrantLock stateLock = new ReentrantLock();
    /** Bytes taken from the kernel that the application has not read, in read mode, or null; guarded by readLock. */
    private ByteBuffer ahead;
    /** The end of the stream was read into {@link #ahead}; guarded by readLock. */
    private boolean eof;
    /** The peer reset the connection: reads fail from now on, as the JDK's do. */
    private volatile boolean reset;
    private volatile int timeout;
    private volatile boolean closed;
    private volatile boolean inputShut;
    private volatile boolean outputShut;
    /** Waiters of threads that waited for the channel; they must let go of it when it closes. */
    private final Set<ChannelWaiter> waiters = new CopyOnWriteArraySet<>();
    private final InputStream input = new In();
    private final OutputStream output = new Out();

    /**
     * @param channel a connected, non-blocking channel
     * @param prefix  bytes already read from it, which the application reads first
     */
    public ChannelStreams(SocketChannel channel, byte[] prefix) {
        if (channel.isBlocking()) {
            throw new IllegalArgumentException("the channel must be non-blocking");
        }
        this.channel = channel;
        if (prefix.length > 0) {
            ahead = ByteBuffer.wrap(prefix.clone());
        }
    }

    /**
     * Connects a channel as {@code Socket.connect} does: non-blocking, waiting with the thread's
     * {@link ChannelWaiter} (an interrupt does not end the wait), {@code ConnectException("Connection
     * refused")} and {@code SocketTimeoutException("Connect timed out")} as the JDK throws them.
     *
     * @param ch            an unconnected channel (maybe bound); made non-blocking
     * @param to            the destination
     * @param deadlineNanos {@link System#nanoTime()} to give up at, {@code Long.MAX_VALUE} for none
     * @param waiting       told the waiter before it waits, so that a close can wake it; may be null
     */
    public static void connect(SocketChannel ch, SocketAddress to, long deadlineNanos, Set<ChannelWaiter> waiting)
            throws IOException {
        if (ch.isBlocking()) {
            ch.configureBlocking(false);
        }
        if (ch.connect(to)) {
            return;
        }
        ChannelWaiter w = ChannelWaiter.current();
        if (waiting != null) {
            waiting.add(w);
        }
        try {
            while (!ch.finishConnect()) {
                if (deadlineNanos != Long.MAX_VALUE && deadlineNanos - System.nanoTime() <= 0) {
                    throw new SocketTimeoutException("Connect timed out");
                }
                try {
                    w.await(ch, SelectionKey.OP_CONNECT, deadlineNanos);
                } catch (CancelledKeyException e) {
                    throw new ClosedChannelException();
                }
            }
        } finally {
            w.forget(ch);
        }
    }

    /** @return the channel */
    public SocketChannel channel() {
        return channel;
    }

    /** @return the application's input stream */
    public InputStream input() {
        return input;
    }

    /** @return the application's output stream */
    public OutputStream output() {
        return output;
    }

    /** @param timeoutMillis the read timeout, 0 for none */
    public void setTimeout(int timeoutMillis) {
        timeout = timeoutMillis;
    }

    /** @return whether {@link #close()} was called */
    public boolean isClosed() {
        return closed;
    }

    private void ensureOpen() throws SocketException {
        if (closed) {
            throw new SocketException(CLOSED);
        }
    }

    /** @return the bytes that can be read without blocking, as {@code FIONREAD} would count them (up to a bound) */
    public int available() throws IOException {
        ensureOpen();
        if (inputShut || !readLock.tryLock()) {
            return 0; // a reader holds the lock: it found nothing and is waiting, or is taking what there is
        }
        try {
            ensureOpen();
            int have = ahead == null ? 0 : ahead.remaining();
            if (have >= AHEAD || eof || reset) {
                return have;
            }
            ByteBuffer b = ahead;
            if (b == null || b.capacity() < AHEAD) {
                b = ByteBuffer.allocate(AHEAD);
                if (ahead != null) {
                    b.put(ahead);
                }
            } else {
                b.compact();
            }
            try {
                if (channel.read(b) < 0) {
                    eof = true;
                }
            } catch (IOException e) {
                if (closed) {
                    throw new SocketException(CLOSED);
                }
                if (isReset(e)) {
                    reset = true; // the next read throws it, after the bytes read before
                }
            } finally {
                b.flip();
                ahead = b;
            }
            return b.remaining();
        } finally {
            readLock.unlock();
        }
    }

    /** Ends the input: reads return -1 from now on, as the JDK's do, even with unread bytes. */
    public void shutdownInput() throws IOException {
        stateLock.lock();
        try {
            ensureOpen();
            if (!inputShut) {
                try {
                    channel.shutdownInput();
                } catch (IOException e) {
                    throw translate(e, false);
                }
                inputShut = true;
            }
        } finally {
            stateLock.unlock();
        }
    }

    /** Ends the output (FIN); writes fail with "Broken pipe" from now on. */
    public void shutdownOutput() throws IOException {
        stateLock.lock();
        try {
            ensureOpen();
            if (!outputShut) {
                try {
                    channel.shutdownOutput();
                } catch (IOException e) {
                    throw translate(e, true);
                }
                outputShut = true;
            }
        } finally {
            stateLock.unlock();
        }
    }

    /**
     * Closes as the JDK's socket does: unless {@code SO_LINGER} is 0 the output ends first (the peer reads
     * the end of the stream); then the channel closes, which resets the connection when received bytes
     * are unread (the kernel does so for bytes it holds; bytes read ahead here count as unread too).
     * Threads blocked in read or write throw {@code SocketException("Socket closed")}.
     */
    public void close() throws IOException {
        stateLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            stateLock.unlock();
        }
        try {
            if (channel.isConnected()) {
                int linger = channel.getOption(StandardSocketOptions.SO_LINGER);
                if (linger != 0) {
                    try {
                        channel.shutdownOutput();
                    } catch (IOException ignored) {
                        // the peer is gone already: there is nothing to end
                    }
                    if (unreadAhead()) {
                        channel.setOption(StandardSocketOptions.SO_LINGER, 0);
                    }
                }
            }
        } catch (IOException ignored) {
            // closing anyway
        } finally {
            channel.close();
            for (ChannelWaiter w : waiters) {
                w.forget(channel);
            }
        }
    }

    private boolean unreadAhead() {
        if (!readLock.tryLock()) {
            return false; // a reader waits: it has taken everything read ahead
        }
        try {
            return ahead != null && ahead.hasRemaining();
        } finally {
            readLock.unlock();
        }
    }

    /** Sends one byte of urgent data, as {@code Socket.sendUrgentData}. */
    public void sendUrgentData(int data) throws IOException {
        writeLock.lock();
        try {
            ensureOpen();
            try {
                channel.socket().sendUrgentData(data);
            } catch (IOException e) {
                if ("Socket buffer full".equals(e.getMessage())) {
                    throw new SocketException("No buffer space available");
                }
                throw translate(e, true);
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** @param on whether urgent data is read inline (the JDK's {@code SO_OOBINLINE}) */
    public void setOobInline(boolean on) throws IOException {
        ensureOpen();
        channel.setOption(oobInline(channel), on);
    }

    /** @return whether urgent data is read inline */
    public boolean oobInline() throws IOException {
        ensureOpen();
        return channel.getOption(oobInline(channel));
    }

    /** @return the channel's {@code SO_OOBINLINE} option (JDK-internal: not in {@link StandardSocketOptions}) */
    @SuppressWarnings("unchecked")
    public static SocketOption<Boolean> oobInline(SocketChannel ch) throws SocketException {
        for (SocketOption<?> o : ch.supportedOptions()) {
            if ("SO_OOBINLINE".equals(o.name()) && o.type() == Boolean.class) {
                return (SocketOption<Boolean>) o;
            }
        }
        throw new SocketException("this JDK's channels have no SO_OOBINLINE");
    }

    /**
     * @return the channel's local port, 0 when unbound or closed already (a connection the peer ended at once: the
     * caller's connect has still succeeded, as a plain socket's does); without {@code ch.socket()}, whose adaptor
     * (a second {@code Socket} and its impl) the channel would keep for the rest of its life
     */
    public static int localPort(SocketChannel ch) throws IOException {
        SocketAddress a;
        try {
            a = ch.getLocalAddress();
        } catch (java.nio.channels.ClosedChannelException e) {
            return 0;
        }
        return a instanceof InetSocketAddress ? ((InetSocketAddress) a).getPort() : 0;
    }

    private static boolean isReset(IOException e) {
        String m = e.getMessage();
        return m != null && m.startsWith("Connection reset");
    }

    /** @return a channel failure as the JDK's socket streams throw it */
    private SocketException translate(IOException e, boolean writing) {
        if (closed) {
            return new SocketException(CLOSED);
        }
        String message;
        if (writing && outputShut) {
            message = "Broken pipe";
        } else if (isReset(e)) {
            message = "Connection reset";
        } else if (e instanceof ClosedChannelException) {
            message = CLOSED;
        } else if (e instanceof SocketException) {
            return (SocketException) e;
        } else {
            message = e.getMessage() == null ? e.toString() : e.getMessage();
        }
        SocketException se = new SocketException(message);
        se.initCause(e);
        return se;
    }

    private void await(int op, long deadline) throws IOException {
        ChannelWaiter w = ChannelWaiter.current();
        waiters.add(w);
        ensureOpen(); // after adding: a close that comes later sees the waiter and wakes it
        try {
            w.await(channel, op, deadline);
        } catch (IOException | CancelledKeyException e) {
            throw translate(e instanceof IOException ? (IOException) e : new ClosedChannelException(),
                    op == SelectionKey.OP_WRITE);
        }
    }

    private int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0; // the JDK's answer, also after close or shutdownInput
        }
        readLock.lock();
        try {
            ensureOpen();
            if (inputShut) {
                return -1;
            }
            if (ahead != null && ahead.hasRemaining()) {
                int n = Math.min(len, ahead.remaining());
                ahead.get(b, off, n);
                return n;
            }
            if (eof) {
                return -1;
            }
            if (reset) {
                throw new SocketException("Connection reset");
            }
            int t = timeout;
            long deadline = t > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(t) : Long.MAX_VALUE;
            ByteBuffer dst = ByteBuffer.wrap(b, off, len);
            while (true) {
                int n;
                try {
                    n = channel.read(dst);
                } catch (IOException e) {
                    if (inputShut && !closed) {
                        return -1;
                    }
                    if (isReset(e)) {
                        reset = true;
                    }
                    throw translate(e, false);
                }
                if (n > 0) {
                    return n;
                }
                if (n < 0) {
                    eof = true;
                    return -1;
                }
                if (t > 0 && deadline - System.nanoTime() <= 0) {
                    throw new SocketTimeoutException("Read timed out");
                }
                await(SelectionKey.OP_READ, deadline);
                ensureOpen();
                if (inputShut) {
                    return -1;
                }
            }
        } finally {
            readLock.unlock();
        }
    }

    private void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return; // nothing to do, also after close, as the JDK's
        }
        writeLock.lock();
        try {
            ensureOpen();
            ByteBuffer src = ByteBuffer.wrap(b, off, len);
            while (src.hasRemaining()) {
                int n;
                try {
                    n = channel.write(src);
                } catch (IOException e) {
                    throw translate(e, true);
                }
                if (n == 0) {
                    await(SelectionKey.OP_WRITE, Long.MAX_VALUE);
                    ensureOpen();
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    private final class In extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = ChannelStreams.this.read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return ChannelStreams.this.read(b, off, len);
        }

        @Override
        public int available() throws IOException {
            return ChannelStreams.this.available();
        }

        @Override
        public void close() throws IOException {
            ChannelStreams.this.close();
        }
    }

    private final class Out extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            ChannelStreams.this.write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            ChannelStreams.this.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            ChannelStreams.this.close();
        }
    }
}
