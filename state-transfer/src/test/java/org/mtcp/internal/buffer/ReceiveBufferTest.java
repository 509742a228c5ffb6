package org.mtcp.internal.buffer;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mtcp.internal.testkit.Seeds;
import org.mtcp.internal.wire.FrameReader;
import org.mtcp.internal.wire.Frames;
import org.mtcp.internal.wire.Message;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The receive buffer against a model: random frames arrive in random pieces, the application reads
 * random amounts and trims the log at random points; every byte read and every logged range copied
 * out must match the stream. Each repetition prints its seed on failure; {@code -Dmtcp.test.seed=N}
 * replays one.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReceiveBufferTest {
    @RegisterExtension
    final Seeds seeds = new Seeds();
    private final ChunkPool pool = new ChunkPool(1024, 64);

    @RepeatedTest(30)
    void framesInRandomPiecesReadAndLoggedExactly() throws IOException {
        String seed = seeds.describe();
        Random r = seeds.random();
        // the wire: DATA frames of random sizes with ACK frames between them
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        for (int f = 0; f < 200; f++) {
            int len = 1 + r.nextInt(r.nextBoolean() ? 50 : 3000);
            byte[] payload = new byte[len];
            r.nextBytes(payload);
            ByteBuffer h = ByteBuffer.allocate(4);
            Frames.dataHeader(h, len);
            wire.write(h.array());
            wire.write(payload);
            stream.write(payload);
            if (r.nextInt(4) == 0) {
                wire.write(new Message.Ack(f, f, f).encode().array());
            }
        }
        byte[] w = wire.toByteArray();
        byte[] s = stream.toByteArray();
        ReceiveBuffer rb = new ReceiveBuffer(pool, 1000);
        FrameReader parser = new FrameReader("test", true, 1024);
        int[] acks = {0};
        FrameReader.Handler h = new FrameReader.Handler() {
            @Override
            public void onData(ByteBuffer buf, int pos, int length) {
                rb.keep(buf, pos, length);
            }

            @Override
            public void onAck(long held, long credit, long release) {
                acks[0]++;
            }
        };
        int wirePos = 0;
        long readTo = 1000;
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        int idle = 0; // steps in a row that moved nothing: bounded, so that a buffer that loses bytes fails
        while (readTo < 1000 + s.length) {
            long progress = wirePos + readTo;
            if (++idle > 1000) {
                throw new AssertionError("no progress in 1000 steps: fed " + wirePos + " of " + w.length + " wire bytes, read to "
                        + readTo + " of " + (1000 + s.length) + ", available " + rb.available() + ", " + seed);
            }
            if (wirePos < w.length && (r.nextBoolean() || rb.available() == 0)) {
                ByteBuffer[] bufs = rb.prepareRead(1 + r.nextInt(4000));
                int room = 0;
                for (ByteBuffer b : bufs) {
                    room += b.remaining();
                }
                int n = Math.min(Math.min(room, w.length - wirePos), r.nextInt(3000));
                int left = n;
                for (ByteBuffer b : bufs) {
                    int k = Math.min(left, b.remaining());
                    b.put(w, wirePos + (n - left), k);
                    left -= k;
                }
                wirePos += n;
                rb.afterRead(n, parser, h);
            } else {
                byte[] dst = new byte[1 + r.nextInt(2500)];
                int n = rb.read(dst, 0, dst.length);
                got.write(dst, 0, n);
                readTo += n;
                assertEquals(readTo, rb.readOffset(), "read offset, " + seed);
                if (r.nextInt(3) == 0) {
                    long logStart = rb.start();
                    byte[] log = new byte[(int) (rb.end() - logStart)];
                    rb.copyTo(logStart, rb.end(), log, 0);
                    assertArrayEquals(Arrays.copyOfRange(s, (int) (logStart - 1000), (int) (rb.end() - 1000)), log,
                            "logged bytes, " + seed);
                    long trim = logStart + (readTo > logStart ? r.nextInt((int) (readTo - logStart) + 1) : 0);
                    rb.trimTo(trim);
                    assertEquals(trim, rb.start(), "log start after a trim, " + seed);
                }
                if (r.nextInt(8) == 0) {
                    rb.releaseSpare(); // the connection went quiet: arrays let go when empty, made again on use
                }
            }
            if (wirePos + readTo != progress) {
                idle = 0;
            }
        }
        assertArrayEquals(s, got.toByteArray(), "bytes read, " + seed);
        assertTrue(acks[0] > 0, "ACK frames between the DATA frames were handed over, " + seed);
        rb.trimTo(rb.readOffset());
        assertEquals(0, rb.chunks(), "an empty buffer holds no chunk, " + seed);
        rb.releaseSpare();
        assertFalse(rb.holdsArrays(), "a quiet empty buffer holds no bookkeeping arrays, " + seed);
    }

    @Test
    void installedBytesAreReadAgainFromTheSnapshot() {
        ReceiveBuffer rb = new ReceiveBuffer(pool, 0);
        byte[] data = new byte[5000];
        new Random(1).nextBytes(data);
        rb.install(700, data);
        assertEquals(700, rb.start());
        assertEquals(700, rb.readOffset());
        assertEquals(5700, rb.end());
        byte[] got = new byte[5000];
        int off = 0;
        while (off < got.length) {
            off += rb.read(got, off, Math.min(777, got.length - off));
        }
        assertArrayEquals(data, got);
        rb.trimTo(5700);
        assertEquals(0, rb.chunks());
    }
}
