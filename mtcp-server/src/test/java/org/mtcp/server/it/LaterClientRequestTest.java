package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.client.internal.ClientInternals;
import org.mtcp.client.internal.ClientSession;
import org.mtcp.internal.crypto.KeySchedule;
import org.mtcp.internal.crypto.X25519;
import org.mtcp.internal.session.Proofs;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.Wire;
import org.mtcp.server.ServerInternals;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;

import java.net.Socket;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A request from a client of a later build, whose initiation code this build does not know: the destination
 * reports it as unknown and takes the session, and its MIGRATE_ACK confirms under the key the client computes
 * from the bytes it sent (the destination hashes the request as it came, not as this build would write it).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LaterClientRequestTest {

    @Test
    void anInitiationThisBuildDoesNotKnowStillMigratesAndConfirms() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1)); Socket raw = new Socket()) {
            ClientSession v = ClientInternals.connect(c.address(0), null);
            HandPlayed.echo(v, 0, 1000);
            byte[] key = ClientInternals.key(v);
            byte[] id = ClientInternals.id(v);
            X25519.Ephemeral mine = X25519.ephemeral();
            byte[] pub = mine.publicKey();
            Message.MigrateRequest request = new Message.MigrateRequest(id, c.address(0), c.address(1), 1000, 1 << 20, 1, pub,
                    Proofs.migrationProof(key, id, 1, c.address(0), c.address(1), 1000, 1 << 20, pub), 0x7e);
            assertEquals(MigrationEvent.Initiation.UNKNOWN, request.initiation());
            raw.connect(c.address(1), 10_000);
            raw.setSoTimeout(20_000);
            HandPlayed.sendOpening(raw, Wire.MAGIC, request);
            Message.MigrateAck ack = HandPlayed.expect(raw, Message.MigrateAck.class, "S2's answer");
            byte[] rotated = KeySchedule.rotatedKey(key, mine.agree(ack.serverPublic()), Message.payload(request));
            assertTrue(Proofs.verifyAck(rotated, request, ack), "the confirmation is under the key of the bytes the client sent");
            assertEquals(1, ServerInternals.server(c.server(1)).sessions().size(), "the session is at S2");
        }
    }
}
