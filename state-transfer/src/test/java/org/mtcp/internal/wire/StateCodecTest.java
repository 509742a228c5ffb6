package org.mtcp.internal.wire;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mtcp.internal.testkit.Seeds;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Kryo state record: round trips, and refuses malformed bytes from a peer with a clear error.
 * Random cases print their seed on failure; {@code -Dmtcp.test.seed=N} replays one.
 */
class StateCodecTest {
    @RegisterExtension
    final Seeds seeds = new Seeds();

    static SessionState sample(Random r) {
        return sample(r, 20_000);
    }

    /** @return a valid random record whose byte arrays hold at most {@code maxBytes} each */
    static SessionState sample(Random r, int maxBytes) {
        SessionState s = new SessionState();
        s.sessionId = new byte[16];
        r.nextBytes(s.sessionId); // from the seed, not Proofs.random: a case replays exactly
        s.key = new byte[32];
        r.nextBytes(s.key);
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
        // scenario 1 carries [downSeen, downSnap); scenario 2 (no bytes) has the client at or past the snapshot
        s.downSnap = s.downBytes.length > 0 ? s.downSeen + s.downBytes.length : s.downSeen - r.nextInt(Math.min(100, (int) s.downSeen + 1));
        s.downFinAtSnap = r.nextBoolean();
        s.downSentLimit = s.downSeen + r.nextInt(1 << 20);
        return s;
    }

    @RepeatedTest(20)
    void roundTrips() throws ProtocolException {
        SessionState s = sample(seeds.random());
        byte[] b = StateCodec.encode(s);
        assertEquals(s, StateCodec.decode(b, 0, b.length));
    }

    @RepeatedTest(10)
    void framesRoundTrip() throws ProtocolException {
        SessionState s = sample(seeds.random());
        java.nio.ByteBuffer f = new Message.StateReply(42, s).encode();
        int word = f.getInt(0);
        assertEquals(Wire.STATE_REPLY, Frames.headerType(word));
        assertEquals(f.remaining() - 4, Frames.headerLength(word));
        assertEquals(42, f.getLong(4));
        byte[] record = new byte[f.remaining() - 12];
        f.get(12, record);
        assertEquals(s, StateCodec.decode(record, 0, record.length));
    }

    /**
     * A frame buffer given back is reused by the next frame, whatever its size: the second frame
     * holds exactly its own record (no byte of the first one, longer, shows through), and a frame not
     * given back is never written over.
     */
    @RepeatedTest(10)
    void aFrameGivenBackIsReusedWithoutLeftovers() throws ProtocolException {
        Random r = seeds.random();
        SessionState big = sample(r, 200_000);
        SessionState small = sample(r, 2_000);
        java.nio.ByteBuffer first = StateCodec.encodeFrame(big, Wire.STATE_REPLY, 1);
        StateCodec.releaseFrame(first);
        java.nio.ByteBuffer second = StateCodec.encodeFrame(small, Wire.STATE_REPLY, 2);
        java.nio.ByteBuffer third = StateCodec.encodeFrame(big, Wire.STATE_REPLY, 3); // the spare is taken: a new one
        assertTrue(second != third, "two frames in flight share a buffer");
        assertEquals(small, recordOf(second, 2));
        assertEquals(big, recordOf(third, 3));
        StateCodec.releaseFrame(second);
        StateCodec.releaseFrame(third);
    }

    private static SessionState recordOf(java.nio.ByteBuffer frame, long key) throws ProtocolException {
        int word = frame.getInt(frame.position());
        assertEquals(Wire.STATE_REPLY, Frames.headerType(word));
        assertEquals(frame.remaining() - 4, Frames.headerLength(word));
        assertEquals(key, frame.getLong(frame.position() + 4));
        byte[] record = new byte[frame.remaining() - 12];
        frame.get(frame.position() + 12, record);
        return StateCodec.decode(record, 0, record.length);
    }

    @RepeatedTest(300)
    void mutatedRecordsDecodeToAValidRecordOrFailWithAProtocolError() {
        Random r = seeds.random();
        SessionState original = sample(r);
        byte[] encoded = StateCodec.encode(original);
        byte[] b = encoded.clone();
        if (r.nextBoolean()) {
            b = Arrays.copyOf(b, r.nextInt(b.length + 1));
        }
        for (int m = r.nextInt(4); m >= 0 && b.length > 0; m--) {
            b[r.nextInt(b.length)] = (byte) r.nextInt(256);
        }
        boolean unchanged = Arrays.equals(encoded, b);
        String kind = (unchanged ? "an unchanged" : "a mutated") + " record of " + b.length + " bytes";
        SessionState decoded;
        try {
            decoded = StateCodec.decode(b, 0, b.length);
        } catch (ProtocolException e) {
            assertTrue(!unchanged, kind + " was refused: " + e.getMessage());
            assertTrue(e.getMessage() != null && e.getMessage().contains("session state record"),
                    kind + ": the error says what was malformed: " + e.getMessage());
            return;
        } catch (Throwable t) {
            throw new AssertionError(kind + ": only ProtocolException may escape", t);
        }
        if (unchanged) {
            assertEquals(original, decoded, kind + " decodes to the record encoded");
        }
        // whatever was accepted is a record the checks allow, and travels on unchanged
        assertEquals(16, decoded.sessionId.length, kind + ": session id");
        assertEquals(decoded.upSnap + decoded.upBytes.length + (decoded.upFin ? 1 : 0), decoded.upResume,
                kind + ": up resume offset follows the up bytes");
        assertTrue(decoded.downBytes.length == 0 || decoded.downSeen + decoded.downBytes.length == decoded.downSnap,
                kind + ": down bytes span [downSeen, downSnap)");
        byte[] again = StateCodec.encode(decoded);
        try {
            assertEquals(decoded, StateCodec.decode(again, 0, again.length), kind + ": the accepted record round trips");
        } catch (ProtocolException e) {
            throw new AssertionError(kind + ": the accepted record, encoded again, was refused", e);
        }
    }

    @Test
    void aRecordThatLeavesAHoleInTheDownStreamIsRefused() {
        SessionState s = sample(new Random(2));
        s.downBytes = new byte[0];
        s.downSnap = s.downSeen + 10; // the client lacks ten bytes below the snapshot, and none are packed
        byte[] b = StateCodec.encode(s);
        ProtocolException e = assertThrows(ProtocolException.class, () -> StateCodec.decode(b, 0, b.length));
        assertTrue(e.getMessage().contains("which the client lacks"), e.getMessage());
    }

    @Test
    void inconsistentOffsetsAreRefused() {
        SessionState s = sample(new Random(1));
        s.upResume += 5;
        byte[] b = StateCodec.encode(s);
        assertThrows(ProtocolException.class, () -> StateCodec.decode(b, 0, b.length));
    }
}
