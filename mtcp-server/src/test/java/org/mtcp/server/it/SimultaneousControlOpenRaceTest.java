package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.ServerInternals;
import org.mtcp.server.internal.ControlEndpoint;
import org.mtcp.server.internal.Server;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Script;
import org.mtcp.server.testkit.Waits;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Simultaneous open of the control connection (thesis 4.2.1: one connection per pair): two servers
 * that each start pulling a session from the other at the same moment both open a connection; the
 * pair must keep exactly one, the same on both sides, and lose no migration over it. Each round
 * breaks the pair's connection first, then releases a client of S1 migrating to S2 and a client of S2
 * migrating to S1 through one start gate. A round starts only when every commit of the one before
 * reached its origin: a connection broken while a STATE_ACK is on it makes the origin report an abort
 * of a migration the destination committed, which is not what this test is about.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SimultaneousControlOpenRaceTest {
    private static final int ROUNDS = Integer.getInteger("mtcp.test.rounds", 25);
    private static final int CHUNK = 2000;

    private static MtcpSocket connect(Cluster c, int server) throws IOException {
        MtcpSocket s = new MtcpSocket(HandPlayed.LO, c.address(server).getPort());
        s.setSoTimeout(20_000);
        return s;
    }

    /** A transforming-echo round trip from offset {@code from}, every byte checked. */
    private static void echo(MtcpSocket s, long from, String when) throws IOException {
        byte[] sent = Script.pattern(Script.UP, from, CHUNK);
        s.getOutputStream().write(sent);
        byte[] got = new byte[CHUNK];
        Apps.readFully(s.getInputStream(), got);
        for (int k = 0; k < CHUNK; k++) {
            byte expected = Apps.transform(sent[k], from + k);
            if (got[k] != expected) {
                throw new AssertionError(when + ": echo byte " + (from + k) + ": sent " + sent[k] + ", expected " + expected
                        + ", received " + got[k] + " (" + s.debugState() + ")");
            }
        }
    }

    static long originEvents(Cluster c) {
        return c.events.stream().filter(e -> e.role() == MigrationEvent.Role.ORIGIN).count();
    }

    /**
     * Breaks the pair's control connection once {@code committedBefore} outcomes reached the origins (no
     * STATE_ACK in flight on it, see the class doc), and waits until neither side has one open.
     */
    static void breakPair(Cluster c, ControlEndpoint[] control, long committedBefore, String round) throws InterruptedException {
        assertTrue(Waits.until(() -> originEvents(c) >= committedBefore, Duration.ofSeconds(10)),
                round + ": expected " + committedBefore + " outcomes at the origins, have " + originEvents(c));
        control[0].closeConnections();
        control[1].closeConnections();
        assertTrue(Waits.until(() -> control[0].openConnections() == 0 && control[1].openConnections() == 0,
                Duration.ofSeconds(10)), round + ": the control connections did not close");
    }

    @Test
    void bothServersOpeningAtOnceKeepExactlyOneConnectionPerPair() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1))) {
            Server[] servers = {ServerInternals.server(c.server(0)), ServerInternals.server(c.server(1))};
            ControlEndpoint[] control = {servers[0].control(), servers[1].control()};
            MtcpSocket a = connect(c, 0); // starts each round on S1
            MtcpSocket b = connect(c, 1); // starts each round on S2
            long up = 0; // both clients' up offset (they move in step)
            echo(a, up, "before the first round (a)");
            echo(b, up, "before the first round (b)");
            up += CHUNK;
            int bothOpened = 0;
            for (int round = 0; round < ROUNDS; round++) {
                String r = "round " + round;
                // every commit of the previous rounds has reached its origin: breaking the connections now loses no
                // STATE_ACK in flight (that case is not this test's: the origin would report an abort, see the class doc)
                breakPair(c, control, 4L * round, r);
                int openedBefore = control[0].connectionsOpened() + control[1].connectionsOpened();

                CyclicBarrier gate = new CyclicBarrier(2);
                AtomicReference<Throwable> failure = new AtomicReference<>();
                List<Thread> threads = new ArrayList<>();
                for (Object[] job : new Object[][] {{a, c.address(1)}, {b, c.address(0)}}) {
                    MtcpSocket s = (MtcpSocket) job[0];
                    InetSocketAddress to = (InetSocketAddress) job[1];
                    Thread t = new Thread(() -> {
                        try {
                            gate.await(10, TimeUnit.SECONDS);
                            s.migrate(to);
                        } catch (Throwable e) {
                            failure.compareAndSet(null, new AssertionError(r + ": migration of " + s + " to " + to
                                    + " failed: " + e, e));
                        }
                    }, "test-migrate");
                    t.start();
                    threads.add(t);
                }
                for (Thread t : threads) {
                    t.join(TimeUnit.SECONDS.toMillis(40));
                    assertTrue(!t.isAlive(), r + ": a migration did not return");
                }
                if (failure.get() != null) {
                    throw new AssertionError(failure.get().getMessage(), failure.get());
                }
                assertEquals(c.address(1), a.currentServer(), r + ": client a is on S2");
                assertEquals(c.address(0), b.currentServer(), r + ": client b is on S1");
                echo(a, up, r + ", a after the simultaneous migrations");
                echo(b, up, r + ", b after the simultaneous migrations");
                up += CHUNK;

                boolean settled = Waits.until(() -> control[0].openConnections() == 1 && control[1].openConnections() == 1,
                        Duration.ofSeconds(10));
                assertTrue(settled, r + ": expected one control connection open on each side, S1 has "
                        + control[0].openConnections() + ", S2 has " + control[1].openConnections());
                int opened = control[0].connectionsOpened() + control[1].connectionsOpened() - openedBefore;
                assertTrue(opened == 2 || opened == 4, r + ": expected one connection (2 ends) or a duplicate (4 ends), "
                        + "counted " + opened + " ends");
                if (opened == 4) {
                    bothOpened++;
                }
                for (int i = 0; i < 2; i++) {
                    int k = i;
                    assertTrue(Waits.until(() -> servers[k].sessions().size() == 1, Duration.ofSeconds(10)),
                            r + ": expected one live session on S" + (k + 1) + " (the origin copy released, none frozen), has "
                                    + servers[k].sessions().size());
                }

                // the survivor is the same connection on both sides: both directions use it, none is opened
                int openedAfterRace = control[0].connectionsOpened() + control[1].connectionsOpened();
                a.migrate(c.address(0));
                b.migrate(c.address(1));
                echo(a, up, r + ", a back on S1");
                echo(b, up, r + ", b back on S2");
                up += CHUNK;
                assertEquals(openedAfterRace, control[0].connectionsOpened() + control[1].connectionsOpened(),
                        r + ": migrations both ways after the race must use the surviving connection, not open one");
                assertEquals(1, control[0].openConnections(), r + ": connections open on S1");
                assertEquals(1, control[1].openConnections(), r + ": connections open on S2");
            }
            System.out.println("SimultaneousControlOpenRaceTest: both servers opened a connection in " + bothOpened + " of "
                    + ROUNDS + " rounds");

            int expectedOrigin = 4 * ROUNDS;
            assertTrue(Waits.until(() -> originEvents(c) >= expectedOrigin, Duration.ofSeconds(10)),
                    "every migration reported at its origin");
            assertEquals(expectedOrigin, originEvents(c), "one outcome per migration at its origin");
            for (MigrationEvent e : c.events) {
                assertTrue(e.committed(), "every migration committed: " + e);
            }
            a.close();
            b.close();
            c.assertNoAppFailure();
        }
    }
}
