package org.mtcp.server.internal;

import org.mtcp.internal.io.EventLoop;
import org.mtcp.internal.io.IoHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.SSLContext;

/**
 * A server's side of the control protocol (thesis 4.2.1-4.2.3): the control listener, and exactly
 * one {@link ControlConnection} per cooperating peer, opened lazily on the first state request in
 * either direction, shared by every session between the pair (requests carry a key), reopened on the
 * next request after it breaks; with {@code MtcpOptions.CONTROL_OPEN_AHEAD}, opened when the peers become
 * known and kept open (tried again after a backoff when it breaks or cannot be opened). The transfers
 * themselves are {@link IncomingTransfer} and {@link OutgoingTransfer}. It runs over TCP, or over a Unix-domain socket when the mapping names
 * a {@link UnixDomainSocketAddress} (JDK 16+ channels, no native code). With {@code MtcpOptions.CONTROL_TLS}
 * every TCP control connection runs inside TLS 1.3 with mutual authentication ({@link TlsTransport});
 * a TCP connection that would cross a network in the clear is refused both ways. Loop thread only, except
 * {@link #start} and {@link #close}.
 */
public final class ControlEndpoint {
    private static final Logger log = LoggerFactory.getLogger(ControlEndpoint.class);

    /** Most accepted control connections that have not yet said who they are (each holds a deadline's worth of memory). */
    static final int MAX_UNINTRODUCED = 64;

    private final Server server;
    private final EventLoop loop;
    private final SocketAddress listenAddress;
    private final ServerSocketChannel listener;
    /** For a Unix-domain listener, the user its peers must run as; {@code null} over TCP. */
    private final UserPrincipal owner;
    /** The pair's connection for each peer; loop thread only. */
    private final Map<InetSocketAddress, ControlConnection> byPeer = new HashMap<>();
    /** Every open connection, duplicates and unintroduced ones included; loop thread only. */
    private final List<ControlConnection> all = new ArrayList<>();
    /** Connections opened so far, either way; read by any thread. */
    private final AtomicInteger opened = new AtomicInteger();
    /** Of those, the ones accepted on the listener; read by any thread. */
    private final AtomicInteger accepted = new AtomicInteger();
    /** Of those, the ones this endpoint opened whose connect completed (TLS: and the handshake); read by any thread. */
    private final AtomicInteger connected = new AtomicInteger();
    /** Connections whose TLS handshake completed, either way; read by any thread. */
    private final AtomicInteger tlsEstablished = new AtomicInteger();
    /** Why the last connections closed, newest last (a TLS refusal names its peer and reason); any thread. */
    private final java.util.Deque<String> closeReasons = new java.util.concurrent.ConcurrentLinkedDeque<>();
    private static final int CLOSE_REASONS_KEPT = 32;
    /** Written by {@link #close} (any thread), read by the loop. */
    private volatile boolean closed;
    /** First wait before a kept connection that broke or could not be opened is tried again. */
    static final long FIRST_REOPEN_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /** Longest wait between tries: a peer that stays away costs a connect per this much time. */
    static final long MAX_REOPEN_NANOS = TimeUnit.SECONDS.toNanos(10);
    /**
     * {@code CONTROL_OPEN_AHEAD}: the peers (this server excluded) whose connection is kept open, with their
     * control addresses; empty when the option is off. Loop thread only.
     */
    private Map<InetSocketAddress, SocketAddress> keptOpen = Map.of();
    /** The next try for each kept peer whose connection broke or could not be opened. Loop thread only. */
    private final Map<InetSocketAddress, Reopen> reopens = new HashMap<>();

    /**
     * A cooperating server and this server's control connection to it, as operations show it.
     *
     * @param peer    its service address
     * @param control its control address
     * @param state   "open", "open (TLS)", "connecting", or "none" and what comes next: "none, try 3 in 800 ms"
     *                ({@code CONTROL_OPEN_AHEAD}, its third try since the connection broke or could not be opened),
     *                "none, opening", or "none (opened by the pair's next migration)"
     */
    public record PeerState(InetSocketAddress peer, SocketAddress control, String state) {
    }

    /** The backoff of one kept peer's reopening; loop thread only. */
    private static final class Reopen {
        /** The pending try, or {@code null}. */
        EventLoop.Timer timer;
        /** The wait before the next try: doubles with each, up to {@link #MAX_REOPEN_NANOS}. */
        long waitNanos = FIRST_REOPEN_NANOS;
        /** When the last try was made: a connection that lived longer than the longest wait starts the backoff anew. */
        long lastTryNanos = System.nanoTime();
        /** When the pending try is due. */
        long dueNanos;
        /** Tries scheduled since the backoff last started anew: the pending one's number. */
        int tries;
        /** When the backoff last started anew: the outage's start, for the warning. */
        long outageStartNanos = System.nanoTime();
        /** This outage was logged as a warning (once the wait reached its longest). */
        boolean warned;
    }

