package org.mtcp.server.internal;

import org.mtcp.api.MigrationException;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.internal.io.EventLoop;
import org.mtcp.internal.io.IoHandler;
import org.mtcp.internal.session.SessionState;
import org.mtcp.internal.session.Settings;
import org.mtcp.internal.session.StateCodec;
import org.mtcp.internal.wire.Frames;
import org.mtcp.internal.wire.ProtocolException;
import org.mtcp.internal.wire.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A server's side of the control protocol (thesis 4.2.1-4.2.3): the control listener, and exactly
 * one {@link ControlConnection} per cooperating peer, opened lazily on the first state request in
 * either direction, shared by every session between the pair (requests carry a key), reopened on the
 * next request after it breaks. It runs over TCP, or over a Unix-domain socket when the mapping names
 * a {@link UnixDomainSocketAddress} (JDK 16+ channels, no native code). Loop thread only, except
 * {@link #start} and {@link #close}.
 */
public final class ControlEndpoint {
    private static final Logger log = LoggerFactory.getLogger(ControlEndpoint.class);

    /** The outcome of a state request, for the destination. */
    static final class Result {
        final SessionState state;
        final MigrationException failure;
        private final ControlConnection connection;
        private final long key;

        Result(SessionState state, MigrationException failure, ControlConnection connection, long key) {
            this.state = state;
            this.failure = failure;
            this.connection = connection;
            this.key = key;
        }

        /** STATE_ACK: the commit point. */
        void commit() {
            connection.send(keyFrame(Wire.STATE_ACK, key));
        }

        /** STATE_ABORT: the origin resumes. */
        void abort() {
            connection.send(keyFrame(Wire.STATE_ABORT, key));
        }
    }

    /** Receives the outcome of a state request on the loop thread. */
    interface Callback {
        /**
         * @param result    reply or failure
         * @param sentNanos when the request was handed to the connection
         */
        void done(Result result, long sentNanos);
    }

    private static final class Pending {
        final ControlConnection connection;
        final Callback callback;
        final long sentNanos;
        final String what;
        EventLoop.Timer timer;

        Pending(ControlConnection connection, Callback callback, long sentNanos, String what) {
            this.connection = connection;
            this.callback = callback;
            this.sentNanos = sentNanos;
            this.what = what;
        }
    }

    private final Server server;
    private final EventLoop loop;
    private final SocketAddress listenAddress;
    private final ServerSocketChannel listener;
    private final Map<InetSocketAddress, ControlConnection> byPeer = new HashMap<>();
    private final List<ControlConnection> all = new ArrayList<>();
    private final Map<Long, Pending> pending = new HashMap<>();
    private final AtomicInteger opened = new AtomicInteger();
    private long nextKey;
    private volatile boolean closed;

    private ControlEndpoint(Server server, SocketAddress listenAddress, ServerSocketChannel listener) {
        this.server = server;
        this.loop = server.loop();
        this.listenAddress = listenAddress;
        this.listener = listener;
    }

    /** Binds the control listener now (errors surface to the caller) and starts accepting on the loop. */
    static ControlEndpoint start(Server server, SocketAddress at) throws IOException {
        ServerSocketChannel ssc;
        if (at instanceof UnixDomainSocketAddress) {
            ssc = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            Files.deleteIfExists(((UnixDomainSocketAddress) at).getPath());
        } else if (at instanceof InetSocketAddress) {
            ssc = ServerSocketChannel.open();
            ssc.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        } else {
            throw new IllegalArgumentException("unsupported control address " + at);
        }
        try {
            ssc.bind(at, 64);
            ssc.configureBlocking(false);
        } catch (IOException e) {
            ssc.close();
            throw new IOException("cannot listen for control connections at " + at + ": " + e.getMessage(), e);
        }
        ControlEndpoint c = new ControlEndpoint(server, ssc.getLocalAddress(), ssc);
        server.loop().registerLater(ssc, SelectionKey.OP_ACCEPT, (IoHandler) k -> c.acceptReady());
        return c;
    }

    /** @return where this endpoint listens */
    public SocketAddress listenAddress() {
        return listenAddress;
    }

    /** @return control connections opened so far, in either direction */
    public int connectionsOpened() {
        return opened.get();
    }

    /** @return control connections open now (blocks briefly for the loop) */
    public int openConnections() {
        java.util.concurrent.CompletableFuture<Integer> f = new java.util.concurrent.CompletableFuture<>();
        loop.execute(() -> f.complete((int) all.stream().filter(c -> !c.isClosed()).count()));
        try {
            return f.get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the I/O loop did not answer", e);
        }
    }

    /** Breaks every control connection now (for operations and tests); the next request reopens one. */
    public void closeConnections() {
        loop.execute(() -> {
            for (ControlConnection c : new ArrayList<>(all)) {
                c.close("closed on request");
            }
        });
    }

    Server server() {
        return server;
    }

    EventLoop loop() {
        return loop;
    }

    private void acceptReady() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (IOException e) {
                log.debug("control accept failed: {}", e.toString());
                return;
            }
            if (ch == null) {
                return;
            }
            try {
                ch.configureBlocking(false);
                if (ch.getRemoteAddress() instanceof InetSocketAddress) {
                    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                }
                ControlConnection c = new ControlConnection(this, ch, null, false);
                all.add(c);
                opened.incrementAndGet();
                c.register();
            } catch (IOException e) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // already failed
                }
            }
        }
    }

    private ControlConnection connectionTo(InetSocketAddress peer, SocketAddress controlAddress) throws IOException {
        ControlConnection c = byPeer.get(peer);
        if (c != null && !c.isClosed()) {
            return c;
        }
        SocketChannel ch = controlAddress instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
        try {
            ch.configureBlocking(false);
            if (controlAddress instanceof InetSocketAddress) {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            }
            c = new ControlConnection(this, ch, peer, true);
            c.connect(controlAddress);
        } catch (IOException e) {
            ch.close();
            throw new IOException("cannot reach the control address " + controlAddress + " of " + peer + ": " + e.getMessage(), e);
        }
        all.add(c);
        opened.incrementAndGet();
        byPeer.put(peer, c);
        return c;
    }

    /** The peer of an incoming connection introduced itself; resolves a simultaneous open. */
    void adopt(ControlConnection incoming) {
        InetSocketAddress peer = incoming.peer();
        ControlConnection existing = byPeer.get(peer);
        if (existing == null || existing.isClosed() || existing == incoming) {
            byPeer.put(peer, incoming);
            return;
        }
        // both servers opened a connection at once: keep the one opened by the smaller identity, on both sides
        boolean keepOurs = server.identity().toString().compareTo(peer.toString()) < 0;
        ControlConnection winner = keepOurs ? existing : incoming;
        ControlConnection loser = keepOurs ? incoming : existing;
        byPeer.put(peer, winner);
        loser.retire();
    }

    /**
     * Asks the origin for a session's state (STATE_REQUEST).
     */
    void requestState(InetSocketAddress origin, SocketAddress controlAddress, byte[] sessionId, long downReceived, long seq,
                      byte[] proof, InetSocketAddress self, Callback callback) {
        long key = ++nextKey;
        ControlConnection c;
        try {
            c = connectionTo(origin, controlAddress);
        } catch (IOException e) {
            callback.done(new Result(null, new MigrationException(e.getMessage(), Reason.PEER_UNREACHABLE, true, e), null, key),
                    System.nanoTime());
            return;
        }
        int len = 8 + Wire.SESSION_ID_SIZE + 8 + 8 + Wire.SECRET_SIZE + Frames.addressSize(self);
        ByteBuffer frame = Frames.frame(Wire.STATE_REQUEST, len, b -> {
            b.putLong(key);
            b.put(sessionId);
            b.putLong(downReceived);
            b.putLong(seq);
            b.put(proof);
            Frames.putAddress(b, self);
        });
        c.send(frame);
        Pending p = new Pending(c, callback, System.nanoTime(), "state of session " + org.mtcp.internal.session.Proofs.hex(sessionId)
                .substring(0, 8) + " from " + origin);
        pending.put(key, p);
        c.requestStarted();
        p.timer = loop.schedule(TimeUnit.MILLISECONDS.toNanos(Settings.STATE_TIMEOUT_MILLIS), () -> {
            if (pending.remove(key) == p) {
                c.send(keyFrame(Wire.STATE_ABORT, key));
                p.callback.done(new Result(null, new MigrationException("origin " + origin + " did not answer the request for the "
                        + p.what + " within " + Settings.STATE_TIMEOUT_MILLIS + " ms", Reason.TIMEOUT, true, null), c, key),
                        p.sentNanos);
                c.requestEnded();
            }
        });
    }

    /** A frame arrived on a control connection; loop thread. */
    void onFrame(ControlConnection c, int type, ByteBuffer payload) throws IOException {
        Frames.Reader r = new Frames.Reader(payload, type, c);
        switch (type) {
            case Wire.STATE_REQUEST: {
                long key = r.u64();
                byte[] id = r.bytes(Wire.SESSION_ID_SIZE);
                long downReceived = r.offset();
                long seq = r.u64();
                byte[] proof = r.bytes(Wire.SECRET_SIZE);
                InetSocketAddress destination = r.address();
                r.end();
                serveRequest(c, key, id, downReceived, seq, proof, destination);
                break;
            }
            case Wire.STATE_REPLY: {
                long key = r.u64();
                Pending p = pending.remove(key);
                if (p == null) {
                    c.send(keyFrame(Wire.STATE_ABORT, key)); // we gave up on it already: let the origin resume
                    break;
                }
                p.timer.cancel();
                SessionState st;
                try {
                    st = StateCodec.decode(payload.array(), payload.arrayOffset() + payload.position(), payload.remaining());
                } catch (ProtocolException e) {
                    c.send(keyFrame(Wire.STATE_ABORT, key));
                    p.callback.done(new Result(null, new MigrationException("bad state reply from " + c + ": " + e.getMessage(),
                            Reason.PROTOCOL_ERROR, true, e), c, key), p.sentNanos);
                    c.requestEnded();
                    break;
                }
                p.callback.done(new Result(st, null, c, key), p.sentNanos); // writes the commit or the abort
                c.requestEnded();
                break;
            }
            case Wire.STATE_REJECT: {
                long key = r.u64();
                Reason reason = Wire.reason(r.u8());
                String message = r.string();
                r.end();
                Pending p = pending.remove(key);
                if (p != null) {
                    p.timer.cancel();
                    p.callback.done(new Result(null, new MigrationException("origin " + c.peer() + " refused: " + message,
                            reason, true, null), c, key), p.sentNanos);
                    c.requestEnded();
                }
                break;
            }
            case Wire.STATE_ACK: {
                long key = r.u64();
                r.end();
                ServerSession s = c.unfrozen(key);
                if (s != null) {
                    s.commit(c.peer());
                }
                break;
            }
            case Wire.STATE_ABORT: {
                long key = r.u64();
                r.end();
                ServerSession s = c.unfrozen(key);
                if (s != null) {
                    s.unfreeze("the destination " + c.peer() + " gave up");
                }
                break;
            }
            default:
                throw new ProtocolException("unexpected " + Wire.typeName(type) + " on " + c);
        }
    }

    private void serveRequest(ControlConnection c, long key, byte[] id, long downReceived, long seq, byte[] proof,
                              InetSocketAddress destination) {
        ServerSession s = server.session(id);
        if (s == null) {
            reject(c, key, Reason.UNKNOWN_SESSION, "no session " + org.mtcp.internal.session.Proofs.hex(id).substring(0, 8)
                    + " on " + server.identity());
            return;
        }
        long start = System.nanoTime();
        ByteBuffer frame;
        try {
            SessionState st = s.freezeAndPack(downReceived, seq, proof, destination);
            frame = StateCodec.encodeFrame(st, Wire.STATE_REPLY, key);
            if (frame.remaining() - Wire.HEADER_SIZE > Wire.MAX_CONTROL_CONNECTION_PAYLOAD) {
                s.unfreeze("state too large");
                reject(c, key, Reason.OTHER, "the state of " + s.describe() + " (" + frame.remaining() + " bytes) exceeds the "
                        + "control frame limit");
                return;
            }
        } catch (MigrationException e) {
            reject(c, key, e.reason(), e.getMessage());
            return;
        }
        c.frozen(key, s);
        s.armFreezeTimer(() -> {
            if (c.unfrozen(key) == s) {
                s.unfreeze("no commit from " + destination + " within " + Settings.FREEZE_TIMEOUT_MILLIS + " ms");
            }
        });
        c.send(frame);
        s.packed(System.nanoTime() - start);
    }

    private void reject(ControlConnection c, long key, Reason reason, String message) {
        c.send(Frames.frame(Wire.STATE_REJECT, 8 + 1 + Frames.stringSize(message), b -> {
            b.putLong(key);
            b.put((byte) Wire.reasonCode(reason));
            Frames.putString(b, message);
        }));
    }

    static ByteBuffer keyFrame(int type, long key) {
        return Frames.frame(type, 8, b -> b.putLong(key));
    }

    /** A connection closed; loop thread. Fails its requests and unfreezes its sessions (the client decides). */
    void closed(ControlConnection c, List<ServerSession> frozen, String why) {
        all.remove(c);
        InetSocketAddress peer = c.peer();
        if (peer != null && byPeer.get(peer) == c) {
            byPeer.remove(peer);
        }
        List<Long> keys = new ArrayList<>();
        for (Map.Entry<Long, Pending> e : pending.entrySet()) {
            if (e.getValue().connection == c) {
                keys.add(e.getKey());
            }
        }
        for (long k : keys) {
            Pending p = pending.remove(k);
            p.timer.cancel();
            p.callback.done(new Result(null, new MigrationException("control connection to " + (peer != null ? peer : c)
                    + " lost while waiting for the " + p.what + ": " + why, Reason.PEER_UNREACHABLE, true, null), c, k),
                    p.sentNanos);
        }
        for (ServerSession s : frozen) {
            s.unfreeze("control connection to the destination lost: " + why);
        }
    }

    /** Stops listening and closes every control connection. */
    void close() {
        closed = true;
        loop.execute(() -> {
            try {
                listener.close();
                if (listenAddress instanceof UnixDomainSocketAddress) {
                    Files.deleteIfExists(((UnixDomainSocketAddress) listenAddress).getPath());
                }
            } catch (IOException ignored) {
                // closing is all we wanted
            }
            for (ControlConnection c : new ArrayList<>(all)) {
                c.close("the server socket closed");
            }
        });
    }
}
