package org.mtcp.server.internal;

import org.mtcp.internal.io.IoHandler;
import org.mtcp.internal.wire.FrameParser;
import org.mtcp.internal.wire.Frames;
import org.mtcp.internal.wire.ProtocolException;
import org.mtcp.internal.wire.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One control connection between two cooperating servers, usable in both directions. It opens with
 * {@link Wire#CONTROL_MAGIC} and a CTRL_HELLO naming the opener's service address. Loop thread only.
 */
final class ControlConnection implements IoHandler, FrameParser.Handler {
    private static final Logger log = LoggerFactory.getLogger(ControlConnection.class);
    private static final long MAX_QUEUED_BYTES = 64L * 1024 * 1024;

    private final ControlEndpoint endpoint;
    private final SocketChannel channel;
    private final boolean initiator;
    private final FrameParser parser;
    /** Direct, so that the JDK reads into it without a copy of its own. */
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(64 * 1024);
    private final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
    private final Map<Long, ServerSession> frozen = new HashMap<>();
    private InetSocketAddress peer;
    private SelectionKey key;
    private boolean connected;
    private boolean greeted;
    private int magicSeen;
    private long queuedBytes;
    private int requests;
    private boolean retiring;
    private boolean closed;

    ControlConnection(ControlEndpoint endpoint, SocketChannel channel, InetSocketAddress peer, boolean initiator) {
        this.endpoint = endpoint;
        this.channel = channel;
        this.peer = peer;
        this.initiator = initiator;
        this.connected = !initiator;
        this.greeted = initiator; // we know who the peer is; an acceptor learns it from CTRL_HELLO
        this.parser = new FrameParser("control connection " + (peer != null ? "to " + peer : "from a peer"), false,
                Wire.MAX_CONTROL_CONNECTION_PAYLOAD);
    }

    InetSocketAddress peer() {
        return peer;
    }

    boolean isClosed() {
        return closed;
    }

    void register() throws IOException {
        key = endpoint.loop().register(channel, SelectionKey.OP_READ, this);
    }

    void connect(SocketAddress to) throws IOException {
        InetSocketAddress self = endpoint.server().identity();
        ByteBuffer hello = ByteBuffer.allocate(Wire.CONTROL_MAGIC.length + Wire.HEADER_SIZE + Frames.addressSize(self));
        hello.put(Wire.CONTROL_MAGIC);
        Frames.frameHeader(hello, Wire.CTRL_HELLO, Frames.addressSize(self));
        Frames.putAddress(hello, self);
        out.addFirst(hello.flip());
        if (channel.connect(to)) {
            connected = true;
            key = endpoint.loop().register(channel, SelectionKey.OP_READ, this);
            flush();
        } else {
            key = endpoint.loop().register(channel, SelectionKey.OP_CONNECT, this);
        }
    }

    void send(ByteBuffer frame) {
        if (closed) {
            return;
        }
        queuedBytes += frame.remaining();
        if (queuedBytes > MAX_QUEUED_BYTES) {
            close("more than " + MAX_QUEUED_BYTES + " bytes queued: the peer is not reading");
            return;
        }
        out.add(frame);
        if (connected) {
            flush();
        }
    }

    void requestStarted() {
        requests++;
    }

    void requestEnded() {
        requests--;
        maybeRetire();
    }

    void frozen(long k, ServerSession s) {
        frozen.put(k, s);
    }

    ServerSession unfrozen(long k) {
        ServerSession s = frozen.remove(k);
        maybeRetire();
        return s;
    }

    /**
     * A duplicate of the pair's connection (both servers opened one at once): its opener closes it
     * once its own requests on it are answered and their commits or aborts are written; the other side
     * only serves what arrives on it, and sees it close after the last commit (TCP keeps the order).
     */
    void retire() {
        retiring = true;
        maybeRetire();
    }

    private void maybeRetire() {
        if (retiring && initiator && requests == 0 && out.isEmpty()) {
            close("a duplicate control connection to " + peer);
        }
    }

    @Override
    public void ready(SelectionKey k) {
        try {
            if (k.isConnectable()) {
                if (!channel.finishConnect()) {
                    return;
                }
                connected = true;
                k.interestOps(SelectionKey.OP_READ);
                flush();
            }
            if (k.isValid() && k.isWritable()) {
                flush();
            }
            if (k.isValid() && k.isReadable()) {
                read();
            }
        } catch (IOException e) {
            close(e.getMessage());
        } catch (RuntimeException e) {
            log.warn("control connection {} failed", this, e);
            close(e.toString());
        }
    }

    private void read() throws IOException {
        for (int round = 0; round < 16 && !closed; round++) {
            readBuffer.clear();
            int n = channel.read(readBuffer);
            if (n < 0) {
                close("closed by the peer");
                return;
            }
            if (n == 0) {
                return;
            }
            int from = 0;
            if (!initiator && magicSeen < Wire.CONTROL_MAGIC.length) {
                int take = Math.min(n, Wire.CONTROL_MAGIC.length - magicSeen);
                byte[] got = new byte[take];
                readBuffer.get(0, got);
                if (!Arrays.equals(got, 0, take, Wire.CONTROL_MAGIC, magicSeen, magicSeen + take)) {
                    throw new ProtocolException("a control connection from " + channel.getRemoteAddress() + " did not open with the control magic");
                }
                magicSeen += take;
                from = take;
            }
            parser.parse(readBuffer, from, n, this);
        }
    }

    @Override
    public void onData(ByteBuffer buf, int pos, int length) throws IOException {
        throw new ProtocolException("DATA on " + this);
    }

    @Override
    public void onFrame(int type, ByteBuffer payload) throws IOException {
        if (!greeted) {
            if (type != Wire.CTRL_HELLO) {
                throw new ProtocolException(Wire.typeName(type) + " before CTRL_HELLO on " + this);
            }
            Frames.Reader r = new Frames.Reader(payload, "CTRL_HELLO on " + this);
            peer = r.address();
            r.end();
            greeted = true;
            endpoint.adopt(this);
            return;
        }
        endpoint.onFrame(this, type, payload);
    }

    private void flush() {
        try {
            while (!out.isEmpty()) {
                ByteBuffer[] bufs = out.toArray(new ByteBuffer[0]);
                long n = channel.write(bufs);
                queuedBytes -= n;
                while (!out.isEmpty() && !out.peekFirst().hasRemaining()) {
                    out.pollFirst();
                }
                if (n == 0 || !out.isEmpty()) {
                    if (key != null && key.isValid()) {
                        key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                    }
                    return;
                }
            }
            if (key != null && key.isValid() && connected) {
                key.interestOps(SelectionKey.OP_READ);
            }
            maybeRetire();
        } catch (IOException e) {
            close(e.getMessage());
        }
    }

    void close(String why) {
        if (closed) {
            return;
        }
        closed = true;
        log.debug("control connection {} closed: {}", this, why);
        if (key != null) {
            key.cancel();
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
        out.clear();
        List<ServerSession> left = new ArrayList<>(frozen.values());
        frozen.clear();
        endpoint.closed(this, left, why);
    }

    @Override
    public String toString() {
        return "control connection " + (initiator ? "to " : "from ") + (peer != null ? peer : "?");
    }
}