    private ControlEndpoint(Server server, SocketAddress listenAddress, ServerSocketChannel listener, UserPrincipal owner) {
        this.owner = owner;
        this.server = server;
        this.loop = server.loop();
        this.listenAddress = listenAddress;
        this.listener = listener;
    }

    /** Binds the control listener now (errors surface to the caller) and starts accepting on the loop. */
    static ControlEndpoint start(Server server, SocketAddress at) throws IOException {
        ServerSocketChannel ssc;
        if (at instanceof UnixDomainSocketAddress) {
            UnixControlSockets.prepare(((UnixDomainSocketAddress) at).getPath());
            ssc = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
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
        UserPrincipal owner = null;
        if (at instanceof UnixDomainSocketAddress) {
            owner = UnixControlSockets.owner(((UnixDomainSocketAddress) at).getPath());
        }
        ControlEndpoint c = new ControlEndpoint(server, ssc.getLocalAddress(), ssc, owner);
        server.loop().registerLater(ssc, SelectionKey.OP_ACCEPT, (IoHandler) k -> c.acceptReady());
        return c;
    }

    /** @return accepted connections still waiting for their CTRL_HELLO (those in their TLS handshake included); loop thread */
    private int unintroduced() {
        int n = 0;
        for (ControlConnection c : all) {
            if (c.state() == ControlConnection.State.AWAITING_HELLO) {
                n++;
            }
        }
        return n;
    }

    /** @return where this endpoint listens */
    public SocketAddress listenAddress() {
        return listenAddress;
    }

    /** @return control connections opened so far, in either direction */
    public int connectionsOpened() {
        return opened.get();
    }

    /** @return of {@link #connectionsOpened}, those accepted on this endpoint's listener (opened by a peer) */
    public int connectionsAccepted() {
        return accepted.get();
    }

    /** @return of {@link #connectionsOpened}, those this endpoint opened that connected (TLS: handshake done) */
    public int connectionsConnected() {
        return connected.get();
    }

    /** @return control connections, either way, whose TLS handshake completed ({@code MtcpOptions.CONTROL_TLS}) */
    public int tlsConnectionsEstablished() {
        return tlsEstablished.get();
    }

    /**
     * @return why the last control connections closed (at most 32), oldest first: a connection refused
     * for its TLS (an untrusted, expired or wrong-host certificate, a handshake that is not TLS, a
     * CTRL_HELLO whose identity the certificate does not prove) says so, naming the peer
     */
    public List<String> recentCloseReasons() {
        return new ArrayList<>(closeReasons);
    }

    /** A connection this endpoint opened is established; loop thread. */
    void connected() {
        connected.incrementAndGet();
    }

    /** A connection completed its TLS handshake; loop thread. */
    void tlsEstablished() {
        tlsEstablished.incrementAndGet();
    }

    /**
     * @return control connections on their way (connecting, waiting for the peer's CTRL_HELLO) or on their way out
     *         (retiring as the duplicate of a simultaneous open); blocks briefly for the loop
     */
    public int connectionsSettling() {
        return onLoop(() -> (int) all.stream().filter(c -> !c.isClosed() && c.state() != ControlConnection.State.OPEN).count());
    }

    /** @return control connections open now (blocks briefly for the loop) */
    public int openConnections() {
        return onLoop(() -> (int) all.stream().filter(c -> !c.isClosed()).count());
    }

    /** @return what {@code query} finds, run on the loop (whose fields it reads); the caller waits at most 5 s */
    private <T> T onLoop(java.util.function.Supplier<T> query) {
        java.util.concurrent.CompletableFuture<T> f = new java.util.concurrent.CompletableFuture<>();
        loop.execute(() -> f.complete(query.get()));
        try {
            return f.get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the I/O loop did not answer", e);
        }
    }

    /** @return the connections not closed yet, a snapshot taken on the loop (blocks briefly); for tests in this package */
    List<ControlConnection> connections() {
        return onLoop(() -> new ArrayList<>(all));
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
                ControlTransport transport = new PlainTransport(ch);
                if (ch.getRemoteAddress() instanceof InetSocketAddress) {
                    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    SSLContext tls = server.controlTls();
                    if (tls != null) {
                        transport = TlsTransport.accepting(tls, ch, server, ch.getRemoteAddress());
                    } else if (Server.needsTls(listenAddress) || Server.needsTls(ch.getRemoteAddress())) {
                        throw new IOException("a plaintext control connection from " + ch.getRemoteAddress()
                                + " refused: control connections across a network need MtcpOptions.CONTROL_TLS");
                    }
                } else if (owner != null) {
                    UnixControlSockets.checkPeer(ch, owner);
                }
                if (unintroduced() >= MAX_UNINTRODUCED) {
                    log.warn("control listener {}: {} connections have not said who they are; refusing {}", listenAddress,
                            MAX_UNINTRODUCED, ch.getRemoteAddress());
                    ch.close();
                    continue;
                }
                ControlConnection c = new ControlConnection(this, ch, transport, null, false);
                all.add(c);
                opened.incrementAndGet();
                accepted.incrementAndGet();
                c.register();
            } catch (IOException e) {
                log.warn("control listener {}: {}", listenAddress, e.getMessage());
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // already failed
                }
            }
        }
    }

    /**
     * @return the pair's control connection to {@code peer}, opened now (lazily, thesis 4.2.1) if there
     * is none; loop thread
     */
    ControlConnection connectionTo(InetSocketAddress peer, SocketAddress controlAddress) throws IOException {
        ControlConnection c = byPeer.get(peer);
        if (c != null && !c.isClosed()) {
            return c;
        }
        SocketChannel ch = controlAddress instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
        try {
            ch.configureBlocking(false);
            ControlTransport transport = new PlainTransport(ch);
            if (controlAddress instanceof InetSocketAddress) {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                SSLContext tls = server.controlTls();
                if (tls != null) {
                    transport = TlsTransport.opening(tls, ch, server, peer, (InetSocketAddress) controlAddress);
                } else if (Server.needsTls(controlAddress)) {
                    throw new IOException("a plaintext control connection to a non-loopback address is refused: set"
                            + " MtcpOptions.CONTROL_TLS (see docs/security.md)");
                }
            }
            c = new ControlConnection(this, ch, transport, peer, true);
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

    /**
     * {@code MtcpOptions.CONTROL_OPEN_AHEAD}: from now on keeps, on the loop, a connection open to every other
     * server of the server's mappings (as they are when the loop runs this): opens the missing ones now, and tries
     * again, with a backoff from {@link #FIRST_REOPEN_NANOS} up to {@link #MAX_REOPEN_NANOS}, one that cannot be
     * opened (its peer is not up) or that breaks later, for as long as the peer is mapped. Each failed try's reason
     * is kept with the others ({@link #recentCloseReasons}). Peers no longer mapped are not tried again.
     */
    void openAhead() {
        loop.execute(() -> {
            if (closed) {
                return;
            }
            Map<InetSocketAddress, SocketAddress> kept = new HashMap<>(server.controlMappings());
            kept.remove(server.identity());
            keptOpen = kept;
            reopens.entrySet().removeIf(e -> {
                boolean gone = !kept.containsKey(e.getKey());
                if (gone) {
                    cancelTry(e.getValue());
                }
                return gone;
            });
            for (InetSocketAddress peer : kept.keySet()) {
                openKept(peer);
            }
        });
    }

    /** {@code CONTROL_OPEN_AHEAD} turned off: no connection is opened or tried again ahead of need; none is closed. */
    void stopOpeningAhead() {
        loop.execute(this::forgetKept);
    }

    /** Drops the kept peers and their pending tries; loop thread. */
    private void forgetKept() {
        keptOpen = Map.of();
        reopens.values().forEach(this::cancelTry);
        reopens.clear();
    }

    /** Cancels a kept peer's pending try, if any; loop thread. */
    private void cancelTry(Reopen r) {
        if (r.timer != null) {
            loop.cancel(r.timer);
            r.timer = null;
        }
    }

    /**
     * @return how many peers this server waits to try to connect to again, their connection broken or not opened
     *         ({@code CONTROL_OPEN_AHEAD}; blocks briefly for the loop)
     */
    public int reopensPending() {
        return onLoop(() -> (int) reopens.values().stream().filter(r -> r.timer != null).count());
    }

    /**
     * @return for each other server of the server's mappings, the state of the pair's connection, with a pending
     *         try's delay; for operations (blocks briefly for the loop)
     */
    public List<PeerState> peerStates() {
        return onLoop(() -> {
            List<PeerState> lines = new ArrayList<>();
            long now = System.nanoTime();
            InetSocketAddress self = server.identity();
            for (Map.Entry<InetSocketAddress, SocketAddress> e : server.controlMappings().entrySet()) {
                if (e.getKey().equals(self)) {
                    continue;
                }
                ControlConnection c = byPeer.get(e.getKey());
                String state;
                if (c != null && !c.isClosed()) {
                    state = c.state() == ControlConnection.State.OPEN ? (c.tls() ? "open (TLS)" : "open") : "connecting";
                } else {
                    Reopen r = reopens.get(e.getKey());
                    if (r != null && r.timer != null) {
                        state = "none, try " + r.tries + " in " + Math.max(0, TimeUnit.NANOSECONDS.toMillis(r.dueNanos - now))
                                + " ms";
                    } else {
                        state = keptOpen.containsKey(e.getKey()) ? "none, opening" : "none (opened by the pair's next migration)";
                    }
                }
                lines.add(new PeerState(e.getKey(), e.getValue(), state));
            }
            return lines;
        });
    }

    /** Opens the connection to a kept peer if it has none; a failure schedules the next try. Loop thread. */
    private void openKept(InetSocketAddress peer) {
        SocketAddress at = keptOpen.get(peer);
        if (closed || at == null) {
            return;
        }
        if (!openNow(peer, at, "opened ahead")) {
            scheduleReopen(peer);
        }
    }

    /**
     * Opens, on the loop, the pair's connection to each of {@code peers} that is mapped and has none (a drain's
     * targets, just before it asks its sessions to move); one that cannot be reached is left to the first request.
     */
    void openTo(List<InetSocketAddress> peers) {
        loop.execute(() -> {
            Map<InetSocketAddress, SocketAddress> mappings = server.controlMappings();
            for (InetSocketAddress peer : peers) {
                SocketAddress at = mappings.get(peer);
                if (!closed && at != null && !peer.equals(server.identity())) {
                    openNow(peer, at, "opened for a drain");
                }
            }
        });
    }

    /**
     * @return whether the pair's connection to {@code peer} is open or opening (opened now if there was none); a
     *         failure is logged and kept with the close reasons. Loop thread.
     */
    private boolean openNow(InetSocketAddress peer, SocketAddress at, String why) {
        try {
            return !connectionTo(peer, at).isClosed(); // closed: failed at once, inside its first write
        } catch (IOException ex) {
            log.debug("control listener {}: not {}: {}", listenAddress, why, ex.getMessage());
            noteClosed("control connection to " + peer + " (" + why + "): " + ex.getMessage());
            return false;
        }
    }

    /** Schedules the next try to open a kept peer's connection, unless one is pending; loop thread. */
    private void scheduleReopen(InetSocketAddress peer) {
        if (closed || !keptOpen.containsKey(peer)) {
            return;
        }
        Reopen r = reopens.computeIfAbsent(peer, p -> new Reopen());
        if (r.timer != null) {
            return;
        }
        long now = System.nanoTime();
        if (now - r.lastTryNanos > MAX_REOPEN_NANOS + r.waitNanos) {
            r.waitNanos = FIRST_REOPEN_NANOS; // the last connection lived a while: a new break, not the same outage
            r.tries = 0;
            r.outageStartNanos = now;
            r.warned = false;
        }
        if (r.waitNanos == MAX_REOPEN_NANOS && !r.warned) {
            r.warned = true; // once per outage: the debug log has every try
            log.warn("control listener {}: no control connection to {} for {} s ({} tries; the last: {}); trying every {} s while"
                    + " it is mapped", listenAddress, peer, TimeUnit.NANOSECONDS.toSeconds(now - r.outageStartNanos), r.tries,
                    lastCloseReason(peer), TimeUnit.NANOSECONDS.toSeconds(MAX_REOPEN_NANOS));
        }
        r.tries++;
        r.dueNanos = now + r.waitNanos;
        long wait = r.waitNanos;
        r.waitNanos = Math.min(2 * wait, MAX_REOPEN_NANOS);
        log.debug("control listener {}: the connection to {} is tried again in {} ms", listenAddress, peer,
                TimeUnit.NANOSECONDS.toMillis(wait));
        r.timer = loop.schedule(wait, () -> {
            r.timer = null;
            r.lastTryNanos = System.nanoTime();
            openKept(peer); // connectionTo keeps a connection opened meanwhile (the peer's, or a migration's)
        });
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

    /** A connection closed; loop thread. */
    void closed(ControlConnection c, String why) {
        noteClosed(c + ": " + why);
        all.remove(c);
        InetSocketAddress peer = c.peer();
        if (peer != null && byPeer.get(peer) == c) {
            byPeer.remove(peer);
            scheduleReopen(peer); // kept open (CONTROL_OPEN_AHEAD): tried again after a wait
        }
    }

    /** @return the newest kept close reason that names {@code peer}, or "unknown" */
    private String lastCloseReason(InetSocketAddress peer) {
        String name = peer.toString();
        for (java.util.Iterator<String> it = closeReasons.descendingIterator(); it.hasNext(); ) {
            String r = it.next();
            if (r.contains(name)) {
                return r;
            }
        }
        return "unknown";
    }

    private void noteClosed(String reason) {
        closeReasons.add(reason);
        while (closeReasons.size() > CLOSE_REASONS_KEPT) {
            closeReasons.poll();
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
            forgetKept();
            for (ControlConnection c : new ArrayList<>(all)) {
                c.close("the server socket closed");
            }
        });
    }
}
