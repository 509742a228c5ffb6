package org.mtcp.internal.buffer;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mtcp.internal.testkit.Seeds;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The send buffer against a model: random appends, gathers, copies (into arrays and buffers) and trims. Each repetition prints
 * its seed on failure; {@code -Dmtcp.test.seed=N} replays one.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SendBufferTest {
    @RegisterExtension
    final Seeds seeds = new Seeds();
    private final ChunkPool pool = new ChunkPool(1000, 64);

    @RepeatedTest(30)
    void appendsGathersCopiesAndTrimsExactly() {
        String seed = seeds.describe();
        Random r = seeds.random();
        ByteArrayOutputStream model = new ByteArrayOutputStream();
        long base = 5000;
        SendBuffer sb = new SendBuffer(pool, base);
        long head = base;
        ByteBuffer[] iov = new ByteBuffer[64];
        for (int step = 0; step < 2000; step++) {
            int op = r.nextInt(6);
            long tail = base + model.size();
            if (op == 0) {
                byte[] b = new byte[r.nextInt(2500)];
                r.nextBytes(b);
                int off = b.length == 0 ? 0 : r.nextInt(b.length);
                sb.append(b, off, b.length - off);
                model.write(b, off, b.length - off);
            } else if (op == 1 && tail > head) {
                long from = head + (long) (r.nextDouble() * (tail - head));
                long to = from + (long) (r.nextDouble() * (tail - from));
                int n = sb.gather(from, to, iov, 0);
                ByteArrayOutputStream g = new ByteArrayOutputStream();
                for (int i = 0; i < n; i++) {
                    byte[] part = new byte[iov[i].remaining()];
                    iov[i].get(part);
                    g.write(part, 0, part.length);
                }
                assertArrayEquals(Arrays.copyOfRange(model.toByteArray(), (int) (from - base), (int) (to - base)), g.toByteArray(),
                        "gather at step " + step + ", " + seed);
            } else if (op == 2 && tail > head) {
                long from = head + (long) (r.nextDouble() * (tail - head));
                byte[] dst = new byte[(int) (tail - from)];
                sb.copyTo(from, tail, dst, 0);
                assertArrayEquals(Arrays.copyOfRange(model.toByteArray(), (int) (from - base), (int) (tail - base)), dst,
                        "copy at step " + step + ", " + seed);
            } else if (op == 4 && tail > head) {
                // into a direct buffer, behind bytes already there, after gathers left chunk limits set
                long from = head + (long) (r.nextDouble() * (tail - head));
                ByteBuffer dst = ByteBuffer.allocateDirect((int) (tail - from) + 3).put(new byte[]{1, 2, 3});
                sb.copyTo(from, tail, dst);
                assertEquals(dst.capacity(), dst.position(), "position after a copy at step " + step + ", " + seed);
                byte[] got = new byte[(int) (tail - from)];
                dst.get(3, got);
                assertArrayEquals(Arrays.copyOfRange(model.toByteArray(), (int) (from - base), (int) (tail - base)), got,
                        "copy into a buffer at step " + step + ", " + seed);
            } else if (op == 3) {
                head = head + (long) (r.nextDouble() * (tail - head));
                sb.trimTo(head);
            } else if (op == 5 && r.nextInt(4) == 0) {
                sb.releaseSpare(); // the connection went quiet: spares and an empty ring let go, made again on use
            }
            assertEquals(head, sb.head(), "head after step " + step + ", " + seed);
            assertEquals(base + model.size(), sb.tail(), "tail after step " + step + ", " + seed);
        }
        sb.trimTo(sb.tail());
        assertEquals(0, sb.chunks(), "an empty buffer holds no chunk, " + seed);
        sb.releaseSpare();
        assertFalse(sb.holdsArrays(), "a quiet empty buffer holds no ring or spare array, " + seed);
    }
}
