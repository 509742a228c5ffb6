package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.client.internal.ClientInternals;
import org.mtcp.client.internal.ClientSession;
import org.mtcp.internal.crypto.KeySchedule;
import org.mtcp.internal.crypto.X25519;
import org.mtcp.internal.session.Proofs;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.SessionState;
import org.mtcp.internal.wire.Wire;
import org.mtcp.server.ServerInternals;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.WireTestKit;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The attacks of the security issue, each tried as an attacker would and each failing to do harm:
 * a recorded handshake used through a data port and through a control port, a proof relayed to
 * another destination or rewritten for it, forged answers on a control connection. After each the
 * victim streams on, byte-exact, and can still migrate for real.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SessionTheftTest {

    /** Everything a passive observer recorded of the victim's handshake: the HELLO and HELLO_ACK payloads. */
    private record Recording(Message.Hello hello, Message.HelloAck ack, byte[] handshakeBytes) {
        /** @return every 32-byte window of the recorded handshake: an attacker's candidate keys */
        List<byte[]> windows() {
            List<byte[]> w = new ArrayList<>();
            for (int i = 0; i + 32 <= handshakeBytes.length; i++) {
                w.add(Arrays.copyOfRange(handshakeBytes, i, i + 32));
            }
            return w;
        }
    }

    private static Recording record(HandPlayed.GatedRelay tap) throws IOException {
        byte[] up = tap.recordedTowardsTarget();
        byte[] down = tap.recordedFromTarget();
        DataInputStream upIn = new DataInputStream(new ByteArrayInputStream(up, Wire.MAGIC.length, up.length));
        Message.Hello hello = (Message.Hello) WireTestKit.readMessage(upIn, "the recorded HELLO");
        Message.HelloAck ack = (Message.HelloAck) WireTestKit.readMessage(new ByteArrayInputStream(down), "the recorded HELLO_ACK");
        byte[] h = Message.payload(hello);
        byte[] a = Message.payload(ack);
        byte[] both = Arrays.copyOf(h, h.length + a.length);
        System.arraycopy(a, 0, both, h.length, a.length);
        return new Recording(hello, ack, both);
    }

    /** @return the MIGRATE_REJECT a server answers {@code request} with, on a connection of its own */
    private static Message.MigrateReject rejectionOf(InetSocketAddress server, Message.MigrateRequest request, String what)
            throws IOException {
        try (Socket raw = new Socket(server.getAddress(), server.getPort())) {
            raw.setSoTimeout(15_000);
            HandPlayed.sendOpening(raw, Wire.MAGIC, request);
            return HandPlayed.expect(raw, Message.MigrateReject.class, what);
        }
    }

    /** A victim session through a recording relay, one round trip done. */
    private static ClientSession victim(HandPlayed.GatedRelay tap) throws IOException {
        tap.open();
        ClientSession v = ClientInternals.connect(tap.address(), null);
        HandPlayed.echo(v, 0, 1000);
        return v;
    }

    @Test
    void aRecordedHandshakeHoldsNoKeyAndGetsNoSessionThroughADataPort() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1)); HandPlayed.GatedRelay tap = new HandPlayed.GatedRelay(c.address(0))) {
            ClientSession v = victim(tap);
            Recording rec = record(tap);
            byte[] key = ClientInternals.key(v);
            byte[] wire = concat(tap.recordedTowardsTarget(), tap.recordedFromTarget());
            for (KeySchedule.Purpose p : KeySchedule.Purpose.values()) {
                assertFalse(contains(wire, KeySchedule.derive(key, p)), "a key derived for " + p + " is on the wire");
            }
            assertFalse(contains(wire, key), "the session key is on the wire");
            assertEquals(Proofs.hex(rec.ack().sessionId()), v.sessionId(), "the recording is of the victim's handshake");

            // the attacker's best: the recorded id and a proof under every 32 bytes it saw, at S2
            for (byte[] guess : rec.windows()) {
                byte[] pub = X25519.ephemeral().publicKey();
                Message.MigrateRequest forged = new Message.MigrateRequest(rec.ack().sessionId(), c.address(0), c.address(1),
                        0, 1 << 20, 1, pub, Proofs.migrationProof(guess, rec.ack().sessionId(), 1, c.address(0), c.address(1), 0,
                        1 << 20, pub));
                Message.MigrateReject r = rejectionOf(c.address(1), forged, "the answer to a forged request");
                assertEquals(Reason.NOT_AUTHORIZED, r.reason(), r.message());
                assertTrue(r.sessionAlive(), r.message());
                assertTrue(r.message().contains("wrong proof"), r.message());
            }
            HandPlayed.echo(v, 1000, 1000);
            assertEquals(1, ServerInternals.server(c.server(0)).sessions().size(), "the victim is still at S1");
            assertTrue(ServerInternals.server(c.server(1)).sessions().isEmpty(), "nothing arrived at S2");
            ClientInternals.migrate(v, c.address(1)); // and its own migration still works
            HandPlayed.echo(v, 2000, 1000);
            c.assertNoAppFailure();
        }
    }

    @Test
    void aRecordedHandshakeCannotResumeTheSessionOnANewConnection() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1)); HandPlayed.GatedRelay tap = new HandPlayed.GatedRelay(c.address(0))) {
            ClientSession v = victim(tap);
            Recording rec = record(tap);
            byte[] id = rec.ack().sessionId();
            // a resume is a migration from S1 to S1: the same proof, so the same guesses fail
            for (byte[] guess : rec.windows()) {
                byte[] pub = X25519.ephemeral().publicKey();
                Message.MigrateRequest forged = new Message.MigrateRequest(id, c.address(0), c.address(0), 0, 1 << 20, 7, pub,
                        Proofs.migrationProof(guess, id, 7, c.address(0), c.address(0), 0, 1 << 20, pub));
                Message.MigrateReject r = rejectionOf(c.address(0), forged, "the answer to a forged resume");
                assertEquals(Reason.NOT_AUTHORIZED, r.reason(), r.message());
                assertTrue(r.message().contains("wrong proof"), r.message());
            }
            // and even the right key cannot replay a sequence the session has used (the counter of the security issue)
            ClientInternals.migrate(v, c.address(1));
            ClientInternals.migrate(v, c.address(0));
            byte[] key = ClientInternals.key(v);
            byte[] pub = X25519.ephemeral().publicKey();
            Message.MigrateRequest replay = new Message.MigrateRequest(id, c.address(0), c.address(0), 0, 1 << 20, 1, pub,
                    Proofs.migrationProof(key, id, 1, c.address(0), c.address(0), 0, 1 << 20, pub));
            Message.MigrateReject r = rejectionOf(c.address(0), replay, "the answer to a replayed resume");
            assertEquals(Reason.NOT_AUTHORIZED, r.reason(), r.message());
            assertTrue(r.message().contains("replays sequence"), r.message());
            HandPlayed.echo(v, 1000, 1000);
            assertEquals(c.address(0), v.server(), "the victim is untouched at S1");
            c.assertNoAppFailure();
        }
    }

    @Test
    void aForgedAcknowledgementBeyondWhatWasSentEndsAMigratedSessionAtOnce() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1))) {
            ClientSession v = ClientInternals.connect(c.address(0), null);
            HandPlayed.echo(v, 0, 1000);
            ClientInternals.migrate(v, c.address(1));
            HandPlayed.echo(v, 1000, 1000); // idle now: nothing of the session's own is being written
            // a blind injection of an ACK far beyond anything sent (DATA and ACK are not authenticated, as in TCP): a
            // destination that took it would drop its unacknowledged bytes, and a later migration would lose them
            java.nio.ByteBuffer forged = java.nio.ByteBuffer.allocate(Message.Ack.FRAME_SIZE);
            Message.Ack.write(forged, 1L << 40, 1L << 41, 1L << 40);
            forged.flip();
            while (forged.hasRemaining()) {
                v.channel().write(forged);
            }
            IOException e = assertThrows(IOException.class, () -> HandPlayed.echo(v, 2000, 1000));
            assertTrue(String.valueOf(e.getMessage()).contains("beyond what was sent"), "the session ended saying why: " + e);
        }
    }

    @Test
    void aForgedReleaseBeyondWhatItHoldsEndsTheSessionAtOnce() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1))) {
            ClientSession v = ClientInternals.connect(c.address(0), null);
            HandPlayed.echo(v, 0, 1000);
            // an ACK that releases more than it says is held: taken, it would let the server forget bytes it never
            // confirmed, which a later migration would then lack
            java.nio.ByteBuffer forged = java.nio.ByteBuffer.allocate(Message.Ack.FRAME_SIZE);
            Message.Ack.write(forged, 0, 1L << 20, 500);
            forged.flip();
            while (forged.hasRemaining()) {
                v.channel().write(forged);
            }
            IOException e = assertThrows(IOException.class, () -> HandPlayed.echo(v, 1000, 1000));
            assertTrue(String.valueOf(e.getMessage()).contains("beyond what it holds"), "the session ended saying why: " + e);
        }
    }

    @Test
    void aRecordedHandshakeGetsNoStateThroughAControlPort() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1)); HandPlayed.GatedRelay tap = new HandPlayed.GatedRelay(c.address(0))) {
            ClientSession v = victim(tap);
            Recording rec = record(tap);
            InetSocketAddress madeUp = new InetSocketAddress(HandPlayed.LO, 9);
            try (Socket control = HandPlayed.openControl(c.mappings().get(c.address(0)), c.address(1))) {
                long k = 1;
                for (byte[] guess : rec.windows()) {
                    byte[] pub = X25519.ephemeral().publicKey();
                    HandPlayed.send(control, new Message.StateRequest(k, rec.ack().sessionId(), 0, 1 << 20, 1, pub,
                            Proofs.migrationProof(guess, rec.ack().sessionId(), 1, c.address(0), c.address(1), 0, 1 << 20, pub),
                            c.address(1)));
                    Message.StateReject r = HandPlayed.expect(control, Message.StateReject.class, "the answer to a guessed proof");
                    assertEquals(k++, r.key());
                    assertEquals(Reason.NOT_AUTHORIZED, r.reason(), r.message());
                }
                // a made-up destination: refused before the proof is even looked at
                HandPlayed.send(control, WireTestKit.forgedStateRequest(k, rec.ack().sessionId(), 0, 1, madeUp));
                Message.StateReject r = HandPlayed.expect(control, Message.StateReject.class, "the answer for a made-up destination");
                assertEquals(Reason.NOT_AUTHORIZED, r.reason(), r.message());
                assertTrue(r.message().contains(":" + madeUp.getPort() + " as destination"), r.message());
            }
            HandPlayed.echo(v, 1000, 1000);
            assertEquals(c.address(0), v.server(), "the victim is untouched at S1");
            assertEquals(1, ServerInternals.server(c.server(0)).sessions().size(), "and its session is live there");
            c.assertNoAppFailure();
        }
    }

    @Test
    void aProofIsGoodOnlyForTheDestinationItNames() throws Exception {
        try (Cluster c = new Cluster(3, i -> Apps.transformingEcho(16, 1))) {
            ClientSession v = ClientInternals.connect(c.address(0), null);
            HandPlayed.echo(v, 0, 1000);
            // a genuine request for S1 -> S2 (as an observer of the client's MIGRATE_REQ to S2 sees it)
            Message.MigrateRequest seen = ClientInternals.request(v, 1, c.address(0), c.address(1), 1000, 1 << 20);
            try (Socket control = HandPlayed.openControl(c.mappings().get(c.address(0)), c.address(2))) {
                // relayed by S3 as it is
                HandPlayed.send(control, WireTestKit.stateRequest(1, seen));
                Message.StateReject relayed = HandPlayed.expect(control, Message.StateReject.class, "the answer to a relayed proof");
                assertEquals(Reason.NOT_AUTHORIZED, relayed.reason(), relayed.message());
                assertTrue(relayed.message().contains(":" + c.address(1).getPort() + " as destination"), relayed.message());
                // rewritten to name S3: the proof no longer matches
                Message.StateRequest rewritten = new Message.StateRequest(2, seen.sessionId(), seen.downReceived(), seen.credit(),
                        seen.sequence(), seen.clientPublic(), seen.proof(), c.address(2));
                HandPlayed.send(control, rewritten);
                Message.StateReject r = HandPlayed.expect(control, Message.StateReject.class, "the answer to a rewritten request");
                assertEquals(Reason.NOT_AUTHORIZED, r.reason(), r.message());
                assertTrue(r.message().contains("wrong proof"), r.message());
                // the same through S3's data port, as a client: S3 asks S1 naming itself, S1 refuses
                Message.MigrateRequest atS3 = new Message.MigrateRequest(seen.sessionId(), seen.origin(), c.address(2),
                        seen.downReceived(), seen.credit(), seen.sequence(), seen.clientPublic(), seen.proof());
                try (Socket raw = new Socket(c.address(2).getAddress(), c.address(2).getPort())) {
                    raw.setSoTimeout(15_000);
                    HandPlayed.sendOpening(raw, Wire.MAGIC, atS3);
                    Message.MigrateReject rej = HandPlayed.expect(raw, Message.MigrateReject.class, "S3's answer");
                    assertEquals(Reason.NOT_AUTHORIZED, rej.reason(), rej.message());
                }
            }
            HandPlayed.echo(v, 1000, 1000);
            assertEquals(1, ServerInternals.server(c.server(0)).sessions().size(), "the victim is still at S1");
            ClientInternals.migrate(v, c.address(1)); // sequence 1 was never used up by the refused attempts
            HandPlayed.echo(v, 2000, 1000);
            assertEquals(c.address(1), v.server());
            c.assertNoAppFailure();
        }
    }

    @Test
    void forgedAnswersOnAControlConnectionChangeNothing() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1))) {
            ClientSession v = ClientInternals.connect(c.address(0), null);
            HandPlayed.echo(v, 0, 1000);
            SessionState st = new SessionState();
            st.sessionId = Proofs.random(16);
            st.key = Proofs.random(32);
            try (Socket control = HandPlayed.openControl(c.mappings().get(c.address(0)), c.address(1))) {
                // commits and aborts of transfers that do not exist, a state nobody asked for
                HandPlayed.send(control, new Message.StateAck(1));
                HandPlayed.send(control, new Message.StateAbort(2));
                HandPlayed.send(control, new Message.StateReject(3, Reason.OTHER, "forged"));
                HandPlayed.send(control, new Message.StateReply(4, st));
                Message.StateAbort answer = HandPlayed.expect(control, Message.StateAbort.class, "S1's answer to an unasked state");
                assertEquals(4, answer.key(), "S1 refuses the state it never asked for");
                // the connection still serves: the victim's real session is answered as usual
                HandPlayed.send(control, WireTestKit.forgedStateRequest(5, ClientInternals.id(v), 1000, 1, c.address(1)));
                assertEquals(Reason.NOT_AUTHORIZED,
                        HandPlayed.expect(control, Message.StateReject.class, "the next answer").reason());
            }
            assertEquals(1, ServerInternals.server(c.server(0)).sessions().size(), "no session was injected at S1");
            HandPlayed.echo(v, 1000, 1000);
            ClientInternals.migrate(v, c.address(1));
            HandPlayed.echo(v, 2000, 1000);
            c.assertNoAppFailure();
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static boolean contains(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
