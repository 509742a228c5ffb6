package org.mtcp.internal.wire;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.internal.testkit.Seeds;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The typed codec against valid, random and mutated input, in random pieces. Valid streams decode
 * to exactly the messages encoded; anything else either decodes to the frames its headers announce,
 * each re-encoding to a fixed point, or fails with a {@link ProtocolException} naming the connection.
 * Nothing else escapes, and nothing keeps more than a frame's limit. Seeds: {@code -Dmtcp.test.seed}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FrameReaderFuzzTest {
    private static final int MAX_CONTROL = 512;

    @RegisterExtension
    final Seeds seeds = new Seeds();

    /** Collects every decoded message and the DATA bytes. */
    private static final class Collector implements FrameReader.Handler {
        final ByteArrayOutputStream data = new ByteArrayOutputStream();
        final List<Message> messages = new ArrayList<>();
        int dataFrames;

        @Override
        public void onData(ByteBuffer buf, int pos, int length) {
            byte[] b = new byte[length];
            buf.get(pos, b);
            data.write(b, 0, length);
        }

        @Override public void onAck(long held, long credit, long release) { messages.add(new Message.Ack(held, credit, release)); }
        @Override public void onFin(long at) { messages.add(new Message.Fin(at)); }
        @Override public void onHello(Message.Hello m) { messages.add(m); }
        @Override public void onHelloAck(Message.HelloAck m) { messages.add(m); }
        @Override public void onMigrateRequest(Message.MigrateRequest m) { messages.add(m); }
        @Override public void onMigrateAck(Message.MigrateAck m) { messages.add(m); }
        @Override public void onMigrateReject(Message.MigrateReject m) { messages.add(m); }
        @Override public void onTrigger(Message.Trigger m) { messages.add(m); }
        @Override public void onError(Message.Error m) { messages.add(m); }
        @Override public void onMoved(Message.Moved m) { messages.add(m); }
        @Override public void onSealed(Message.Sealed m) { messages.add(m); }
        @Override public void onControlHello(Message.ControlHello m) { messages.add(m); }
        @Override public void onStateRequest(Message.StateRequest m) { messages.add(m); }
        @Override public void onStateReply(Message.StateReply m) { messages.add(m); }
        @Override public void onStateReject(Message.StateReject m) { messages.add(m); }
        @Override public void onStateAck(Message.StateAck m) { messages.add(m); }
        @Override public void onStateAbort(Message.StateAbort m) { messages.add(m); }
        @Override public void onTriggerResult(Message.TriggerResult m) { messages.add(m); }
        @Override public void onMoveRequest(Message.MoveRequest m) { messages.add(m); }
        @Override public void onMoveResult(Message.MoveResult m) { messages.add(m); }
        @Override public void onAlternates(Message.Alternates m) { messages.add(m); }
        @Override public void onReset(Message.Reset m) { messages.add(m); }
    }

    static InetSocketAddress address(Random r) {
        try {
            byte[] raw = new byte[r.nextBoolean() ? 4 : 16];
            r.nextBytes(raw);
            if (raw.length == 16) {
                raw[0] = 0x20; // never an IPv4-mapped address: those decode as IPv4
            }
            return new InetSocketAddress(InetAddress.getByAddress(raw), r.nextInt(65536));
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    private static long offset(Random r) {
        return r.nextLong() & Long.MAX_VALUE;
    }

    /** @return a random message of every type in turn, {@code i} choosing which */
    /** How many frame types {@link #sample} makes (every one but DATA). */
    static final int SAMPLE_TYPES = 22;

    static Message sample(Random r, int i) {
        Reason reason = Reason.values()[r.nextInt(Reason.values().length)];
        List<InetSocketAddress> alternates = new ArrayList<>();
        for (int k = r.nextInt(4); k > 0; k--) {
            alternates.add(address(r));
        }
        String text = "why " + r.nextInt() + " \u00e9";
        switch (i % SAMPLE_TYPES) {
            case 0: return new Message.Hello(r.nextInt(256), offset(r), bytes(r, 32));
            case 1: return new Message.HelloAck(bytes(r, 16), bytes(r, 32), offset(r), address(r), List.copyOf(alternates));
            case 2: return new Message.MigrateRequest(bytes(r, 16), address(r), address(r), offset(r), offset(r), r.nextLong(),
                    bytes(r, 32), bytes(r, 32), r.nextInt(256));
            case 3: return new Message.MigrateAck(offset(r), offset(r), offset(r), address(r), List.copyOf(alternates),
                    bytes(r, 32), bytes(r, 32));
            case 4: return new Message.MigrateReject(reason, r.nextBoolean(), text);
            case 5: return new Message.Ack(offset(r), offset(r), offset(r));
            case 6: return new Message.Fin(offset(r));
            case 7: return new Message.Trigger(r.nextBoolean() ? address(r) : null);
            case 8: return new Message.Error(text);
            case 9: return new Message.Moved();
            case 10: return new Message.ControlHello(address(r));
            case 11: return new Message.StateRequest(r.nextLong(), bytes(r, 16), offset(r), offset(r), r.nextLong(), bytes(r, 32),
                    bytes(r, 32), address(r));
            case 12: return new Message.StateReply(r.nextLong(), StateCodecTest.sample(r, 200));
            case 13: return new Message.StateReject(r.nextLong(), reason, text);
            case 14: return new Message.StateAck(r.nextLong());
            case 15: return new Message.Sealed(r.nextLong(), r.nextInt(256), bytes(r, r.nextInt(40)), bytes(r, 16));
            case 16: return new Message.TriggerResult(Message.TriggerResult.Outcome.values()[r.nextInt(3)], reason,
                    r.nextBoolean() ? address(r) : null, text);
            case 17: return new Message.MoveRequest(r.nextLong(), bytes(r, 16), address(r));
            case 19: return new Message.Alternates(List.copyOf(alternates));
            case 21: return new Message.Reset(text);
            case 18: return new Message.MoveResult(r.nextLong(), r.nextBoolean(), r.nextBoolean(), reason,
                    r.nextBoolean() ? address(r) : null, text);
            default: return new Message.StateAbort(r.nextLong());
        }
    }

    private static byte[] bytesOf(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static void feed(byte[] input, Random r, FrameReader p, FrameReader.Handler h) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(input.length + 16);
        buf.put(0, input);
        int at = 0;
        while (at < input.length) {
            int n = Math.min(input.length - at, 1 + r.nextInt(64));
            p.parse(buf, at, at + n, h);
            at += n;
        }
    }

    @RepeatedTest(20)
    void everyMessageRoundTripsWhateverThePieces() throws IOException {
        roundTripsWhateverThePieces(false);
    }

    /** The same with payloads collected into arrays of their announced length (a control peer that said who it is). */
    @RepeatedTest(20)
    void everyMessageRoundTripsWhateverThePiecesWhenPayloadsAreAllocatedWhole() throws IOException {
        roundTripsWhateverThePieces(true);
    }

    private void roundTripsWhateverThePieces(boolean allocateWhole) throws IOException {
        long seed = seeds.seed();
        Random r = new Random(seed);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        List<byte[]> encoded = new ArrayList<>();
        for (int f = 0; f < 64; f++) {
            if (r.nextInt(3) == 0) {
                byte[] payload = bytes(r, r.nextInt(3000));
                ByteBuffer h = ByteBuffer.allocate(4);
                Frames.dataHeader(h, payload.length);
                wire.write(h.array(), 0, 4);
                wire.write(payload, 0, payload.length);
                data.write(payload, 0, payload.length);
            } else {
                byte[] frame = bytesOf(sample(r, f));
                encoded.add(frame);
                wire.write(frame, 0, frame.length);
            }
        }
        Collector c = new Collector();
        FrameReader p = new FrameReader("test connection", true, Wire.MAX_CONTROL_CONNECTION_PAYLOAD);
        if (allocateWhole) {
            p.allocateWholePayloads();
        }
        feed(wire.toByteArray(), r, p, c);
        assertArrayEquals(data.toByteArray(), c.data.toByteArray(), "DATA bytes, seed " + seed);
        assertEquals(encoded.size(), c.messages.size(), "messages, seed " + seed);
        for (int i = 0; i < encoded.size(); i++) {
            assertArrayEquals(encoded.get(i), bytesOf(c.messages.get(i).encode()), "message " + i + " (" + c.messages.get(i)
                    .getClass().getSimpleName() + "), seed " + seed);
        }
        assertTrue(p.atFrameBoundary(), "seed " + seed);
    }

    /**
     * Big state replies (payloads of 64 KiB and more, collected in a kept direct buffer) between small
     * frames, fed as a control connection feeds them: through {@link FrameReader#parse} in pieces, and,
     * while a big payload is open, read straight into {@link FrameReader#payloadSink} in pieces. Every
     * record arrives exactly as sent, and the frames after it too.
     */
    @RepeatedTest(10)
    void bigStateRepliesArriveWholeThroughTheSinkAndThroughParse() throws IOException {
        long seed = seeds.seed();
        Random r = new Random(seed);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        List<byte[]> encoded = new ArrayList<>();
        for (int f = 0; f < 6; f++) {
            SessionState st = StateCodecTest.sample(r, 300_000);
            st.appState = bytes(r, 64 * 1024 + r.nextInt(300_000));
            Message[] frames = {new Message.StateReply(f, st), new Message.StateAck(f)};
            for (Message m : frames) {
                byte[] b = bytesOf(m);
                encoded.add(b);
                wire.write(b, 0, b.length);
            }
        }
        byte[] input = wire.toByteArray();
        Collector c = new Collector();
        FrameReader p = new FrameReader("test connection", false, Wire.MAX_CONTROL_CONNECTION_PAYLOAD);
        p.allocateWholePayloads();
        ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
        int at = 0;
        int sinkReads = 0;
        while (at < input.length) {
            ByteBuffer sink = p.payloadSink();
            if (sink != null && r.nextInt(4) != 0) {
                int n = Math.min(sink.remaining(), 1 + r.nextInt(100_000));
                sink.put(input, at, n);
                p.sinkFilled(c);
                at += n;
                sinkReads++;
            } else {
                int n = Math.min(Math.min(input.length - at, buf.capacity()), 1 + r.nextInt(70_000));
                buf.put(0, input, at, n);
                p.parse(buf, 0, n, c);
                at += n;
            }
        }
        assertTrue(sinkReads > 0, "seed " + seed + ": no read went into the sink");
        assertEquals(encoded.size(), c.messages.size(), "messages, seed " + seed);
        for (int i = 0; i < encoded.size(); i++) {
            assertArrayEquals(encoded.get(i), bytesOf(c.messages.get(i)), "message " + i + ", seed " + seed);
        }
        assertTrue(p.atFrameBoundary() && p.payloadSink() == null, "seed " + seed);
    }

    private static byte[] bytesOf(Message m) {
        return bytesOf(m.encode());
    }

    /**
     * Walks the headers of {@code input} as the reader must: the non-DATA frames that are complete
     * and the DATA bytes they carry, up to the first header that breaks a limit (-1 frames then).
     */
    private static int[] expectedFrames(byte[] input, boolean dataAllowed) {
        int frames = 0;
        int dataBytes = 0;
        int p = 0;
        while (p + 4 <= input.length) {
            int word = ByteBuffer.wrap(input, p, 4).getInt();
            int type = Frames.headerType(word);
            int len = Frames.headerLength(word);
            boolean data = type == Wire.DATA;
            if (data ? !dataAllowed || len > Wire.MAX_DATA_PAYLOAD_ACCEPTED : len > MAX_CONTROL) {
                return new int[] {-1, dataBytes};
            }
            int have = Math.min(len, input.length - p - 4);
            if (data) {
                dataBytes += have;
            } else if (have == len) {
                frames++;
            }
            p += 4 + len;
        }
        return new int[] {frames, dataBytes};
    }

    @RepeatedTest(300)
    void randomAndMutatedInputDecodesAsItsHeadersSayOrFailsClearly() throws ProtocolException {
        long seed = seeds.seed();
        Random r = new Random(seed);
        byte[] input;
        if (r.nextInt(3) == 0) {
            input = bytes(r, r.nextInt(5000));
        } else {
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            for (int f = 0; f < 20; f++) {
                Message m = sample(r, r.nextInt(SAMPLE_TYPES));
                byte[] b = m.type() == Wire.STATE_REPLY ? bytesOf(new Message.StateAck(1)) : bytesOf(m);
                wire.write(b, 0, b.length);
            }
            input = wire.toByteArray();
            for (int m = 1 + r.nextInt(5); m > 0 && input.length > 0; m--) {
                input[r.nextInt(input.length)] = (byte) r.nextInt(256);
            }
        }
        boolean dataAllowed = r.nextBoolean();
        FrameReader p = new FrameReader("test connection", dataAllowed, MAX_CONTROL);
        if (r.nextBoolean()) {
            p.allocateWholePayloads(); // the limits hold the same when a payload's array is made whole
        }
        Collector c = new Collector();
        try {
            feed(input, r, p, c);
        } catch (ProtocolException e) {
            assertTrue(e.getMessage().contains("test connection"), "seed " + seed + ": the error names the connection: "
                    + e.getMessage());
            return;
        } catch (Throwable t) {
            throw new AssertionError("seed " + seed + ": only ProtocolException may escape the decoder", t);
        }
        int[] expected = expectedFrames(input, dataAllowed);
        assertEquals(expected[0], c.messages.size(), "seed " + seed + ": frames decoded vs complete frames in the input");
        assertEquals(expected[1], c.data.size(), "seed " + seed + ": DATA bytes handed over");
        for (Message m : c.messages) {
            byte[] once = bytesOf(m);
            assertTrue(once.length - 4 <= MAX_CONTROL, "seed " + seed + ": a payload beyond the limit was kept");
            Message again = Message.decode(m.type(), ByteBuffer.wrap(once, 4, once.length - 4).slice(), "re-decode");
            assertArrayEquals(once, bytesOf(again), "seed " + seed + ": " + m + " re-encodes to a fixed point");
        }
    }

    @RepeatedTest(50)
    void everyDecoderRefusesGarbagePayloadsClearly() {
        long seed = seeds.seed();
        Random r = new Random(seed);
        int[] types = {Wire.HELLO, Wire.HELLO_ACK, Wire.MIGRATE_REQ, Wire.MIGRATE_ACK, Wire.MIGRATE_REJECT, Wire.ACK, Wire.FIN,
            Wire.TRIGGER, Wire.ERROR, Wire.MOVED, Wire.CTRL_HELLO, Wire.STATE_REQUEST, Wire.STATE_REPLY, Wire.STATE_REJECT,
            Wire.STATE_ACK, Wire.STATE_ABORT, Wire.SEALED, Wire.TRIGGER_RESULT, Wire.MOVE_REQUEST, Wire.MOVE_RESULT, Wire.ALTERNATES, 0x7f};
        int decoded = 0;
        int refused = 0;
        for (int type : types) {
            for (int k = 0; k < 20; k++) {
                byte[] payload = bytes(r, r.nextInt(k < 10 ? 24 : 200));
                try {
                    Message m = Message.decode(type, ByteBuffer.wrap(payload), "a test frame");
                    assertEquals(type, m.type(), "seed " + seed);
                    decoded++;
                } catch (ProtocolException e) {
                    assertTrue(e.getMessage().contains("a test frame"), "seed " + seed + ": " + e.getMessage());
                    refused++;
                }
            }
        }
        assertEquals(types.length * 20, decoded + refused);
        assertTrue(refused > 0, "seed " + seed + ": garbage must be refused somewhere");
    }

    @Test
    void truncatedAndOverlongPayloadsOfEveryTypeAreRefused() {
        Random r = new Random(7);
        for (int i = 0; i < SAMPLE_TYPES; i++) {
            Message m = sample(r, i);
            if (m instanceof Message.Sealed) {
                continue; // its inner payload has no length of its own: the tag refuses a cut one (ControlSealTest)
            }
            byte[] frame = bytesOf(m);
            int len = frame.length - 4;
            if (len > 0) {
                ProtocolException cut = assertThrows(ProtocolException.class,
                        () -> Message.decode(m.type(), ByteBuffer.wrap(frame, 4, len - 1).slice(), "a test frame"), m.toString());
                assertTrue(cut.getMessage().contains("a test frame"), cut.getMessage());
            }
            byte[] longer = java.util.Arrays.copyOfRange(frame, 4, frame.length + 1);
            assertThrows(ProtocolException.class, () -> Message.decode(m.type(), ByteBuffer.wrap(longer), "a test frame"),
                    m.toString());
        }
    }

    @Test
    void hugeLengthsAreRefusedFromTheHeaderAlone() {
        FrameReader p = new FrameReader("test connection", true, MAX_CONTROL);
        ByteBuffer b = ByteBuffer.allocate(4).putInt(0, (Wire.STATE_REPLY << 24) | Wire.MAX_LENGTH);
        ProtocolException e = assertThrows(ProtocolException.class, () -> p.parse(b, 0, 4, new Collector()));
        assertTrue(e.getMessage().contains("exceeds the limit"), e.getMessage());
        FrameReader noData = new FrameReader("control connection", false, MAX_CONTROL);
        ByteBuffer d = ByteBuffer.allocate(4);
        Frames.dataHeader(d, 1);
        assertThrows(ProtocolException.class, () -> noData.parse(d, 0, 4, new Collector()));
        FrameReader big = new FrameReader("data connection", true, MAX_CONTROL);
        ByteBuffer huge = ByteBuffer.allocate(4);
        Frames.dataHeader(huge, Wire.MAX_DATA_PAYLOAD_ACCEPTED + 1);
        assertThrows(ProtocolException.class, () -> big.parse(huge, 0, 4, new Collector()));
    }

    @Test
    void aFrameTheConnectionDoesNotCarryIsRefusedByName() {
        FrameReader p = new FrameReader("session 1234 to S1", true, MAX_CONTROL);
        ByteBuffer frame = new Message.StateAck(3).encode();
        FrameReader.Handler dataOnly = new FrameReader.Handler() {
            @Override
            public void onData(ByteBuffer buf, int pos, int length) {
            }
        };
        ProtocolException e = assertThrows(ProtocolException.class, () -> p.parse(frame, 0, frame.limit(), dataOnly));
        assertEquals("unexpected STATE_ACK frame on session 1234 to S1", e.getMessage());
    }

    @Test
    void aMigrateRequestWithAnInitiationThisBuildDoesNotKnowReEncodesToTheClientsBytes() throws ProtocolException {
        Random r = new Random(13);
        Message.MigrateRequest sent = new Message.MigrateRequest(bytes(r, 16), address(r), address(r), 1, 2, 3, bytes(r, 32),
                bytes(r, 32), 0x7e); // a later build's code
        byte[] frame = bytesOf(sent);
        Message.MigrateRequest got = (Message.MigrateRequest) Message.decode(Wire.MIGRATE_REQ,
                ByteBuffer.wrap(frame, 4, frame.length - 4).slice(), "a test frame");
        assertEquals(org.mtcp.api.MigrationEvent.Initiation.UNKNOWN, got.initiation(), "reported as unknown");
        // the destination hashes the payload it re-encodes into the rotated key and the MIGRATE_ACK confirmation
        assertArrayEquals(Message.payload(sent), Message.payload(got), "the payload re-encodes to the client's bytes");
    }
}
