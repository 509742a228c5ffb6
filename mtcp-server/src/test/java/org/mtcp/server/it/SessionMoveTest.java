package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.SessionInfo;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sessions by id (the operations issue): a server lists its sessions, moves one by id and learns the real
 * outcome of every TRIGGER it sends (moved, refused and why, superseded), and drains over several targets.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SessionMoveTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();

    @Test
    void aSessionIsListedAndMovedByIdAndTheMoveCompletesWhenItHasArrived() throws Exception {
        try (Cluster c = new Cluster(3, i -> Apps.transformingEcho(32, 1));
             MtcpSocket s = new MtcpSocket(LO, c.address(0).getPort())) {
            s.setSoTimeout(20_000);
            long offset = echo(s, 0, 3000, "before the move");
            SessionInfo info = only(c, 0);
            assertEquals(s.getLocalPort(), info.client().getPort(), "the listed session is the client's: " + info);
            assertFalse(info.migrated(), "a session opened here did not arrive by migration: " + info);
            assertEquals(3000, info.bytesRead(), "the application read 3000 bytes: " + info);
            assertEquals(3000, info.bytesWritten(), "the application wrote 3000 bytes: " + info);
            assertTrue(info.movable(), "an idle open session can move: " + info);

            MigrationEvent moved = c.server(0).move(info.id(), c.address(2)).get(30, TimeUnit.SECONDS);
            assertTrue(moved.committed(), "the move's event is the committed migration: " + moved);
            assertEquals(MigrationEvent.Role.ORIGIN, moved.role());
            assertEquals(MigrationEvent.Initiation.SERVER_TRIGGER, moved.initiation());
            assertEquals(c.address(2), moved.to());
            assertTrue(Waits.until(() -> c.server(0).sessions().isEmpty(), Duration.ofSeconds(10)),
                    "the origin still lists " + c.server(0).sessions());
            SessionInfo arrived = only(c, 2);
            assertEquals(info.id(), arrived.id(), "the session keeps its id across servers");
            assertTrue(arrived.migrated(), "it arrived by migration: " + arrived);
            assertEquals(1, arrived.migrations(), "one migration so far: " + arrived);
            awaitOn(s, c.address(2));
            echo(s, offset, 3000, "after the move");
            c.assertNoAppFailure();
        }
    }

    @Test
    void aServerAdvertisedAfterTheClientConnectedTakesItsLiveSession() throws Exception {
        try (Cluster c = new Cluster(3, i -> Apps.transformingEcho(32, 1))) {
            // the client learns the alternates at its handshake: server 2 is not among them yet
            c.server(0).setOption(MtcpOptions.ADDITIONAL_SERVERS, List.of(c.address(1)));
            try (MtcpSocket s = new MtcpSocket(LO, c.address(0).getPort())) {
                s.setSoTimeout(20_000);
                long offset = echo(s, 0, 1000, "before");
                assertEquals(List.of(c.address(1)), s.getOption(MtcpOptions.ADDITIONAL_SERVERS));
                // server 2 joins (a membership change): the live session is told (ALTERNATES) and can move there
                c.server(0).setOption(MtcpOptions.ADDITIONAL_SERVERS, List.of(c.address(1), c.address(2)));
                assertTrue(Waits.until(() -> List.of(c.address(1), c.address(2)).equals(alternates(s)), Duration.ofSeconds(10)),
                        "the client still knows " + alternates(s));
                MigrationEvent moved = c.server(0).move(only(c, 0).id(), c.address(2)).get(30, TimeUnit.SECONDS);
                assertTrue(moved.committed(), moved.toString());
                awaitOn(s, c.address(2));
                echo(s, offset, 1000, "after the move to the server that joined");
                assertEquals(0, c.server(0).statistics().failed(), "nothing refused: " + c.server(0).statistics());
            }
        }
    }

    private static List<InetSocketAddress> alternates(MtcpSocket s) {
        try {
            return s.getOption(MtcpOptions.ADDITIONAL_SERVERS);
        } catch (IOException e) {
            return List.of();
        }
    }

    @Test
    void aMoveToAServerTheClientCannotReachFailsAndTheSessionStays() throws Exception {
        try (Cluster c = new Cluster(3, i -> Apps.transformingEcho(32, 1));
             MtcpSocket s = new MtcpSocket(LO, c.address(0).getPort())) {
            s.setSoTimeout(20_000);
            long offset = echo(s, 0, 1000, "before");
            c.server(2).close(); // still advertised, nobody listening
            MigrationException failed = failure(c.server(0).move(only(c, 0).id(), c.address(2)));
            assertTrue(failed.sessionAlive(), failed.getMessage());
            assertEquals(MigrationException.Reason.PEER_UNREACHABLE, failed.reason(), failed.getMessage());
            assertEquals(c.address(0), s.currentServer());
            echo(s, offset, 1000, "after the failed move");
        }
    }

    @Test
    void twoMovesAtOnceEndOneMovedAndTheOtherSuperseded() throws Exception {
        try (Cluster c = new Cluster(3, i -> Apps.transformingEcho(32, 1));
             MtcpSocket s = new MtcpSocket(LO, c.address(0).getPort())) {
            s.setSoTimeout(20_000);
            long offset = echo(s, 0, 1000, "before");
            String id = only(c, 0).id();
            CompletableFuture<MigrationEvent> first = c.server(0).move(id, c.address(1));
            CompletableFuture<MigrationEvent> second = c.server(0).move(id, c.address(2));
            assertTrue(c.server(0).move(id, c.address(1)) == first, "a second move to the same target shares the first's outcome");
            // the client acts on the first TRIGGER; the second finds that migration under way, or sees the session go
            MigrationEvent moved = first.get(30, TimeUnit.SECONDS);
            assertTrue(moved.committed() && c.address(1).equals(moved.to()), moved.toString());
            MigrationException superseded = failure(second);
            assertEquals(MigrationException.Reason.SUPERSEDED, superseded.reason(), superseded.getMessage());
            assertTrue(Waits.until(() -> !c.address(0).equals(s.currentServer()), Duration.ofSeconds(10)));
            echo(s, offset, 1000, "after both moves (on " + s.currentServer() + ")");
            c.assertNoAppFailure();
        }
    }

    @Test
    void aThirdServerAsksTheHolderToMoveASessionAndTheDestinationPullsOne() throws Exception {
        try (Cluster c = new Cluster(3, i -> Apps.transformingEcho(32, 1));
             MtcpSocket s = new MtcpSocket(LO, c.address(0).getPort())) {
            s.setSoTimeout(20_000);
            long offset = echo(s, 0, 1000, "before");
            String id = only(c, 0).id();
            // server 1, a third party, moves the session from server 0 to server 2
            InetSocketAddress went = c.server(1).requestMove(c.address(0), id, c.address(2)).get(30, TimeUnit.SECONDS);
            assertEquals(c.address(2), went);
            awaitOn(s, c.address(2));
            offset = echo(s, offset, 1000, "after the third party's move");
            // server 1 pulls it to itself from server 2
            went = c.server(1).requestMove(c.address(2), id, c.address(1)).get(30, TimeUnit.SECONDS);
            assertEquals(c.address(1), went, "servers " + c.address(0) + " " + c.address(1) + " " + c.address(2) + ", client on "
                    + s.currentServer() + ", events " + c.events);
            awaitOn(s, c.address(1));
            echo(s, offset, 1000, "after the pull");
            // asking a holder for a session it does not have: refused with the reason, over the control connection
            MigrationException unknown = failureOf(c.server(0).requestMove(c.address(2), id, c.address(0)));
            assertEquals(MigrationException.Reason.UNKNOWN_SESSION, unknown.reason(), unknown.getMessage());
            assertTrue(unknown.getMessage().contains(":" + c.address(2).getPort()), "names the holder: " + unknown.getMessage());
            c.assertNoAppFailure();
        }
    }

    @Test
    void anUnknownSessionIsRefusedAtOnce() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(32, 1))) {
            MigrationException e = failure(c.server(0).move("00112233445566778899aabbccddeeff", c.address(1)));
            assertEquals(MigrationException.Reason.UNKNOWN_SESSION, e.reason(), e.getMessage());
        }
    }

    @Test
    void aDrainSpreadsTheSessionsOverItsTargets() throws Exception {
        int n = 6;
        try (Cluster c = new Cluster(3, i -> Apps.transformingEcho(32, 1))) {
            List<MtcpSocket> clients = new ArrayList<>();
            long[] offsets = new long[n];
            try {
                for (int i = 0; i < n; i++) {
                    MtcpSocket s = new MtcpSocket(LO, c.address(0).getPort());
                    s.setSoTimeout(20_000);
                    clients.add(s);
                    offsets[i] = echo(s, 0, 500, "client " + i + " before the drain");
                }
                assertTrue(Waits.until(() -> c.server(0).sessions().size() == n, Duration.ofSeconds(10)),
                        "listed " + c.server(0).sessions());
                int moved = c.server(0).drain(List.of(c.address(1), c.address(2))).get(60, TimeUnit.SECONDS);
                assertEquals(n, moved, "every session moved");
                assertTrue(c.server(0).sessions().isEmpty(), "left " + c.server(0).sessions());
                int on1 = 0;
                int on2 = 0;
                for (int i = 0; i < n; i++) {
                    MtcpSocket client = clients.get(i);
                    assertTrue(Waits.until(() -> !c.address(0).equals(client.currentServer()), Duration.ofSeconds(10)),
                            "client " + i + " is still on the drained server");
                    InetSocketAddress at = client.currentServer();
                    on1 += at.equals(c.address(1)) ? 1 : 0;
                    on2 += at.equals(c.address(2)) ? 1 : 0;
                    offsets[i] = echo(clients.get(i), offsets[i], 500, "client " + i + " after the drain");
                }
                assertEquals(n, on1 + on2, "every client is on a target");
                assertTrue(on1 > 0 && on2 > 0, "the drain spread the sessions: " + on1 + " on server 1, " + on2 + " on server 2");
                c.assertNoAppFailure();
            } finally {
                for (MtcpSocket s : clients) {
                    s.close();
                }
            }
        }
    }

    private static SessionInfo only(Cluster c, int server) throws InterruptedException {
        assertTrue(Waits.until(() -> c.server(server).sessions().size() == 1, Duration.ofSeconds(10)),
                "server " + server + " lists " + c.server(server).sessions());
        return c.server(server).sessions().get(0);
    }

    private static MigrationException failure(CompletableFuture<MigrationEvent> f) throws Exception {
        try {
            MigrationEvent e = f.get(40, TimeUnit.SECONDS);
            throw new AssertionError("expected the move to fail, it completed: " + e);
        } catch (ExecutionException e) {
            return assertInstanceOf(MigrationException.class, e.getCause());
        }
    }

    /**
     * Waits for the client to be on {@code server}: a move completes when the destination has installed the
     * session (the commit), which may be a moment before the client has switched to it.
     */
    private static void awaitOn(MtcpSocket s, InetSocketAddress server) throws InterruptedException {
        assertTrue(Waits.until(() -> server.equals(s.currentServer()), Duration.ofSeconds(10)),
                "the client is on " + s.currentServer() + ", not " + server);
    }

    private static MigrationException failureOf(CompletableFuture<InetSocketAddress> f) throws Exception {
        try {
            InetSocketAddress a = f.get(40, TimeUnit.SECONDS);
            throw new AssertionError("expected the request to fail, it completed: " + a);
        } catch (ExecutionException e) {
            return assertInstanceOf(MigrationException.class, e.getCause());
        }
    }

    private static long echo(MtcpSocket s, long from, int n, String where) throws IOException {
        return Apps.echoRoundTrip(s, from, n, where);
    }
}
