package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationStatistics;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The destination's statistics count a migration by the time the client's {@code migrate()} returns: it counts it
 * before it answers the client (the count lagged by the rest of its loop task when it was taken after the answer).
 * The counter is read at once, in the client's thread, after each of many migrations back and forth. The origin
 * learns of the commit from the destination (STATE_ACK) on its own loop, which may come after the client's return:
 * its count is waited for, then checked exactly.
 */
class MigrationCountRaceTest {
    private static final int MIGRATIONS = 60;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aMigrationIsCountedAtBothServersWhenMigrateReturns() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1));
             MtcpSocket s = new MtcpSocket(InetAddress.getLoopbackAddress(), c.address(0).getPort())) {
            s.setSoTimeout(20_000);
            long up = Apps.echoRoundTrip(s, 0, 100, "before the first migration");
            for (int k = 0; k < MIGRATIONS; k++) {
                int to = (k + 1) % 2;
                s.migrate(c.address(to));
                // every migration is one at each server, in or out
                assertEquals(k + 1, c.server(to).statistics().committed(), "migration " + k + ": committed at the destination S"
                        + (to + 1) + ", read when migrate() returned");
                int from = 1 - to;
                long expected = k + 1;
                Waits.until(() -> c.server(from).statistics().committed() >= expected, Duration.ofSeconds(10));
                MigrationStatistics origin = c.server(from).statistics();
                assertEquals(expected, origin.committed(), "migration " + k + ": committed at the origin S" + (from + 1));
                up = Apps.echoRoundTrip(s, up, 100, "after migration " + k);
            }
            c.assertNoAppFailure();
        }
    }
}
