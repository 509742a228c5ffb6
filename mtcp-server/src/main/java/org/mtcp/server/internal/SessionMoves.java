package org.mtcp.server.internal;

import org.mtcp.api.ConnectionMigratedException;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.internal.wire.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Moving a server's sessions from outside their application (the operations issue): one session by id
 * (a TRIGGER whose outcome {@link TriggerTracker} follows), a third party's request to the server that holds
 * a session (MOVE_REQUEST over the control connection), and a drain of every session over several targets.
 */
public final class SessionMoves {
    private static final Logger log = LoggerFactory.getLogger(SessionMoves.class);

    private final Server server;
    /** The drain in progress, or {@code null}. */
    private volatile Drain drain;

    SessionMoves(Server server) {
        this.server = server;
    }

    /** @return the session id written in hex, or {@code null} when {@code hexId} is not one */
    private static byte[] sessionId(String hexId) {
        try {
            byte[] id = HexFormat.of().parseHex(hexId);
            return id.length == Wire.SESSION_ID_SIZE ? id : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Asks the client of session {@code hexId} to move to {@code target} (a TRIGGER).
     *
     * @return completes with this server's committed migration event, or exceptionally with a
     *         {@link MigrationException} that says why the session did not move
     */
    public CompletableFuture<MigrationEvent> move(String hexId, InetSocketAddress target) {
        byte[] id = sessionId(hexId);
        ServerSession s = id == null ? null : server.session(id);
        if (s == null || s.isClosed()) {
            return CompletableFuture.failedFuture(new MigrationException("no live MTCP session " + hexId + " on " + server,
                    Reason.UNKNOWN_SESSION, false, null));
        }
        try {
            return s.move(target);
        } catch (ConnectionMigratedException e) {
            return CompletableFuture.failedFuture(new MigrationException("MTCP session " + hexId + " left " + server
                    + " before it could be asked to move: " + e.getMessage(), Reason.SUPERSEDED, false, e));
        } catch (MigrationException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(new MigrationException("cannot move MTCP session " + hexId + " of " + server
                    + ": " + e.getMessage(), s.isClosed() ? Reason.SESSION_ENDED : Reason.OTHER, !s.isClosed(), e));
        }
    }

    /**
     * Asks {@code holder}, a cooperating server, to move its session {@code hexId} to {@code target} over the
     * authenticated control connection (thesis 3.2.1(b): a third party's trigger; with {@code target} this
     * server, a pull). {@code holder} may be this server itself.
     *
     * @return completes with where the session went, or exceptionally with a {@link MigrationException} that
     *         says why not (the holder's refusal, or that it could not be asked)
     */
    public CompletableFuture<InetSocketAddress> requestMove(InetSocketAddress holder, String hexId, InetSocketAddress target) {
        byte[] id = sessionId(hexId);
        if (id == null) {
            return CompletableFuture.failedFuture(new MigrationException("not a session id: " + hexId + " (32 hex digits)",
                    Reason.UNKNOWN_SESSION, false, null));
        }
        if (holder.equals(server.identity())) {
            return move(hexId, target).thenApply(MigrationEvent::to);
        }
        SocketAddress controlAddress = server.controlMappings().get(holder);
        ControlEndpoint c = server.control();
        if (controlAddress == null || c == null) {
            return CompletableFuture.failedFuture(new MigrationException(server + " cannot ask " + holder + " to move a session: "
                    + (c == null ? "this server has no CONTROL_MAPPINGS" : "it is not among the cooperating servers "
                    + server.controlMappings().keySet()), Reason.NOT_COOPERATING, true, null));
        }
        CompletableFuture<InetSocketAddress> f = new CompletableFuture<>();
        server.loop().execute(() -> {
            try {
                c.connectionTo(holder, controlAddress).requestMove(id, target).whenComplete((to, e) -> {
                    if (e == null) {
                        f.complete(to);
                    } else {
                        f.completeExceptionally(e);
                    }
                });
            } catch (IOException | RuntimeException e) {
                f.completeExceptionally(new MigrationException(server + " cannot reach " + holder + " to ask it to move " + hexId
                        + ": " + e.getMessage(), Reason.PEER_UNREACHABLE, true, e));
            }
        });
        return f;
    }

    /** A drain: every live session is asked to move to one of the targets until none is left. */
    private final class Drain {
        final List<InetSocketAddress> targets;
        final CompletableFuture<Integer> done = new CompletableFuture<>();
        /** When each session was last asked to move; loop thread only. */
        final Map<ServerSession, Long> askedAt = new HashMap<>();
        /** The next target handed out, round robin, so that a drain spreads the sessions; loop thread only. */
        int next;
        /**
         * Sessions of this server that moved away while the drain ran; counted by the committing thread before the
         * session shows as moved, so a pass that finds none left has counted every one.
         */
        final AtomicInteger moved = new AtomicInteger();
        /** Sessions asked to move and not yet moved (an upper bound: failures are not subtracted); loop thread only. */
        int outstanding;

        Drain(List<InetSocketAddress> targets) {
            this.targets = targets;
        }

        /** One pass on the loop: ask what is left and not already asked, complete when nothing is. */
        void pass() {
            if (done.isDone()) {
                return;
            }
            long now = System.nanoTime();
            List<ServerSession> live = server.sessions();
            askedAt.keySet().retainAll(live);
            int left = 0;
            for (ServerSession s : live) {
                if (s.isClosed()) {
                    continue;
                }
                left++;
                Long last = askedAt.get(s);
                // after a failed attempt the session waits a second, then tries the next target
                if (s.migratable() && !s.triggerPending() && (last == null || now - last > TimeUnit.SECONDS.toNanos(1))) {
                    InetSocketAddress to = targets.get(Math.floorMod(next++, targets.size()));
                    askedAt.put(s, now);
                    outstanding++;
                    try {
                        s.move(to).whenComplete((e, failure) -> {
                            if (failure != null) {
                                log.debug("drain of {}: {} did not move to {}: {}", server, s, to, failure.getMessage());
                            }
                        });
                    } catch (IOException | RuntimeException e) {
                        log.debug("drain of {}: cannot trigger {}: {}", server, s, e.getMessage());
                    }
                }
            }
            if (left == 0) {
                finish();
                return;
            }
            server.loop().schedule(TimeUnit.MILLISECONDS.toNanos(100), this::pass);
        }

        /**
         * A session of this drain moved away; on the loop. When the last one asked has gone, a pass at once
         * completes the drain (the periodic pass would leave it waiting up to 100 ms for nothing).
         */
        void movedOut() {
            if (outstanding > 0 && --outstanding == 0 && !done.isDone()) {
                for (ServerSession s : server.sessions()) {
                    if (!s.isClosed()) {
                        return; // still some left: the periodic pass goes on with them
                    }
                }
                finish();
            }
        }

        private void finish() {
            if (drain == this) {
                drain = null;
            }
            done.complete(moved.get());
        }
    }

    /**
     * Asks every live session, and every one that arrives meanwhile, to migrate to one of {@code targets}
     * (spread round robin; after a failed attempt, a second later, to the next); completes with the number of
     * sessions that moved away when none is left. Plain TCP clients cannot move: they do not count, and are
     * not waited for. A new drain replaces this one. The control connections to the targets are opened first
     * (each pair's, if it has none), so that the drain's first migrations do not wait for them.
     *
     * @throws IllegalArgumentException when {@code targets} is empty or names a server this one does not advertise
     */
    public CompletableFuture<Integer> drain(List<InetSocketAddress> targets) {
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("drain of " + server + ": no target given");
        }
        List<InetSocketAddress> advertised = server.alternates();
        for (InetSocketAddress t : targets) {
            if (!advertised.contains(t)) {
                throw new IllegalArgumentException("drain of " + server + " to " + t + ": clients follow a trigger only to an"
                        + " advertised server (ADDITIONAL_SERVERS " + advertised + ")");
            }
        }
        Drain d = new Drain(List.copyOf(targets));
        Drain previous = drain;
        drain = d;
        if (previous != null) {
            previous.done.cancel(false);
        }
        ControlEndpoint control = server.control();
        if (control != null) {
            // the state requests are about to come: the destinations find the pair's connection open (or opening)
            control.openTo(targets);
        }
        server.loop().execute(d::pass);
        return d.done;
    }

    /** A session is moving away (committed), before it shows as moved; loop or application thread, its lock held. */
    void movedOut(ServerSession s) {
        Drain d = drain;
        if (d != null) {
            d.moved.incrementAndGet();
            server.loop().execute(d::movedOut);
        }
    }
}
