package org.mtcp.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.internal.ControlEndpoint;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.KernelKill;
import org.mtcp.server.testkit.Waits;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code MtcpOptions.CONTROL_OPEN_AHEAD}: the control connections open when the cooperating servers become
 * known (the mappings set, a server joining), so that the first migration between a pair opens none; a
 * server that is not up yet is left to the one started later, and the pair still shares one connection.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ControlOpenAheadTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();
    private static final Duration SETTLE = Duration.ofSeconds(10);

    private static ControlEndpoint control(Cluster c, int i) {
        return c.server(i).server().control();
    }

    private static int opened(Cluster c) {
        int n = 0;
        for (int i = 0; i < c.size(); i++) {
            n += control(c, i).connectionsOpened();
        }
        return n;
    }

    /**
     * @return whether the servers' connections have settled: none is connecting, waiting for its CTRL_HELLO or retiring
     *         as a duplicate, and every one a server opened that connected was accepted by its peer (so that none is on
     *         its way to a listener's accept, where neither end's count shows it)
     */
    private static boolean settled(Cluster c) {
        int connected = 0;
        int accepted = 0;
        for (int i = 0; i < c.size(); i++) {
            ControlEndpoint e = control(c, i);
            if (e == null) {
                continue; // no mappings yet: no control listener
            }
            if (e.connectionsSettling() != 0) {
                return false;
            }
            connected += e.connectionsConnected();
            accepted += e.connectionsAccepted();
        }
        return connected == accepted;
    }

    /** A client of server {@code path[0]} migrating through the rest of {@code path}, every byte checked after each step. */
    private static void ride(Cluster c, int... path) throws IOException {
        try (MtcpSocket s = new MtcpSocket(LO, c.address(path[0]).getPort())) {
            s.setSoTimeout(20_000);
            long up = Apps.echoRoundTrip(s, 0, 100, "on S" + (path[0] + 1));
            for (int k = 1; k < path.length; k++) {
                s.migrate(c.address(path[k]));
                up = Apps.echoRoundTrip(s, up, 100, "after the migration to S" + (path[k] + 1));
            }
        }
    }

    private static Map<InetSocketAddress, SocketAddress> first(Cluster c, int n) {
        Map<InetSocketAddress, SocketAddress> m = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            m.put(c.address(i), c.mappings().get(c.address(i)));
        }
        return m;
    }

    @Test
    void theServerStartedLaterOpensAndTheFirstMigrationOpensNone() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1), false)) {
            assertFalse(c.server(0).getOption(MtcpOptions.CONTROL_OPEN_AHEAD), "off by default");
            for (int i = 0; i < 2; i++) {
                c.server(i).setOption(MtcpOptions.CONTROL_OPEN_AHEAD, true);
                assertTrue(c.server(i).getOption(MtcpOptions.CONTROL_OPEN_AHEAD));
            }
            c.server(0).setOption(MtcpOptions.CONTROL_MAPPINGS, c.mappings()); // S2's control listener is not up yet
            assertTrue(Waits.until(() -> control(c, 0).recentCloseReasons().stream().anyMatch(r -> r.contains(c.address(1).toString())),
                    SETTLE), "S1's attempt to open ahead to S2, whose listener is not up, is reported: "
                    + control(c, 0).recentCloseReasons());
            assertEquals(0, control(c, 0).openConnections(), "S1 has no connection while S2 is not up");
            c.server(1).setOption(MtcpOptions.CONTROL_MAPPINGS, c.mappings()); // S2 opens to S1
            assertTrue(Waits.until(() -> settled(c) && control(c, 0).openConnections() == 1 && control(c, 1).openConnections() == 1, SETTLE),
                    "one connection at each end before any migration: S1 has " + control(c, 0).openConnections() + ", S2 has "
                            + control(c, 1).openConnections());
            int openedAhead = opened(c);

            ride(c, 0, 1, 0);
            assertEquals(openedAhead, opened(c), "the migrations both ways used the connection opened ahead");
            assertEquals(1, control(c, 0).openConnections());
            assertEquals(1, control(c, 1).openConnections());
            c.assertNoAppFailure();
        }
    }

    @Test
    void aServerThatJoinsIsConnectedToOnePerPair() throws Exception {
        try (Cluster c = new Cluster(3, i -> Apps.transformingEcho(16, 1), false)) {
            for (int i = 0; i < 3; i++) {
                c.server(i).setOption(MtcpOptions.CONTROL_OPEN_AHEAD, true);
            }
            c.server(0).setOption(MtcpOptions.CONTROL_MAPPINGS, first(c, 2));
            c.server(1).setOption(MtcpOptions.CONTROL_MAPPINGS, first(c, 2));
            assertTrue(Waits.until(() -> settled(c) && control(c, 0).openConnections() == 1 && control(c, 1).openConnections() == 1, SETTLE),
                    "S1 and S2 connected ahead");
            // S3 joins: every server learns the three (a membership update sets the mappings anew), all at once
            for (int i = 2; i >= 0; i--) {
                c.server(i).setOption(MtcpOptions.CONTROL_MAPPINGS, c.mappings());
            }
            // two ends each is also the moment right after the servers' own opens, before any is accepted: wait for them
            assertTrue(Waits.until(() -> settled(c) && control(c, 0).openConnections() == 2
                            && control(c, 1).openConnections() == 2 && control(c, 2).openConnections() == 2, SETTLE),
                    "one connection per pair (simultaneous opens resolved): " + control(c, 0).openConnections() + " / "
                            + control(c, 1).openConnections() + " / " + control(c, 2).openConnections());
            int openedAhead = opened(c);

            ride(c, 0, 2, 1, 0);
            assertEquals(openedAhead, opened(c), "three migrations over three pairs opened no connection");
            c.assertNoAppFailure();
        }
    }

    @Test
    void turnedOnAfterTheMappingsItOpensAtOnceAndABrokenConnectionIsReopened() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1))) {
            assertEquals(0, control(c, 0).openConnections() + control(c, 1).openConnections(), "lazy: none yet");
            c.server(1).setOption(MtcpOptions.CONTROL_OPEN_AHEAD, true);
            assertTrue(Waits.until(() -> settled(c) && control(c, 0).openConnections() == 1 && control(c, 1).openConnections() == 1, SETTLE),
                    "opened when the option was turned on");
            int openedBefore = control(c, 1).connectionsOpened();
            control(c, 0).closeConnections(); // S1, which does not open ahead, breaks it
            assertTrue(Waits.until(() -> control(c, 1).connectionsOpened() == openedBefore + 1
                            && control(c, 0).openConnections() == 1 && control(c, 1).openConnections() == 1, SETTLE),
                    "S2 reopened it by itself, no mappings change, no migration: opened " + control(c, 1).connectionsOpened()
                            + " (expected " + (openedBefore + 1) + "), close reasons " + control(c, 1).recentCloseReasons());
            assertEquals(0, control(c, 1).reopensPending(), "nothing left to try");
            int openedAhead = opened(c);
            ride(c, 0, 1);
            assertEquals(openedAhead, opened(c), "the migration used the reopened connection");
            c.assertNoAppFailure();
        }
    }

    @Test
    void aConnectionTheKernelResetsIsReopenedAndServesTheNextMigration() throws Exception {
        KernelKill.assumeAvailable();
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1))) {
            for (int i = 0; i < 2; i++) {
                c.server(i).setOption(MtcpOptions.CONTROL_OPEN_AHEAD, true);
            }
            assertTrue(Waits.until(() -> settled(c) && control(c, 0).openConnections() == 1 && control(c, 1).openConnections() == 1, SETTLE),
                    "opened ahead");
            int openedBefore = opened(c);
            int killed = 0;
            for (int i = 0; i < 2; i++) { // the pair's one connection goes to whichever listener its opener dialled
                int port = ((InetSocketAddress) control(c, i).listenAddress()).getPort();
                killed += KernelKill.matching("sport = :" + port) + KernelKill.matching("dport = :" + port);
            }
            assertTrue(killed >= 1, "ss -K found the pair's control connection (killed " + killed + ")");
            assertTrue(Waits.until(() -> opened(c) > openedBefore && settled(c)
                            && control(c, 0).openConnections() == 1 && control(c, 1).openConnections() == 1, SETTLE),
                    "reopened after the reset: opened " + opened(c) + " (before " + openedBefore + "), close reasons "
                            + control(c, 0).recentCloseReasons() + " / " + control(c, 1).recentCloseReasons());
            int reopened = opened(c);
            ride(c, 0, 1, 0);
            assertEquals(reopened, opened(c), "the migrations both ways used the reopened connection");
            c.assertNoAppFailure();
        }
    }

    /** Two servers, S1 opening ahead to S2, whose control listener is not up: S1's first try failed, the next is pending. */
    private static Cluster s1WaitingForS2() throws Exception {
        Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1), false);
        try {
            c.server(0).setOption(MtcpOptions.CONTROL_OPEN_AHEAD, true); // S2 stays lazy: it opens nothing itself
            c.server(0).setOption(MtcpOptions.CONTROL_MAPPINGS, c.mappings());
            assertTrue(Waits.until(() -> control(c, 0).reopensPending() == 1, SETTLE),
                    "S1 waits to try S2 again: " + control(c, 0).recentCloseReasons());
            return c;
        } catch (Exception | AssertionError e) {
            c.close();
            throw e;
        }
    }

    @Test
    void aPeerThatIsNotUpIsTriedAgainUntilItIs() throws Exception {
        try (Cluster c = s1WaitingForS2()) {
            c.server(1).setOption(MtcpOptions.CONTROL_MAPPINGS, c.mappings()); // S2's listener comes up
            assertTrue(Waits.until(() -> settled(c) && control(c, 0).openConnections() == 1 && control(c, 1).openConnections() == 1, SETTLE),
                    "S1 reached S2 once it was up, with no change on S1: S1 has " + control(c, 0).openConnections()
                            + ", close reasons " + control(c, 0).recentCloseReasons());
            assertEquals(0, control(c, 0).reopensPending(), "nothing left to try");
            int openedAhead = opened(c);
            ride(c, 0, 1, 0);
            assertEquals(openedAhead, opened(c), "the migrations both ways used the connection S1 opened");
            c.assertNoAppFailure();
        }
    }

    @Test
    void aPeerNoLongerMappedOrTheOptionTurnedOffIsNotTriedAgain() throws Exception {
        try (Cluster c = s1WaitingForS2()) {
            c.server(0).setOption(MtcpOptions.CONTROL_MAPPINGS, first(c, 1)); // S2 left the cluster
            assertEquals(0, control(c, 0).reopensPending(), "S2, no longer mapped, is not tried again");
            c.server(0).setOption(MtcpOptions.CONTROL_MAPPINGS, c.mappings()); // back
            assertTrue(Waits.until(() -> control(c, 0).reopensPending() == 1, SETTLE), "S2 to be tried again");
            c.server(0).setOption(MtcpOptions.CONTROL_OPEN_AHEAD, false);
            assertEquals(0, control(c, 0).reopensPending(), "the option off: nothing tried again");
            assertEquals(0, control(c, 0).openConnections());
        }
    }
}
