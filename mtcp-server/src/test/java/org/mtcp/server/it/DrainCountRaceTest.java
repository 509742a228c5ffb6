package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A drain's count is every session that moved, however the commits and the drain's passes interleave: the
 * sessions move within one pass's interval, and a pass that finds none left must already have counted them all
 * (it completed with fewer, once with none, when the count was taken by a task queued behind the pass).
 */
class DrainCountRaceTest {
    private static final int SESSIONS = 6;
    private static final int DRAINS = 30;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void everyDrainCountsEverySessionThatMoved() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1))) {
            List<MtcpSocket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < SESSIONS; i++) {
                    MtcpSocket s = new MtcpSocket(InetAddress.getLoopbackAddress(), c.address(0).getPort());
                    s.setSoTimeout(20_000);
                    clients.add(s);
                    Apps.echoRoundTrip(s, 0, 10, "client " + i);
                }
                int at = 0;
                for (int d = 0; d < DRAINS; d++) {
                    int moved = c.server(at).drain(c.address(1 - at)).get(30, TimeUnit.SECONDS);
                    assertEquals(SESSIONS, moved, "drain " + d + " from server " + at + ": sessions counted as moved");
                    // every drain so far moved every session to or from this server: all counted once the drain is done
                    assertEquals((long) (d + 1) * SESSIONS, c.server(at).statistics().committed(),
                            "drain " + d + " from server " + at + ": migrations committed in its statistics");
                    at = 1 - at;
                    int to = at;
                    for (MtcpSocket s : clients) { // each session is at the other server before the next drain
                        Waits.until(() -> c.address(to).equals(s.currentServer()), Duration.ofSeconds(10));
                        assertEquals(c.address(at), s.currentServer(), "drain " + d + ": a client did not follow");
                    }
                    // the destination lists them once installed
                    Waits.until(() -> c.server(to).sessions().size() >= SESSIONS, Duration.ofSeconds(10));
                    assertEquals(SESSIONS, c.server(at).sessions().size(), "drain " + d + ": sessions listed at the destination");
                }
                c.assertNoAppFailure();
            } finally {
                for (MtcpSocket s : clients) {
                    s.close();
                }
            }
        }
    }
}
