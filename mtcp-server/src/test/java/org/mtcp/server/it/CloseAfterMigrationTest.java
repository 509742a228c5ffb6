package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.ServerInternals;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Script;
import org.mtcp.server.testkit.Waits;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The origin ended its stream after its last export and the client has every byte and the FIN; the
 * session then migrates, and the destination's copy of the application writes its output again and
 * ends it with {@code close()} rather than {@code shutdownOutput()}. The client already had that FIN:
 * the destination must not send it again at the wrong offset and wait (up to the 30 s linger) for an
 * acknowledgement that cannot come, but let the session go at once.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CloseAfterMigrationTest {

    @Test
    void aFinTheClientHadIsNotSentAgainByClose() throws Exception {
        Cluster.App app = (s, server) -> {
            boolean migrated = s.getOption(MtcpOptions.MIGRATED);
            if (!migrated) {
                s.setOption(MtcpOptions.APP_STATE, new byte[] {1}); // the restart point: before the output
            }
            OutputStream out = s.getOutputStream();
            out.write(Script.pattern(Script.DOWN, 0, 100));
            if (!migrated) {
                s.shutdownOutput(); // the origin ends its stream, and waits
                InputStream in = s.getInputStream();
                while (in.read() >= 0) {
                    // until the session moves (ConnectionMigratedException) or the client ends
                }
            } else {
                s.close(); // the copy at the destination ends the same stream with close()
            }
        };
        try (Cluster c = new Cluster(2, i -> app);
             MtcpSocket client = new MtcpSocket(HandPlayed.LO, c.address(0).getPort())) {
            client.setSoTimeout(20_000);
            InputStream in = client.getInputStream();
            Script.expectDown(in, 0, 100);
            assertEquals(-1, in.read(), "the client has every byte and the FIN");
            client.migrate(c.address(1));
            assertEquals(-1, in.read(), "still the end of the stream after the migration");
            assertTrue(Waits.until(() -> c.events.stream().anyMatch(e -> e.role() == org.mtcp.api.MigrationEvent.Role.DESTINATION),
                    Duration.ofSeconds(10)), "S2 took the session in: " + c.events);
            assertTrue(Waits.until(() -> ServerInternals.server(c.server(1)).sessions().isEmpty(), Duration.ofSeconds(10)),
                    "the destination let the session go when its application closed it: "
                            + ServerInternals.server(c.server(1)).sessions().stream().map(x -> x.debugState()).toList());
        }
    }
}
