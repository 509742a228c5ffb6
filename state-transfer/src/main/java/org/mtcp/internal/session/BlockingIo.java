package org.mtcp.internal.session;

import org.mtcp.internal.io.ChannelWaiter;
import org.mtcp.internal.wire.FrameReader;
import org.mtcp.internal.wire.Frames;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.Wire;

import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * Blocking-style operations with a deadline on non-blocking channels, for handshakes: connecting,
 * writing a request, reading exactly one answer frame (never more, so that what follows it stays in
 * the channel for the session).
 */
public final class BlockingIo {
    private BlockingIo() {
    }

    /**
     * Opens a non-blocking TCP connection.
     *
     * @param to            where
     * @param local         local address to bind first, or {@code null}
     * @param deadlineNanos when to give up
     */
    public static SocketChannel connect(InetSocketAddress to, SocketAddress local, long deadlineNanos) throws IOException {
        SocketChannel ch = SocketChannel.open();
        boolean ok = false;
        try {
            ch.configureBlocking(false);
            if (local != null) {
                ch.bind(local);
            }
            if (!ch.connect(to)) {
                ChannelWaiter w = ChannelWaiter.current();
                try {
                    while (!ch.finishConnect()) {
                        if (deadlineNanos - System.nanoTime() <= 0) {
                            throw new SocketTimeoutException("connect to " + to + " timed out");
                        }
                        w.await(ch, SelectionKey.OP_CONNECT, deadlineNanos);
                    }
                } finally {
                    w.forget(ch);
                }
            }
            ok = true;
            return ch;
        } catch (ConnectException e) {
            ConnectException ce = new ConnectException("cannot connect to " + to + ": " + e.getMessage());
            ce.initCause(e);
            throw ce;
        } finally {
            if (!ok) {
                ch.close();
            }
        }
    }

    /** Writes every remaining byte of {@code buf} before the deadline. */
    public static void writeFully(SocketChannel ch, ByteBuffer buf, long deadlineNanos, String what) throws IOException {
        ChannelWaiter w = null;
        try {
            while (buf.hasRemaining()) {
                if (ch.write(buf) == 0) {
                    if (deadlineNanos - System.nanoTime() <= 0) {
                        throw new SocketTimeoutException("timed out writing " + what);
                    }
                    if (w == null) {
                        w = ChannelWaiter.current();
                    }
                    w.await(ch, SelectionKey.OP_WRITE, deadlineNanos);
                }
            }
        } finally {
            if (w != null) {
                w.forget(ch);
            }
        }
    }

    /** Reads exactly {@code buf.remaining()} bytes before the deadline. */
    public static void readFully(SocketChannel ch, ByteBuffer buf, long deadlineNanos, String what) throws IOException {
        ChannelWaiter w = null;
        try {
            while (buf.hasRemaining()) {
                int n = ch.read(buf);
                if (n < 0) {
                    throw new EOFException("connection closed while reading " + what);
                }
                if (n == 0) {
                    if (deadlineNanos - System.nanoTime() <= 0) {
                        throw new SocketTimeoutException("timed out reading " + what);
                    }
                    if (w == null) {
                        w = ChannelWaiter.current();
                    }
                    w.await(ch, SelectionKey.OP_READ, deadlineNanos);
                }
            }
        } finally {
            if (w != null) {
                w.forget(ch);
            }
        }
    }

    /**
     * Reads one whole frame, and not a byte more, and decodes it.
     *
     * @param maxPayload the largest payload accepted
     */
    public static Message readMessage(SocketChannel ch, long deadlineNanos, int maxPayload, String what) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(Wire.HEADER_SIZE);
        readFully(ch, header, deadlineNanos, what);
        int word = header.getInt(0);
        ByteBuffer payload = ByteBuffer.allocate(FrameReader.payloadLength(word, maxPayload, what));
        readFully(ch, payload, deadlineNanos, what);
        return Message.decode(Frames.headerType(word), payload.flip(), what);
    }
}
