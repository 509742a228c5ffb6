package org.mtcp.internal.wire;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mtcp.internal.testkit.Seeds;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Volume for the decoders (the robustness issue asks for at least 10^6 generated or mutated frames across
 * the suite): a million mutated frames of every type through {@link Message#decode}, and a million more
 * through {@link FrameReader} in random pieces, a hundred to a connection. Each frame decodes (and a sample
 * of them re-encodes to the same bytes) or is refused with a {@link ProtocolException} that names its
 * connection; nothing else escapes. {@link FrameReaderFuzzTest} checks the finer properties on fewer frames.
 * Seeds: {@code -Dmtcp.test.seed}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FrameVolumeFuzzTest {
    private static final int FRAMES = 1_000_000;
    private static final int PER_CONNECTION = 100;

    @RegisterExtension
    final Seeds seeds = new Seeds();

    @Test
    void aMillionMutatedFramesAreEachDecodedOrRefusedNamingTheirConnection() {
        long seed = seeds.seed();
        Random r = new Random(seed);
        byte[][] pool = pool(r);
        int decoded = 0;
        int refused = 0;
        for (int i = 0; i < FRAMES; i++) {
            byte[] f = mutate(r, pool[r.nextInt(pool.length)]);
            if (f.length < Wire.HEADER_SIZE) {
                continue;
            }
            int word = ByteBuffer.wrap(f, 0, 4).getInt();
            int type = Frames.headerType(word);
            int len = Frames.headerLength(word);
            if (type == Wire.DATA || len != f.length - Wire.HEADER_SIZE) {
                refused++; // the header does not announce this payload: the reader would wait or refuse (below)
                continue;
            }
            try {
                Message m = Message.decode(type, ByteBuffer.wrap(f, Wire.HEADER_SIZE, len).slice(), "fuzz frame");
                decoded++;
                if ((i & 255) == 0) {
                    byte[] again = new byte[Wire.HEADER_SIZE + m.payloadSize()];
                    m.writeTo(ByteBuffer.wrap(again));
                    Message twice = Message.decode(type, ByteBuffer.wrap(again, Wire.HEADER_SIZE, again.length - Wire.HEADER_SIZE)
                            .slice(), "fuzz frame");
                    byte[] third = new byte[again.length];
                    twice.writeTo(ByteBuffer.wrap(third));
                    assertArrayEquals(again, third, failure(seed, i, f, "a decoded frame re-encodes to a fixed point"));
                }
            } catch (ProtocolException e) {
                assertTrue(e.getMessage().contains("fuzz frame"), failure(seed, i, f, "the error names the connection: "
                        + e.getMessage()));
                refused++;
            } catch (RuntimeException e) {
                throw new AssertionError(failure(seed, i, f, "only ProtocolException may escape the decoder"), e);
            }
        }
        assertTrue(decoded > FRAMES / 20 && refused > FRAMES / 20, "seed " + seed + ": the mutations reach both outcomes: "
                + decoded + " decoded, " + refused + " refused");
    }

    @Test
    void aMillionMutatedFramesInPiecesAreDecodedOrEndTheirConnectionClearly() throws IOException {
        long seed = seeds.seed();
        Random r = new Random(seed);
        byte[][] pool = pool(r);
        int[] handed = new int[1];
        FrameReader.Handler counting = (FrameReader.Handler) Proxy.newProxyInstance(FrameReader.Handler.class.getClassLoader(),
                new Class<?>[] {FrameReader.Handler.class}, (proxy, method, args) -> {
                    handed[0]++;
                    return null;
                });
        ByteBuffer buf = ByteBuffer.allocateDirect(PER_CONNECTION * 2048);
        int refusals = 0;
        for (int c = 0; c < FRAMES / PER_CONNECTION; c++) {
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            int[] starts = new int[PER_CONNECTION + 1];
            for (int f = 0; f < PER_CONNECTION; f++) {
                byte[] b = r.nextInt(4) == 0 ? mutate(r, pool[r.nextInt(pool.length)]) : pool[r.nextInt(pool.length)];
                starts[f] = wire.size();
                wire.write(b, 0, b.length);
            }
            byte[] input = wire.toByteArray();
            int end = Math.min(input.length, buf.capacity());
            starts[PER_CONNECTION] = end;
            buf.put(0, input, 0, end);
            // a refusal ends that connection only: the next one starts at the next frame the test wrote
            boolean dataAllowed = c % 2 == 0;
            FrameReader p = new FrameReader("fuzz connection", dataAllowed, Wire.MAX_CONTROL_PAYLOAD_ON_DATA);
            int at = 0;
            while (at < end) {
                int n = Math.min(end - at, 1 + r.nextInt(512));
                try {
                    p.parse(buf, at, at + n, counting);
                    at += n;
                } catch (ProtocolException e) {
                    assertTrue(e.getMessage().contains("fuzz connection"), "seed " + seed + ", connection " + c
                            + ": the error names the connection: " + e.getMessage());
                    refusals++;
                    int next = at + n;
                    int k = 0;
                    while (starts[k] < next) {
                        k++;
                    }
                    at = starts[k];
                    p = new FrameReader("fuzz connection", dataAllowed, Wire.MAX_CONTROL_PAYLOAD_ON_DATA);
                } catch (RuntimeException e) {
                    throw new AssertionError("seed " + seed + " (replay: -D" + Seeds.PROPERTY + "=" + seed + "), connection " + c
                            + ", at byte " + at + ": only ProtocolException may escape the reader", e);
                }
            }
        }
        assertTrue(handed[0] > FRAMES / 4, "seed " + seed + ": frames reached the handler: " + handed[0]);
        assertTrue(refusals > FRAMES / 100, "seed " + seed + ": mutated frames are refused: " + refusals);
        assertEquals(0, buf.position(), "the reader leaves the caller's buffer position alone");
    }

    /** @return encoded frames of every type but DATA, a few of each shape */
    private static byte[][] pool(Random r) {
        byte[][] pool = new byte[FrameReaderFuzzTest.SAMPLE_TYPES * 24][];
        for (int i = 0; i < pool.length; i++) {
            Message m = FrameReaderFuzzTest.sample(r, i);
            if (m instanceof Message.StateReply && r.nextInt(4) != 0) {
                m = new Message.StateAck(r.nextLong()); // keep most frames small: volume, not size
            }
            ByteBuffer b = m.encode(); // maybe read-only (a shared frame): copied out
            pool[i] = new byte[b.remaining()];
            b.duplicate().get(pool[i]);
        }
        return pool;
    }

    /** @return {@code frame} flipped, cut, extended, re-headed, replaced by noise, or as it is */
    private static byte[] mutate(Random r, byte[] frame) {
        byte[] f;
        switch (r.nextInt(7)) {
            case 0:
                f = frame.clone();
                for (int k = 1 + r.nextInt(4); k > 0; k--) {
                    int at = r.nextInt(f.length);
                    f[at] ^= (byte) (1 << r.nextInt(8));
                }
                return f;
            case 1:
                return Arrays.copyOf(frame, r.nextInt(frame.length + 1));
            case 2:
                f = Arrays.copyOf(frame, frame.length + 1 + r.nextInt(16));
                for (int k = frame.length; k < f.length; k++) {
                    f[k] = (byte) r.nextInt();
                }
                return f;
            case 3:
                f = frame.clone();
                if (f.length >= 4) {
                    int len = r.nextBoolean() ? r.nextInt(Math.max(1, f.length * 2)) : r.nextInt(1 << 24);
                    f[1] = (byte) (len >>> 16);
                    f[2] = (byte) (len >>> 8);
                    f[3] = (byte) len;
                }
                return f;
            case 4:
                f = frame.clone();
                f[0] = (byte) r.nextInt(256);
                return f;
            case 5:
                f = new byte[r.nextInt(65)];
                r.nextBytes(f);
                return f;
            default:
                return frame;
        }
    }

    private static String failure(long seed, int i, byte[] frame, String what) {
        return "seed " + seed + " (replay: -D" + Seeds.PROPERTY + "=" + seed + "), frame " + i + " "
                + HexFormat.of().formatHex(frame) + ": " + what;
    }
}
