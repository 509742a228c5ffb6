package org.mtcp.server.internal;

import org.mtcp.api.MigrationException;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.internal.io.EventLoop;
import org.mtcp.internal.io.IoHandler;
import org.mtcp.internal.session.Proofs;
import org.mtcp.internal.session.Settings;
import org.mtcp.internal.wire.FrameReader;
import org.mtcp.internal.wire.Frames;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.ProtocolException;
import org.mtcp.internal.wire.StateCodec;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One control connection between two cooperating servers, usable in both directions: this server
 * asks for states on it ({@link IncomingTransfer}s, keyed by the request key it chose) and serves the
 * peer's requests ({@link OutgoingTransfer}s, keyed by the peer's). It opens with
 * {@link Wire#CONTROL_MAGIC} and a CTRL_HELLO naming the opener's service address; both the connect
 * and the CTRL_HELLO have a deadline. Its bytes go through a {@link ControlTransport}: as they are, or
 * inside TLS ({@link TlsTransport}, {@code MtcpOptions.CONTROL_TLS}), whose handshake comes first and is
 * covered by the same deadline. Loop thread only: no field needs a lock.
 */
final class ControlConnection implements IoHandler, FrameReader.Handler {
    private static final Logger log = LoggerFactory.getLogger(ControlConnection.class);
    private static final long MAX_QUEUED_BYTES = 64L * 1024 * 1024;
    /** Largest frame accepted before the peer's CTRL_HELLO (which is an address): nothing big before it says who it is. */
    static final int MAX_PAYLOAD_BEFORE_HELLO = 256;

    /** A control connection's states; every change goes through {@link #state}. */
    enum State {
        /** Opened by this server, TCP (or Unix-domain) connect under way; frames queue. */
        CONNECTING,
        /** Accepted; waiting for the magic and the peer's CTRL_HELLO. */
        AWAITING_HELLO,
        /** Both sides know each other; frames flow both ways. */
        OPEN,
        /**
         * A duplicate of the pair's connection (simultaneous open), possibly still connecting: its
         * opener closes it once its requests are answered.
         */
        RETIRING,
        /** Closed: its requests failed, its frozen sessions resumed. */
        CLOSED
    }

    private final ControlEndpoint endpoint;
    private final EventLoop loop;
    private final SocketChannel channel;
    /** Plain, or TLS: every read and write of the channel goes through it. */
    private final ControlTransport transport;
    /** {@link #transport} was seen established (connected; TLS: handshake done). */
    private boolean established;
    /** This server opened the connection. */
    private final boolean initiator;
    private final FrameReader reader;
    /** Direct, so that the JDK reads into it without a copy of its own. */
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(64 * 1024);
    private final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
    /** The frames of {@link #out} made by {@link StateCodec#encodeFrame}, in order: given back once written. */
    private final ArrayDeque<ByteBuffer> reusable = new ArrayDeque<>();
    /** This server's requests on this connection, by the key it chose. */
    private final Map<Long, IncomingTransfer> requested = new HashMap<>();
    /** This server's MOVE_REQUESTs waiting for their MOVE_RESULT, by the key it chose. */
    private final Map<Long, CompletableFuture<InetSocketAddress>> moves = new HashMap<>();
    /** The peer's requests this server answered with a state, by the peer's key. */
    private final Map<Long, OutgoingTransfer> served = new HashMap<>();
    private State state;
    private InetSocketAddress peer;
    private SelectionKey key;
    private int magicSeen;
    private long queuedBytes;
    /** Closes the connection if it is not OPEN in time (connect or CTRL_HELLO). */
    private EventLoop.Timer openDeadline;

    ControlConnection(ControlEndpoint endpoint, SocketChannel channel, ControlTransport transport, InetSocketAddress peer,
                      boolean initiator) {
        this.endpoint = endpoint;
        this.loop = endpoint.loop();
        this.channel = channel;
        this.transport = transport;
        this.peer = peer;
        this.initiator = initiator;
        this.state = initiator ? State.CONNECTING : State.AWAITING_HELLO;
        this.reader = new FrameReader("control connection " + (peer != null ? "to " + peer : "from a peer"), false,
                initiator ? Wire.MAX_CONTROL_CONNECTION_PAYLOAD : MAX_PAYLOAD_BEFORE_HELLO);
        if (initiator) {
            reader.allocateWholePayloads(); // the server it dialed (TLS: whose certificate it checked first)
        }
    }

    /**
     * @return who the peer is: on the opening side the server dialed (with TLS, no frame is read before
     * the handshake checked its certificate against its control host); on the accepting side the
     * identity its CTRL_HELLO claimed, set only once that claim passed {@link ControlTransport#checkIdentity}
     * ({@code null} before)
     */
    InetSocketAddress peer() {
        return peer;
    }

    /** @return whether the connection runs inside TLS */
    boolean tls() {
        return transport instanceof TlsTransport;
    }

    State state() {
        return state;
    }

    boolean isClosed() {
        return state == State.CLOSED;
    }

    private void state(State next, String reason) {
        if (state != next) {
            log.debug("{}: {} -> {} ({})", this, state, next, reason);
            state = next;
        }
    }

    private void armOpenDeadline(String what) {
        openDeadline = loop.schedule(TimeUnit.MILLISECONDS.toNanos(Settings.CONTROL_CONNECT_TIMEOUT_MILLIS),
                new OpenDeadline(what));
    }

    /**
     * Closes a connection not OPEN in time. A class, not a lambda: the first control connection of a fresh JVM
     * is on a first migration's path, and linking a lambda there cost ~3 ms (the class is loaded by the warm-up).
     */
    private final class OpenDeadline implements Runnable {
        private final String what;

        OpenDeadline(String what) {
            this.what = what;
        }

        @Override
        public void run() {
            if ((initiator && !transport.established()) || state == State.AWAITING_HELLO) {
                close(what + " did not complete within " + Settings.CONTROL_CONNECT_TIMEOUT_MILLIS
                        + " ms (mtcp.controlConnectTimeoutMillis)");
            }
        }
    }

    /** Starts serving an accepted connection. */
    void register() throws IOException {
        key = loop.register(channel, SelectionKey.OP_READ, this);
        armOpenDeadline(tls() ? "the TLS handshake and the peer's CTRL_HELLO" : "the peer's CTRL_HELLO");
    }

    /** Connects to the peer's control address; the CTRL_HELLO goes first once connected. */
    void connect(SocketAddress to) throws IOException {
        out.addFirst(Frames.opening(Wire.CONTROL_MAGIC, new Message.ControlHello(endpoint.server().identity())));
        armOpenDeadline("connecting to " + to + (tls() ? " and the TLS handshake" : ""));
        if (transport.connect(to)) {
            key = loop.register(channel, SelectionKey.OP_READ, this);
            flush(); // TLS: the handshake starts; plain: the connection is established at once
        } else {
            key = loop.register(channel, SelectionKey.OP_CONNECT, this);
        }
    }

    /**
     * Notices the transport established (plain: connected; TLS: the handshake done): an opened connection
     * is OPEN from then on and its queue (the CTRL_HELLO first) may go.
     *
     * @return whether it became established just now
     */
    private boolean checkEstablished() {
        if (established || !transport.established()) {
            return false;
        }
        established = true;
        if (tls()) {
            endpoint.tlsEstablished();
        }
        if (initiator) {
            endpoint.connected();
            openDeadline.cancel();
            if (state == State.CONNECTING) {
                state(State.OPEN, tls() ? "connected, TLS handshake done" : "connected");
            }
        }
        return true;
    }

    /** @return a fresh key for a request of this server on this connection (state or move): random, unlike any in flight */
    long newKey() {
        long k;
        do {
            k = ThreadLocalRandom.current().nextLong();
        } while (requested.containsKey(k) || moves.containsKey(k));
        return k;
    }

    /** Sends a request of this server and remembers whom to tell of the answer. */
    void request(IncomingTransfer t, Message.StateRequest m) {
        requested.put(m.key(), t);
        send(m.encode());
    }

    /**
     * Asks the peer, which holds session {@code sessionId}, to move it to {@code target} (thesis 3.2.1(b));
     * loop thread.
     *
     * @return completes with where the session went, or exceptionally with a {@link MigrationException}
     */
    CompletableFuture<InetSocketAddress> requestMove(byte[] sessionId, InetSocketAddress target) {
        CompletableFuture<InetSocketAddress> f = new CompletableFuture<>();
        long mine = newKey();
        moves.put(mine, f);
        send(new Message.MoveRequest(mine, sessionId, target));
        long millis = TriggerTracker.DEADLINE_MILLIS + 5_000;
        loop.schedule(TimeUnit.MILLISECONDS.toNanos(millis), () -> {
            CompletableFuture<InetSocketAddress> late = moves.remove(mine);
            if (late != null) {
                late.completeExceptionally(new MigrationException("server " + peer + " did not answer the request to move "
                        + Proofs.hex(sessionId) + " within " + millis + " ms", Reason.TIMEOUT, true, null));
                maybeRetire();
            }
        });
        return f;
    }

    @Override
    public void onMoveRequest(Message.MoveRequest m) throws ProtocolException {
        checkOpen(m);
        String id = Proofs.hex(m.sessionId());
        InetSocketAddress from = peer;
        endpoint.server().moves.move(id, m.target()).whenComplete((event, failure) -> loop.execute(() -> {
            Message.MoveResult r;
            if (failure == null) {
                r = new Message.MoveResult(m.key(), true, false, Reason.OTHER, event.to(), "moved");
            } else {
                Throwable t = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure;
                MigrationException me = t instanceof MigrationException ? (MigrationException) t : null;
                Reason why = me != null ? me.reason() : t instanceof IllegalArgumentException ? Reason.NOT_COOPERATING : Reason.OTHER;
                String text = String.valueOf(t.getMessage());
                r = new Message.MoveResult(m.key(), false, me == null || me.sessionAlive(), why, m.target(),
                        text.length() > 1024 ? text.substring(0, 1024) + "..." : text);
            }
            log.debug("{}: {} asked to move {} to {}: {}", this, from, id, m.target(), r.moved() ? "moved" : r.message());
            send(r);
        }));
    }

    @Override
    public void onMoveResult(Message.MoveResult m) throws ProtocolException {
        checkOpen(m);
        CompletableFuture<InetSocketAddress> f = moves.remove(m.key());
        if (f != null) {
            if (m.moved()) {
                f.complete(m.destination());
            } else {
                f.completeExceptionally(new MigrationException("server " + peer + " did not move the session: " + m.message(),
                        m.reason(), m.sessionAlive(), null));
            }
        }
        maybeRetire();
    }

    /** @return this server's requests waiting for their answer on this connection; loop thread (for tests) */
    List<IncomingTransfer> pendingRequests() {
        return new ArrayList<>(requested.values());
    }

    /** @return the peer's requests answered with a state and not yet committed or aborted; loop thread (for tests) */
    List<OutgoingTransfer> servedTransfers() {
        return new ArrayList<>(served.values());
    }

    /** The request gave up (deadline): the answer, if any comes, is refused. */
    void forgetRequest(long k) {
        requested.remove(k);
        maybeRetire();
    }

    /** Remembers a state this server sent, until the peer commits or aborts it. */
    void served(OutgoingTransfer t) {
        served.put(t.key, t);
    }

    /** The transfer ended by itself (deadline, or the client said MOVED); loop thread. */
    void forgetServed(long k, OutgoingTransfer t) {
        served.remove(k, t);
        maybeRetire();
    }

    void send(Message m) {
        send(m.encode());
    }

    void send(ByteBuffer frame) {
        send(frame, false);
    }

    /**
     * Queues a STATE_REPLY frame from {@link StateCodec#encodeFrame}, whose buffer the next one may reuse once
     * it is written.
     */
    void sendStateFrame(ByteBuffer frame) {
        send(frame, true);
    }

    private void send(ByteBuffer frame, boolean reuse) {
        if (state == State.CLOSED) {
            return;
        }
        queuedBytes += frame.remaining();
        if (queuedBytes > MAX_QUEUED_BYTES) {
            close("more than " + MAX_QUEUED_BYTES + " bytes queued: the peer is not reading");
            return;
        }
        out.add(frame);
        if (reuse) {
            reusable.add(frame);
        }
        if (channel.isConnected()) {
            flush();
        }
    }

    /**
     * A duplicate of the pair's connection (both servers opened one at once): its opener closes it
     * once its own requests on it are answered and their commits or aborts are written; the other side
     * only serves what arrives on it, and sees it close after the last commit (TCP keeps the order).
     */
    void retire() {
        if (state == State.OPEN || state == State.CONNECTING) {
            state(State.RETIRING, "a duplicate of the connection to " + peer);
        }
        maybeRetire();
    }

    private void maybeRetire() {
        if (state == State.RETIRING && initiator && requested.isEmpty() && moves.isEmpty() && out.isEmpty()
                && !transport.wantsWrite()) {
            close("a duplicate control connection to " + peer);
        }
    }

    @Override
    public void ready(SelectionKey k) {
        try {
            if (k.isConnectable()) {
                if (!transport.finishConnect()) {
                    return;
                }
                k.interestOps(SelectionKey.OP_READ);
                flush(); // TLS: the handshake starts; plain: established
            }
            if (k.isValid() && k.isWritable()) {
                flush();
            }
            if (k.isValid() && (k.isReadable() || transport.hasBufferedInput())) {
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
        for (int round = 0; round < 16 && state != State.CLOSED; round++) {
            ByteBuffer sink = reader.payloadSink(); // a state of megabytes: straight into its frame's buffer
            int n = transport.read(sink != null ? sink : readBuffer.clear());
            if (checkEstablished() || transport.wantsWrite()) {
                flush(); // the handshake may have completed (the queue goes) or want to answer
            }
            if (n < 0) {
                close("closed by the peer");
                return;
            }
            if (n == 0) {
                return;
            }
            if (sink != null) {
                reader.sinkFilled(this);
                continue;
            }
            int from = 0;
            if (!initiator && magicSeen < Wire.CONTROL_MAGIC.length) {
                int take = Math.min(n, Wire.CONTROL_MAGIC.length - magicSeen);
                byte[] got = new byte[take];
                readBuffer.get(0, got);
                if (!Arrays.equals(got, 0, take, Wire.CONTROL_MAGIC, magicSeen, magicSeen + take)) {
                    throw new ProtocolException("a control connection from " + channel.getRemoteAddress()
                            + " did not open with the control magic");
                }
                magicSeen += take;
                from = take;
            }
            reader.parse(readBuffer, from, n, this);
        }
        if (state != State.CLOSED && transport.hasBufferedInput()) {
            // bytes TLS already took from the channel: the selector will not report them again
            loop.execute(() -> {
                if (state == State.CLOSED) {
                    return;
                }
                try {
                    read();
                } catch (IOException e) {
                    close(e.getMessage());
                } catch (RuntimeException e) {
                    log.warn("control connection {} failed", this, e);
                    close(e.toString());
                }
            });
        }
    }

    private void checkOpen(Message m) throws ProtocolException {
        if (state == State.AWAITING_HELLO) {
            throw new ProtocolException(Wire.typeName(m.type()) + " before CTRL_HELLO on " + this);
        }
    }

    @Override
    public void onControlHello(Message.ControlHello m) throws ProtocolException {
        if (state != State.AWAITING_HELLO) {
            throw new ProtocolException("a second CTRL_HELLO on " + this);
        }
        transport.checkIdentity(m.server());
        openDeadline.cancel();
        peer = m.server();
        reader.limitPayload(Wire.MAX_CONTROL_CONNECTION_PAYLOAD);
        reader.allocateWholePayloads();
        state(State.OPEN, "the peer introduced itself as " + peer);
        endpoint.adopt(this);
    }

    @Override
    public void onStateRequest(Message.StateRequest m) throws ProtocolException {
        checkOpen(m);
        if (served.containsKey(m.key())) {
            throw new ProtocolException("STATE_REQUEST reuses the key " + m.key() + " of a transfer in progress on " + this);
        }
        OutgoingTransfer.serve(this, m, endpoint.server());
    }

    @Override
    public void onStateReply(Message.StateReply m) throws ProtocolException {
        IncomingTransfer t = answered(m, m.key());
        if (t == null) {
            send(new Message.StateAbort(m.key())); // we gave up on it already: let the origin resume
        } else {
            t.onReply(m.state());
        }
        maybeRetire();
    }

    @Override
    public void onStateReject(Message.StateReject m) throws ProtocolException {
        IncomingTransfer t = answered(m, m.key());
        if (t != null) {
            t.onReject(m.reason(), m.message());
        }
        maybeRetire();
    }

    @Override
    public void onStateAck(Message.StateAck m) throws ProtocolException {
        OutgoingTransfer t = decided(m, m.key());
        if (t != null) {
            t.commit("STATE_ACK");
        }
        maybeRetire();
    }

    @Override
    public void onStateAbort(Message.StateAbort m) throws ProtocolException {
        OutgoingTransfer t = decided(m, m.key());
        if (t != null) {
            t.abort("the destination " + peer + " gave up");
        }
        maybeRetire();
    }

    /** @return this server's request that {@code m} answers, or {@code null} (given up on already) */
    private IncomingTransfer answered(Message m, long k) throws ProtocolException {
        checkOpen(m);
        return requested.remove(k);
    }

    /** @return the transfer this server served that {@code m} decides, or {@code null} (ended already) */
    private OutgoingTransfer decided(Message m, long k) throws ProtocolException {
        checkOpen(m);
        return served.remove(k);
    }

    private void flush() {
        try {
            if (!out.isEmpty() || transport.wantsWrite() || !transport.established()) {
                long n = transport.write(out.toArray(new ByteBuffer[0])); // TLS: moves the handshake on first
                queuedBytes -= n;
                while (!out.isEmpty() && !out.peekFirst().hasRemaining()) {
                    ByteBuffer written = out.pollFirst();
                    if (reusable.peekFirst() == written) {
                        StateCodec.releaseFrame(reusable.pollFirst());
                    }
                }
                if (checkEstablished()) {
                    flush(); // established by this write: the queue may go now
                    return;
                }
            }
            boolean blocked = transport.wantsWrite() || (!out.isEmpty() && transport.established());
            if (key != null && key.isValid() && channel.isConnected()) {
                key.interestOps(blocked ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
            }
            if (!blocked) {
                maybeRetire();
            }
        } catch (IOException e) {
            close(e.getMessage());
        }
    }

    /** Closes the connection: this server's requests on it fail, the sessions it froze for the peer resume. */
    void close(String why) {
        if (state == State.CLOSED) {
            return;
        }
        state(State.CLOSED, why);
        if (openDeadline != null) {
            openDeadline.cancel();
        }
        if (key != null) {
            key.cancel();
        }
        transport.close();
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
        out.clear();
        reusable.clear();
        endpoint.closed(this, why);
        List<IncomingTransfer> asked = new ArrayList<>(requested.values());
        requested.clear();
        for (IncomingTransfer t : asked) {
            t.onConnectionLost(why);
        }
        List<CompletableFuture<InetSocketAddress>> asking = new ArrayList<>(moves.values());
        moves.clear();
        for (CompletableFuture<InetSocketAddress> f : asking) {
            f.completeExceptionally(new MigrationException("the control connection to " + peer + " closed before it answered"
                    + " a request to move a session: " + why, Reason.PEER_UNREACHABLE, true, null));
        }
        List<OutgoingTransfer> frozen = new ArrayList<>(served.values());
        served.clear();
        for (OutgoingTransfer t : frozen) {
            t.connectionLost("control connection to the destination lost: " + why);
        }
    }

    @Override
    public String toString() {
        return "control connection " + (initiator ? "to " : "from ") + (peer != null ? peer : "?");
    }
}
