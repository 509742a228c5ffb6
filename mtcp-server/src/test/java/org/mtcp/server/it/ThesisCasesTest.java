package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.client.MtcpSocket;
import org.mtcp.internal.session.Settings;
import org.mtcp.internal.session.SessionInputStream;
import org.mtcp.internal.session.SessionOutputStream;
import org.mtcp.server.testkit.Background;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;
import org.mtcp.server.testkit.Script;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One test per case of thesis 3.3.3 and 4.2.3, each placing a migration exactly between two steps of
 * a deterministic server application.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ThesisCasesTest {

    private static MtcpSocket connect(Cluster c, int server) throws Exception {
        InetSocketAddress a = c.address(server);
        MtcpSocket s = new MtcpSocket(a.getAddress(), a.getPort());
        s.setSoTimeout(30_000);
        return s;
    }

    /** How long a thread the test started may take to finish once it can. */
    private static final Duration FINISH = Duration.ofSeconds(30);

    private static int available(InputStream in) {
        try {
            return in.available();
        } catch (java.io.IOException e) {
            throw new AssertionError("available() failed", e);
        }
    }

    /** @return the latest committed migration a destination reported (reports may trail the client's return) */
    static MigrationEvent destinationEvent(Cluster c) throws InterruptedException {
        java.util.function.Supplier<MigrationEvent> last = () -> c.events.stream()
                .filter(e -> e.role() == MigrationEvent.Role.DESTINATION && e.committed()).reduce((a, b) -> b).orElse(null);
        if (!Waits.until(() -> last.get() != null, Duration.ofSeconds(10))) {
            throw new AssertionError("no committed migration reported by a destination");
        }
        return last.get();
    }

    /** Figures 3.7 and 3.8: bytes read after the last snapshot are read again at the destination, from the log. */
    @Test
    void readLogIsReplayedFromTheSnapshot() throws Exception {
        Script script = new Script().export().read(1000).write(100);
        try (Cluster c = new Cluster(2, i -> script.app()); MtcpSocket s = connect(c, 0)) {
            s.getOutputStream().write(Script.pattern(Script.UP, 0, 1000));
            script.runTo(2); // exported, then read 1000 bytes: they are in the log only
            s.migrate(c.address(1));
            script.runTo(3, 1); // the destination's copy runs the steps after the snapshot again
            Script.expectDown(s.getInputStream(), 0, 100);
            assertEquals(1000, destinationEvent(c).replayedBytes(), "the read log travelled with the state");
            c.assertNoAppFailure();
        }
    }

    /** Figure 3.9, scenario 1 of figure 4.9: written before the snapshot, not yet at the client: sent again. */
    @Test
    void writesBeforeTheSnapshotTheClientLacksAreSentAgain() throws Exception {
        int big = Settings.RECEIVE_WINDOW * 3 / 2; // more than the client's credit: part stays in the server's write buffer
        Script script = new Script().write(big).export().write(10);
        try (Cluster c = new Cluster(2, i -> script.app()); MtcpSocket s = connect(c, 0)) {
            script.runTo(2);
            s.migrate(c.address(1));
            MigrationEvent e = destinationEvent(c);
            assertTrue(e.resentBytes() > 0, "the write buffer between what the client had and the snapshot travelled: " + e);
            script.runTo(3);
            Script.expectDown(s.getInputStream(), 0, big + 10);
            c.assertNoAppFailure();
        }
    }

    /**
     * Figure 3.10, scenario 2 of figure 4.9: written after the snapshot and already at the client; the
     * destination's copy writes them again and the library drops them. The client migrates as soon as
     * it has the bytes, before its acknowledgement is due: the origin packs with acknowledgements in
     * flight and takes the client's own count.
     */
    @Test
    void regeneratedBytesTheClientHasAreDroppedWithAcknowledgementsInFlight() throws Exception {
        Script script = new Script().export().write(5000).write(100);
        try (Cluster c = new Cluster(2, i -> script.app()); MtcpSocket s = connect(c, 0)) {
            script.runTo(2);
            Script.expectDown(s.getInputStream(), 0, 5000);
            s.migrate(c.address(1));
            script.runTo(3, 1);
            Script.expectDown(s.getInputStream(), 5000, 100); // would be the 5000 again without the drop
            assertEquals(0, destinationEvent(c).resentBytes(), "nothing to send again: the client had it all");
            c.assertNoAppFailure();
        }
    }

    /**
     * Scenario 2 again, then straight on: the client migrates from the destination before the destination's copy
     * has written again anything of what the client has. The destination restarted its send buffer at the
     * client's claim, so the next request claims no more than that (with bytes that were on the way beyond the
     * claim, the case of {@link StreamingMigrationRaceTest}, it does).
     */
    @Test
    void migratesOnBeforeTheDestinationWroteAgainWhatTheClientHas() throws Exception {
        Script script = new Script().export().write(5000).write(100);
        CountDownLatch destinationMayRun = new CountDownLatch(1);
        Cluster.App gated = (sock, server) -> {
            try {
                destinationMayRun.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            script.app().serve(sock, server);
        };
        try (Cluster c = new Cluster(2, i -> i == 1 ? gated : script.app()); MtcpSocket s = connect(c, 0)) {
            script.runTo(2);
            Script.expectDown(s.getInputStream(), 0, 5000);
            s.migrate(c.address(1)); // the copy there waits at the snapshot: it has written nothing yet
            s.migrate(c.address(0)); // the client has 5000 bytes, the destination's send buffer none
            destinationMayRun.countDown();
            script.runTo(3, 0);
            Script.expectDown(s.getInputStream(), 5000, 100);
            c.assertNoAppFailure();
        }
    }

    /** The client sends again what the origin never received (here: held back by the origin's credit). */
    @Test
    void clientSendsAgainWhatTheOriginNeverReceived() throws Exception {
        int big = Settings.RECEIVE_WINDOW * 3 / 2; // more than the origin's credit: the rest waits at the client
        Script script = new Script().read(10).export().read(big).write(10);
        try (Cluster c = new Cluster(2, i -> script.app()); MtcpSocket s = connect(c, 0)) {
            // blocks in write once the origin's credit is used up, until the session moves
            Background<Void> writer = Background.run("client writer",
                    () -> s.getOutputStream().write(Script.pattern(Script.UP, 0, 10 + big)));
            script.runTo(2);
            s.migrate(c.address(1));
            long carried = destinationEvent(c).replayedBytes();
            assertTrue(carried < big, "the origin held only part of the client's bytes (" + carried + " of " + big + ")");
            try {
                script.runTo(4); // the destination's copy read all of them: the rest came from the client again
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\nclient " + s.debugState() + "\nS1 " + c.server(0).debugState()
                        + "S2 " + c.server(1).debugState() + "\nwriter: " + writer.failure(), writer.failure() != null
                        ? writer.failure() : e);
            }
            Script.expectDown(s.getInputStream(), 0, 10);
            writer.await(FINISH); // fails if the write did not return, or threw
            c.assertNoAppFailure();
        }
    }

    /** A session the client half-closed migrates; the destination's copy reads the end of stream again. */
    @Test
    void clientHalfClosedBeforeTheMigration() throws Exception {
        Script script = new Script().export().read(100).readEof().write(50).shutdownOutput();
        try (Cluster c = new Cluster(2, i -> script.app()); MtcpSocket s = connect(c, 0)) {
            s.getOutputStream().write(Script.pattern(Script.UP, 0, 100));
            s.shutdownOutput();
            script.runTo(3);
            s.migrate(c.address(1));
            script.runTo(5);
            InputStream in = s.getInputStream();
            Script.expectDown(in, 0, 50);
            assertEquals(-1, in.read());
            c.assertNoAppFailure();
        }
    }

    /** The server half-closed before its snapshot: the destination does not end the stream twice. */
    @Test
    void serverHalfClosedBeforeTheSnapshot() throws Exception {
        Script script = new Script().write(100).shutdownOutput().export().read(10);
        try (Cluster c = new Cluster(2, i -> script.app()); MtcpSocket s = connect(c, 0)) {
            script.runTo(3);
            InputStream in = s.getInputStream();
            Script.expectDown(in, 0, 100);
            assertEquals(-1, in.read());
            s.migrate(c.address(1));
            s.getOutputStream().write(Script.pattern(Script.UP, 0, 10));
            script.runTo(4, 1);
            assertEquals(-1, in.read());
            c.assertNoAppFailure();
        }
    }

    /** S1 to S2 to S3 and back to S1, with snapshots and traffic between the hops. */
    @Test
    void chainsOfMigrations() throws Exception {
        Script script = new Script();
        for (int k = 0; k < 5; k++) {
            script.read(700).write(900).export();
        }
        int[] hops = {1, 2, 0, 1};
        try (Cluster c = new Cluster(3, i -> script.app()); MtcpSocket s = connect(c, 0)) {
            List<MigrationEvent> clientEvents = new CopyOnWriteArrayList<>();
            s.addMigrationListener(clientEvents::add);
            for (int k = 0; k < 5; k++) {
                s.getOutputStream().write(Script.pattern(Script.UP, 700L * k, 700));
                script.runTo(3 * k + 3);
                Script.expectDown(s.getInputStream(), 900L * k, 900);
                if (k < hops.length) {
                    s.migrate(c.address(hops[k]));
                    assertEquals(c.address(hops[k]), s.currentServer());
                    assertEquals(hops[k], c.indexOf((InetSocketAddress) s.getRemoteSocketAddress()),
                            "the socket names the server it is on");
                }
            }
            assertEquals(hops.length, clientEvents.stream().filter(MigrationEvent::committed).count());
            clientEvents.forEach(e -> assertTrue(e.phaseNanos(MigrationEvent.Phase.CLIENT_WAIT) > 0, e.toString()));
            c.assertNoAppFailure();
        }
    }

    /** The client application is blocked in read on the origin while the session moves. */
    @Test
    void migrationWhileTheClientIsBlockedInRead() throws Exception {
        Script script = new Script().export().write(10);
        try (Cluster c = new Cluster(2, i -> script.app()); MtcpSocket s = connect(c, 0)) {
            script.runTo(1);
            // the server writes only when step 1 is allowed, after the migration: the read has nothing to return until then
            Background<Void> reader = Background.run("client reader", () -> Script.expectDown(s.getInputStream(), 0, 10));
            Waits.untilBlockedIn(reader.thread(), SessionInputStream.class.getName(), "read", FINISH);
            s.migrate(c.address(1));
            script.runTo(2, 1);
            reader.await(FINISH); // fails if the read did not return the 10 bytes, or threw
            assertEquals(c.address(1), s.currentServer());
            c.assertNoAppFailure();
        }
    }

    /** The server application is blocked in write (window full) on the origin while the session moves. */
    @Test
    void migrationWhileTheServerIsBlockedInWrite() throws Exception {
        // more than the client's receive window and the origin's send window together: the write must block
        int big = 3 * 1024 * 1024;
        assertTrue(big > Settings.RECEIVE_WINDOW + Settings.SEND_WINDOW, "the write outgrows both windows");
        Script script = new Script().export().write(big);
        try (Cluster c = new Cluster(2, i -> script.app()); MtcpSocket s = connect(c, 0)) {
            assertTrue(Waits.until(() -> !c.live(0).isEmpty(), FINISH), "the origin accepted the session");
            Socket origin = c.live(0).get(0);
            Thread originApp = c.appThread(origin);
            assertNotNull(originApp, "the origin's application thread");
            script.allow(2);
            // the client does not read: once it holds a whole window, the server cannot send more and blocks in write
            InputStream in = s.getInputStream();
            assertTrue(Waits.until(() -> available(in) >= Settings.RECEIVE_WINDOW, FINISH),
                    "the client received a whole window: " + s.debugState());
            Waits.untilBlockedIn(originApp, SessionOutputStream.class.getName(), "write", FINISH);
            s.migrate(c.address(1));
            Script.expectDown(in, 0, big);
            script.runTo(2, 1);
            // the origin's copy, blocked in write, learns that the session moved and ends
            assertTrue(Waits.until(() -> !originApp.isAlive(), FINISH), "the origin's copy still runs after the migration: "
                    + originApp.getState() + " at\n" + Waits.stack(originApp));
            c.assertNoAppFailure();
        }
    }
}
