package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.client.internal.ClientInternals;
import org.mtcp.client.internal.ClientSession;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.Wire;
import org.mtcp.server.ServerInternals;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replay protection of migration requests (thesis 4.2.3: each request carries a sequence number and
 * its HMAC under the session secret; the origin accepts a number once). A MIGRATE_REQ played by hand
 * to a real second server, with a sequence number the session already used and the valid proof for
 * it, is refused NOT_AUTHORIZED with the session alive; the session goes on unharmed where it is, and
 * the client's next (higher) sequence migrates it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SequenceReplayTest {
    /** Replays {@code seq} of the client's session to {@code destination}, claiming it is at {@code origin}. */
    private static Message.MigrateReject replay(ClientSession client, long seq, InetSocketAddress destination,
                                                InetSocketAddress origin) throws Exception {
        try (Socket raw = new Socket(destination.getAddress(), destination.getPort())) {
            raw.setSoTimeout(15_000);
            HandPlayed.sendOpening(raw, Wire.MAGIC, ClientInternals.request(client, seq, origin, destination, 0, 1 << 20));
            return HandPlayed.expect(raw, Message.MigrateReject.class, "the answer to a replayed MIGRATE_REQ (sequence " + seq + ")");
        }
    }

    @Test
    void replayedSequenceIsRefusedAndTheNextOneWorks() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1))) {
            ClientSession client = ClientInternals.connect(c.address(0), null);
            HandPlayed.echo(client, 0, 1000);
            ClientInternals.migrate(client, c.address(1)); // sequence 1
            HandPlayed.echo(client, 1000, 1000);
            ClientInternals.migrate(client, c.address(0)); // sequence 2
            HandPlayed.echo(client, 2000, 1000);
            assertEquals(c.address(0), client.server());
            // an origin reports its commit from its own loop, which can come after the client's migrate() returned
            assertTrue(Waits.until(() -> c.events.stream().filter(e -> e.role() == MigrationEvent.Role.ORIGIN && e.failure() == null)
                    .count() == 2, Duration.ofSeconds(10)), "both origins reported their commit: " + c.events);
            int eventsBefore = c.events.size();

            for (long seq : new long[] {2, 1}) {
                Message.MigrateReject reject = replay(client, seq, c.address(1), c.address(0));
                assertEquals(Reason.NOT_AUTHORIZED, reject.reason(), "sequence " + seq + ": " + reject.message());
                assertTrue(reject.sessionAlive(), "sequence " + seq + ": the session stays at S1: " + reject.message());
                assertTrue(reject.message().contains("replays sequence " + seq), "sequence " + seq + ": " + reject.message());
                // unharmed: still at S1, echoing from where it was
                HandPlayed.echo(client, 3000 + 500 * (2 - seq), 500);
                assertEquals(c.address(0), client.server(), "sequence " + seq + ": the client is still on S1");
            }
            assertEquals(1, ServerInternals.server(c.server(0)).sessions().size(), "the session is live at S1");
            assertTrue(ServerInternals.server(c.server(1)).sessions().isEmpty(), "and not at S2");
            assertTrue(Waits.until(() -> c.events.size() >= eventsBefore + 2, Duration.ofSeconds(10)),
                    "S2 reports the refused requests");
            for (MigrationEvent e : c.events.subList(eventsBefore, c.events.size())) {
                assertEquals(MigrationEvent.Role.DESTINATION, e.role(), e.toString());
                assertNotNull(e.failure(), e.toString());
                assertEquals(Reason.NOT_AUTHORIZED, e.failure().reason(), e.toString());
            }

            ClientInternals.migrate(client, c.address(1)); // sequence 3
            assertEquals(c.address(1), client.server(), "a higher sequence migrates the session");
            HandPlayed.echo(client, 4000, 1000);
            client.close();
            c.assertNoAppFailure();
        }
    }
}
