package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.SessionInfo;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Background;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Moves by id racing each other and the client's own migrations, many times: every move's future
 * completes with a real outcome (a committed migration to where it asked, or a {@link MigrationException}
 * with a reason), none hangs, the stream stays byte-exact, and the servers count exactly the migrations
 * the client made.
 */
class TriggerOutcomeRaceTest {
    private static final int ITERATIONS = 40;
    private static final InetAddress LO = InetAddress.getLoopbackAddress();

    /** Where a session is listed. */
    private record Located(int server, SessionInfo info) {
    }

    /** @return the server that lists the client's session, movable, once no other lists it; {@code null} after 10 s */
    private static Located locate(Cluster c, MtcpSocket s) throws InterruptedException {
        Located[] found = new Located[1];
        Waits.until(() -> (found[0] = listedOnce(c, s)) != null, Duration.ofSeconds(10));
        return found[0];
    }

    /** @return where the client's session is listed, movable, if exactly one server lists it and it is the client's */
    private static Located listedOnce(Cluster c, MtcpSocket s) {
        int here = c.indexOf(s.currentServer());
        int listing = 0;
        SessionInfo found = null;
        for (int i = 0; i < 3; i++) {
            List<SessionInfo> listed = c.server(i).sessions();
            listing += listed.size();
            if (i == here && listed.size() == 1 && listed.get(0).movable()) {
                found = listed.get(0);
            }
        }
        return found != null && listing == 1 ? new Located(here, found) : null;
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void movesRacingMovesAndClientMigrationsEachGetOneRealOutcome() throws Exception {
        try (Cluster c = new Cluster(3, i -> Apps.transformingEcho(32, 1));
             MtcpSocket s = new MtcpSocket(LO, c.address(0).getPort())) {
            s.setSoTimeout(20_000);
            long offset = Apps.echoRoundTrip(s, 0, 500, "first");
            CyclicBarrier gate = new CyclicBarrier(3);
            int moved = 0;
            int refused = 0;
            for (int it = 0; it < ITERATIONS; it++) {
                // a move that ended SUPERSEDED may still have started the client's migration: find where the session
                // is now (it may still move on: a move then ends UNKNOWN_SESSION, a real outcome too)
                Located at = locate(c, s);
                assertTrue(at != null, "iteration " + it + ": client on " + s.currentServer() + "; client " + s.debugState()
                        + "; servers:\n" + c.server(0).debugState() + c.server(1).debugState() + c.server(2).debugState());
                int here = at.server;
                SessionInfo info = at.info;
                int a = (here + 1) % 3;
                int b = (here + 2) % 3;
                List<CompletableFuture<MigrationEvent>> moves = new ArrayList<>();
                Background<CompletableFuture<MigrationEvent>> first = Background.start("move-a", () -> {
                    gate.await(10, TimeUnit.SECONDS);
                    return c.server(here).move(info.id(), c.address(a));
                });
                Background<CompletableFuture<MigrationEvent>> second = Background.start("move-b", () -> {
                    gate.await(10, TimeUnit.SECONDS);
                    return c.server(here).move(info.id(), c.address(b));
                });
                gate.await(10, TimeUnit.SECONDS);
                if (it % 3 == 0) {
                    try {
                        s.migrate(c.address(a)); // the client's own decision, racing the servers' moves
                    } catch (MigrationException e) {
                        assertTrue(e.sessionAlive(), "iteration " + it + ": " + e);
                    }
                }
                moves.add(first.await(Duration.ofSeconds(15)));
                moves.add(second.await(Duration.ofSeconds(15)));
                for (CompletableFuture<MigrationEvent> f : moves) {
                    try {
                        MigrationEvent e = f.get(40, TimeUnit.SECONDS);
                        assertTrue(e.committed(), "iteration " + it + ": a move that completed committed: " + e);
                        moved++;
                    } catch (ExecutionException e) {
                        assertTrue(e.getCause() instanceof MigrationException, "iteration " + it + ": " + e.getCause());
                        refused++;
                    } catch (TimeoutException e) {
                        throw new AssertionError("iteration " + it + ": a move had no outcome within 40 s; client on "
                                + s.currentServer() + ", servers:\n" + c.server(0).debugState() + c.server(1).debugState()
                                + c.server(2).debugState());
                    }
                }
                offset = Apps.echoRoundTrip(s, offset, 500, "iteration " + it + " (on " + s.currentServer() + ")");
            }
            assertTrue(moved > 0, "some moves succeeded (" + moved + " moved, " + refused + " did not)");
            System.out.println("TriggerOutcomeRaceTest: " + ITERATIONS + " iterations, " + moved + " moves committed, " + refused
                    + " ended with a reason");
            long clientCommitted = s.statistics().committed();
            assertTrue(Waits.until(() -> c.events.stream().filter(e -> e.role() == MigrationEvent.Role.ORIGIN && e.committed())
                    .count() == clientCommitted, Duration.ofSeconds(10)), "the origins counted " + c.events.stream()
                    .filter(e -> e.role() == MigrationEvent.Role.ORIGIN && e.committed()).count() + " committed migrations, the"
                    + " client made " + clientCommitted);
            c.assertNoAppFailure();
        }
    }
}
