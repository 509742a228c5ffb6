package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.ServerInternals;
import org.mtcp.server.internal.ControlEndpoint;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code CONTROL_OPEN_AHEAD} against a migration: both servers open ahead (the option turned on, and in
 * every other round their mappings set anew as a membership update does) at the moment a client starts
 * migrating between them, which opens the pair's connection lazily too. Up to three connections race for
 * the pair; it must keep one, the same on both sides, and the migration must commit with every byte once.
 * Each round turns the option off (a broken connection would be reopened by itself), breaks the pair's
 * connection, and releases the two servers' opens and the migration through one start gate.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ControlOpenAheadRaceTest {
    private static final int ROUNDS = Integer.getInteger("mtcp.test.rounds", 25);
    private static final int CHUNK = 2000;

    @Test
    void openingAheadWhileAMigrationOpensLazilyKeepsOneConnectionAndLosesNothing() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1))) {
            ControlEndpoint[] control = {ServerInternals.server(c.server(0)).control(),
                    ServerInternals.server(c.server(1)).control()};
            c.server(0).setOption(MtcpOptions.CONTROL_OPEN_AHEAD, true);
            c.server(1).setOption(MtcpOptions.CONTROL_OPEN_AHEAD, true);
            MtcpSocket a = new MtcpSocket(HandPlayed.LO, c.address(0).getPort());
            a.setSoTimeout(20_000);
            long up = Apps.echoRoundTrip(a, 0, CHUNK, "before the first round");
            for (int round = 0; round < ROUNDS; round++) {
                String r = "round " + round;
                int from = round % 2; // the session moves back and forth
                // off while the pair is broken, or it would reopen by itself before the gate
                c.server(0).setOption(MtcpOptions.CONTROL_OPEN_AHEAD, false);
                c.server(1).setOption(MtcpOptions.CONTROL_OPEN_AHEAD, false);
                SimultaneousControlOpenRaceTest.breakPair(c, control, round, r);

                boolean membershipUpdate = round % 2 == 0; // odd rounds: the option turned on alone
                CyclicBarrier gate = new CyclicBarrier(3);
                AtomicReference<Throwable> failure = new AtomicReference<>();
                List<Thread> threads = new ArrayList<>();
                for (int job = 0; job < 3; job++) {
                    int j = job;
                    Thread t = new Thread(() -> {
                        try {
                            gate.await(10, TimeUnit.SECONDS);
                            if (j < 2) {
                                c.server(j).setOption(MtcpOptions.CONTROL_OPEN_AHEAD, true); // opens at once
                                if (membershipUpdate) {
                                    c.server(j).setOption(MtcpOptions.CONTROL_MAPPINGS, c.mappings()); // and again
                                }
                            } else {
                                a.migrate(c.address(1 - from));
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, new AssertionError(r + ": " + (j < 2 ? "opening ahead at S" + (j + 1)
                                    : "migration to S" + (2 - from)) + " failed: " + e, e));
                        }
                    }, "test-race-" + job);
                    t.start();
                    threads.add(t);
                }
                for (Thread t : threads) {
                    t.join(TimeUnit.SECONDS.toMillis(40));
                    assertTrue(!t.isAlive(), r + ": " + t.getName() + " did not return");
                }
                if (failure.get() != null) {
                    throw new AssertionError(failure.get().getMessage(), failure.get());
                }
                assertEquals(c.address(1 - from), a.currentServer(), r + ": the client moved");
                up = Apps.echoRoundTrip(a, up, CHUNK, r + ", after the migration");
                assertTrue(Waits.until(() -> control[0].openConnections() == 1 && control[1].openConnections() == 1,
                        Duration.ofSeconds(10)), r + ": expected one control connection on each side, S1 has "
                        + control[0].openConnections() + ", S2 has " + control[1].openConnections());
            }
            int openedAfter = control[0].connectionsOpened() + control[1].connectionsOpened();
            a.migrate(c.address(ROUNDS % 2 == 0 ? 1 : 0));
            Apps.echoRoundTrip(a, up, CHUNK, "after the rounds");
            assertEquals(openedAfter, control[0].connectionsOpened() + control[1].connectionsOpened(),
                    "the surviving connection serves the next migration");
            int expected = ROUNDS + 1;
            assertTrue(Waits.until(() -> SimultaneousControlOpenRaceTest.originEvents(c) >= expected, Duration.ofSeconds(10)),
                    "every migration reported at its origin");
            for (MigrationEvent e : c.events) {
                assertTrue(e.committed(), "every migration committed: " + e);
            }
            a.close();
            c.assertNoAppFailure();
        }
    }
}
