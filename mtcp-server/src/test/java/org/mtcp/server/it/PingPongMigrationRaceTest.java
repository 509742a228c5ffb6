package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;

import java.net.InetAddress;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A session sent back and forth between two servers as fast as the client can: it often comes back to a
 * server before that server has heard (STATE_ACK, on the control connection) that its copy committed to the
 * other; the server waits for that commit instead of refusing the session as "already here".
 */
class PingPongMigrationRaceTest {
    private static final int MIGRATIONS = 300;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aSessionThatComesStraightBackIsTakenNotRefused() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1));
             MtcpSocket s = new MtcpSocket(InetAddress.getLoopbackAddress(), c.address(0).getPort())) {
            s.setSoTimeout(20_000);
            long offset = Apps.echoRoundTrip(s, 0, 100, "first");
            for (int i = 0; i < MIGRATIONS; i++) {
                s.migrate(c.address((i + 1) % 2)); // no echo between: straight back
                if (i % 50 == 49) {
                    offset = Apps.echoRoundTrip(s, offset, 100, "after migration " + i);
                }
            }
            offset = Apps.echoRoundTrip(s, offset, 100, "last");
            assertEquals(MIGRATIONS, s.statistics().committed(), "every migration committed: " + s.statistics());
            c.assertNoAppFailure();
        }
    }
}
