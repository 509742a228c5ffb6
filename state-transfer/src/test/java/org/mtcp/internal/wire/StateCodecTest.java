package org.mtcp.internal.wire;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.mtcp.internal.session.Proofs;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The Kryo state record: round trips, and refuses malformed bytes from a peer with a clear error. */
class StateCodecTest {

    static SessionState sample(Random r) {
        return sample(r, 20_000);
    }

    /** @return a valid random record whose byte arrays hold at most {@code maxBytes} each */
    static SessionState sample(Random r, int maxBytes) {
        SessionState s = new SessionState();
        s.sessionId = Proofs.random(16);
        s.secret = Proofs.random(32);
        s.migrationSeq = r.nextInt(100);
        s.migrations = r.nextInt(10);
        s.appState = new byte[r.nextInt(maxBytes)];
        r.nextBytes(s.appState);
        s.upSnap = r.nextInt(1 << 20);
        s.upBytes = new byte[r.nextInt(Math.min(maxBytes, 5000))];
        s.upFin = r.nextBoolean();
        s.upResume = s.upSnap + s.upBytes.length + (s.upFin ? 1 : 0);
        s.downSeen = r.nextInt(1 << 20);
        s.downBytes = new byte[r.nextBoolean() ? r.nextInt(Math.min(maxBytes, 5000)) : 0];
        s.downSnap = s.downSeen + s.downBytes.length + (s.downBytes.length == 0 ? r.nextInt(100) : 0);
        s.downFinAtSnap = r.nextBoolean();
        return s;
    }

    @RepeatedTest(20)
    void roundTrips() throws ProtocolException {
        SessionState s = sample(new Random(System.nanoTime()));
        byte[] b = StateCodec.encode(s);
        assertEquals(s, StateCodec.decode(b, 0, b.length));
    }

    @RepeatedTest(10)
    void framesRoundTrip() throws ProtocolException {
        SessionState s = sample(new Random(System.nanoTime()));
        java.nio.ByteBuffer f = new Message.StateReply(42, s).encode();
        int word = f.getInt(0);
        assertEquals(Wire.STATE_REPLY, Frames.headerType(word));
        assertEquals(f.remaining() - 4, Frames.headerLength(word));
        assertEquals(42, f.getLong(4));
        byte[] record = new byte[f.remaining() - 12];
        f.get(12, record);
        assertEquals(s, StateCodec.decode(record, 0, record.length));
    }

    @RepeatedTest(300)
    void mutatedRecordsDecodeOrFailWithAProtocolError() {
        long seed = System.nanoTime();
        Random r = new Random(seed);
        byte[] b = StateCodec.encode(sample(r));
        if (r.nextBoolean()) {
            b = java.util.Arrays.copyOf(b, r.nextInt(b.length + 1));
        }
        for (int m = r.nextInt(4); m >= 0 && b.length > 0; m--) {
            b[r.nextInt(b.length)] = (byte) r.nextInt(256);
        }
        try {
            StateCodec.decode(b, 0, b.length);
        } catch (ProtocolException e) {
            // the only acceptable failure
        } catch (Throwable t) {
            throw new AssertionError("seed " + seed + ": only ProtocolException may escape", t);
        }
    }

    @Test
    void inconsistentOffsetsAreRefused() {
        SessionState s = sample(new Random(1));
        s.upResume += 5;
        byte[] b = StateCodec.encode(s);
        assertThrows(ProtocolException.class, () -> StateCodec.decode(b, 0, b.length));
    }

    @Test
    void proofsBindTheSecretTheSessionAndTheSequence() {
        byte[] secret = Proofs.random(32);
        byte[] id = Proofs.random(16);
        byte[] proof = Proofs.migrationProof(secret, id, 7);
        assertEquals(true, Proofs.verify(secret, id, 7, proof));
        assertEquals(false, Proofs.verify(secret, id, 8, proof));
        assertEquals(false, Proofs.verify(Proofs.random(32), id, 7, proof));
        assertEquals(false, Proofs.verify(secret, Proofs.random(16), 7, proof));
    }
}
