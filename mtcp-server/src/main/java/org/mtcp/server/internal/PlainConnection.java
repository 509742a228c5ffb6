package org.mtcp.server.internal;

import org.mtcp.api.MigrationException;
import org.mtcp.internal.io.ChannelWaiter;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A client that does not speak MTCP, served as a plain, non-migratable TCP connection. The channel
 * stays non-blocking (it was classified by the I/O loop); application threads wait for it with their
 * own {@link ChannelWaiter}. The bytes read while classifying come first. APP_STATE is kept so that
 * one server code path serves both kinds of client.
 */
final class PlainConnection implements Accepted {
    private final SocketChannel channel;
    private final InetSocketAddress remote;
    private final InetSocketAddress local;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Bytes read while classifying; guarded by readLock. */
    private ByteBuffer prefix;
    private volatile int timeout;
    private volatile byte[] state = new byte[0];
    private volatile boolean closed;
    /** Waiters of application threads that have the channel registered; released on close. */
    private final Set<ChannelWaiter> waiters = new CopyOnWriteArraySet<>();
    private final InputStream input = new In();
    private final OutputStream output = new Out();

    PlainConnection(SocketChannel channel, byte[] prefix, InetSocketAddress remote, InetSocketAddress local) {
        this.channel = channel;
        this.prefix = prefix.length == 0 ? null : ByteBuffer.wrap(prefix);
        this.remote = remote;
        this.local = local;
    }

    @Override
    public InetSocketAddress remote() {
        return remote;
    }

    @Override
    public InetSocketAddress local() {
        return local;
    }

    @Override
    public InputStream input() {
        return input;
    }

    @Override
    public OutputStream output() {
        return output;
    }

    @Override
    public void setReadTimeout(int timeoutMillis) {
        timeout = timeoutMillis;
    }

    @Override
    public int available() throws IOException {
        readLock.lock();
        try {
            return prefix != null ? prefix.remaining() : 0;
        } finally {
            readLock.unlock();
        }
    }

    @Override
    public void exportState(byte[] s) {
        state = s.clone();
    }

    @Override
    public byte[] importState() {
        return state.clone();
    }

    @Override
    public boolean migrated() {
        return false;
    }

    @Override
    public void trigger(InetSocketAddress to) throws IOException {
        throw new MigrationException("cannot migrate the connection from " + remote + ": the client speaks plain TCP, not MTCP",
                MigrationException.Reason.INVALID_STATE, true, null);
    }

    @Override
    public void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    @Override
    public void shutdownInput() throws IOException {
        channel.shutdownInput();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        channel.close();
        for (ChannelWaiter w : waiters) {
            w.forget(channel);
        }
    }

    @Override
    public SocketChannel channel() {
        return channel;
    }

    @Override
    public <T> void setOption(SocketOption<T> name, T value) throws IOException {
        channel.setOption(name, value);
    }

    private final class In extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            readLock.lock();
            try {
                if (prefix != null) {
                    int n = Math.min(len, prefix.remaining());
                    prefix.get(b, off, n);
                    if (!prefix.hasRemaining()) {
                        prefix = null;
                    }
                    return n;
                }
                long deadline = timeout > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout) : Long.MAX_VALUE;
                ByteBuffer dst = ByteBuffer.wrap(b, off, len);
                while (true) {
                    if (closed) {
                        throw new SocketException("Socket closed");
                    }
                    int n = channel.read(dst);
                    if (n != 0) {
                        return n;
                    }
                    if (deadline != Long.MAX_VALUE && deadline - System.nanoTime() <= 0) {
                        throw new SocketTimeoutException("Read timed out (plain client " + remote + ")");
                    }
                    await(SelectionKey.OP_READ, deadline);
                }
            } finally {
                readLock.unlock();
            }
        }

        @Override
        public int available() throws IOException {
            return PlainConnection.this.available();
        }

        @Override
        public void close() throws IOException {
            PlainConnection.this.close();
        }
    }

    private final class Out extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            writeLock.lock();
            try {
                ByteBuffer src = ByteBuffer.wrap(b, off, len);
                while (src.hasRemaining()) {
                    if (closed) {
                        throw new SocketException("Socket closed");
                    }
                    if (channel.write(src) == 0) {
                        await(SelectionKey.OP_WRITE, Long.MAX_VALUE);
                    }
                }
            } finally {
                writeLock.unlock();
            }
        }

        @Override
        public void close() throws IOException {
            PlainConnection.this.close();
        }
    }

    private void await(int op, long deadline) throws IOException {
        if (Thread.interrupted()) {
            close();
            throw new InterruptedIOException("interrupted");
        }
        long slice = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        ChannelWaiter w = ChannelWaiter.current();
        waiters.add(w);
        w.await(channel, op, deadline == Long.MAX_VALUE ? slice : Math.min(deadline, slice));
    }
}
