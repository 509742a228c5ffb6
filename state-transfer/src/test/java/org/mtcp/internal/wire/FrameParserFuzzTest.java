package org.mtcp.internal.wire;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
 * The frame decoder against random and mutated input, in random pieces: it either decodes or throws
 * a {@link ProtocolException} saying what was wrong and where; it never throws anything else, never
 * hangs, and never keeps more than the limit of a frame.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FrameParserFuzzTest {
    private static final int MAX_CONTROL = 512;

    /** Collects what the parser hands over. */
    private static final class Collector implements FrameParser.Handler {
        final ByteArrayOutputStream data = new ByteArrayOutputStream();
        final List<byte[]> frames = new ArrayList<>();
        final List<Integer> types = new ArrayList<>();

        @Override
        public void onData(ByteBuffer buf, int pos, int length) {
            byte[] b = new byte[length];
            buf.get(pos, b);
            data.write(b, 0, length);
        }

        @Override
        public void onFrame(int type, ByteBuffer payload) {
            assertTrue(payload.remaining() <= MAX_CONTROL, "a non-DATA payload beyond the limit was kept");
            byte[] b = new byte[payload.remaining()];
            payload.get(b);
            frames.add(b);
            types.add(type);
        }
    }

    private static void feed(byte[] input, Random r, FrameParser p, FrameParser.Handler h) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(input.length + 16);
        buf.put(0, input);
        int at = 0;
        while (at < input.length) {
            int n = Math.min(input.length - at, 1 + r.nextInt(64));
            p.parse(buf, at, at + n, h);
            at += n;
        }
    }

    private static byte[] validStream(Random r, ByteArrayOutputStream data, List<byte[]> frames) {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        for (int f = 0; f < 50; f++) {
            boolean isData = r.nextBoolean();
            int len = isData ? r.nextInt(2000) : r.nextInt(MAX_CONTROL + 1);
            byte[] payload = new byte[len];
            r.nextBytes(payload);
            ByteBuffer h = ByteBuffer.allocate(4);
            Frames.frameHeader(h, isData ? Wire.DATA : Wire.ACK + r.nextInt(5), len);
            wire.write(h.array(), 0, 4);
            wire.write(payload, 0, len);
            if (isData) {
                data.write(payload, 0, len);
            } else {
                frames.add(payload);
            }
        }
        return wire.toByteArray();
    }

    @RepeatedTest(20)
    void validStreamsDecodeExactlyWhateverThePieces() throws IOException {
        Random r = new Random(System.nanoTime());
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        List<byte[]> frames = new ArrayList<>();
        byte[] wire = validStream(r, data, frames);
        Collector c = new Collector();
        FrameParser p = new FrameParser("test connection", true, MAX_CONTROL);
        feed(wire, r, p, c);
        assertArrayEquals(data.toByteArray(), c.data.toByteArray());
        assertEquals(frames.size(), c.frames.size());
        for (int i = 0; i < frames.size(); i++) {
            assertArrayEquals(frames.get(i), c.frames.get(i));
        }
        assertTrue(p.atFrameBoundary());
    }

    @RepeatedTest(200)
    void randomAndMutatedInputEitherDecodesOrFailsClearly() {
        long seed = System.nanoTime();
        Random r = new Random(seed);
        byte[] input;
        if (r.nextBoolean()) {
            input = new byte[r.nextInt(5000)];
            r.nextBytes(input);
        } else {
            input = validStream(r, new ByteArrayOutputStream(), new ArrayList<>());
            for (int m = 1 + r.nextInt(5); m > 0 && input.length > 0; m--) {
                input[r.nextInt(input.length)] = (byte) r.nextInt(256);
            }
        }
        FrameParser p = new FrameParser("test connection", r.nextBoolean(), MAX_CONTROL);
        try {
            feed(input, r, p, new Collector());
        } catch (ProtocolException e) {
            assertTrue(e.getMessage().contains("test connection"), "the error names the connection: " + e.getMessage());
        } catch (Throwable t) {
            throw new AssertionError("seed " + seed + ": only ProtocolException may escape the decoder", t);
        }
    }

    @Test
    void hugeLengthsAreRefusedFromTheHeaderAlone() {
        FrameParser p = new FrameParser("test connection", true, MAX_CONTROL);
        ByteBuffer b = ByteBuffer.allocate(4);
        Frames.frameHeader(b, Wire.STATE_REPLY, Wire.MAX_LENGTH);
        ProtocolException e = assertThrows(ProtocolException.class, () -> p.parse(b, 0, 4, new Collector()));
        assertTrue(e.getMessage().contains("exceeds the limit"), e.getMessage());
        FrameParser noData = new FrameParser("control connection", false, MAX_CONTROL);
        ByteBuffer d = ByteBuffer.allocate(4);
        Frames.frameHeader(d, Wire.DATA, 1);
        assertThrows(ProtocolException.class, () -> noData.parse(d, 0, 4, new Collector()));
        FrameParser big = new FrameParser("data connection", true, MAX_CONTROL);
        ByteBuffer huge = ByteBuffer.allocate(4);
        Frames.frameHeader(huge, Wire.DATA, Wire.MAX_DATA_PAYLOAD_ACCEPTED + 1);
        assertThrows(ProtocolException.class, () -> big.parse(huge, 0, 4, new Collector()));
    }

    @RepeatedTest(100)
    void payloadFieldReadersFailClearlyOnGarbage() {
        Random r = new Random(System.nanoTime());
        byte[] junk = new byte[r.nextInt(40)];
        r.nextBytes(junk);
        Frames.Reader reader = new Frames.Reader(ByteBuffer.wrap(junk), "a test frame");
        try {
            reader.bytes(16);
            reader.address();
            reader.offset();
            reader.addresses();
            reader.string();
            reader.end();
        } catch (ProtocolException e) {
            assertTrue(e.getMessage().contains("a test frame"), e.getMessage());
        }
    }
}
