package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A session that streams at full speed, sent back and forth with no pause: the client often has bytes from the
 * origin beyond what its request claimed (they were on the way), the destination restarts at the claim, and the
 * client moves on before the destination's application has written that far again. The next origin must take
 * the client's count up to what any earlier server sent (the streaming benchmark found it refusing with "client
 * claims N bytes, more than were sent"). Every byte arrives once and in order.
 */
class StreamingMigrationRaceTest {
    private static final int MIGRATIONS = 200;
    private static final int CHUNK = 16 * 1024;
    private static final long SEED = 41;

    /** Streams the pattern from the imported offset, exporting the offset after every chunk. */
    private static void stream(java.net.Socket s, int server) throws IOException {
        long offset = Apps.importCount(s);
        byte[] b = new byte[CHUNK];
        while (true) {
            offset = Apps.writeStreamChunk(s, SEED, offset, b);
        }
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void aStreamingSessionMovesOnBeforeTheDestinationCaughtUp() throws Exception {
        try (Cluster c = new Cluster(2, i -> StreamingMigrationRaceTest::stream);
             MtcpSocket s = new MtcpSocket(InetAddress.getLoopbackAddress(), c.address(0).getPort())) {
            s.setSoTimeout(20_000);
            AtomicLong received = new AtomicLong();
            AtomicReference<Throwable> readerFailure = new AtomicReference<>();
            CountDownLatch stop = new CountDownLatch(1);
            Thread reader = new Thread(() -> {
                try {
                    InputStream in = s.getInputStream();
                    byte[] b = new byte[64 * 1024];
                    long at = 0;
                    while (stop.getCount() > 0) {
                        int n = in.read(b);
                        if (n < 0) {
                            throw new AssertionError("end of stream at " + at);
                        }
                        for (int k = 0; k < n; k++) {
                            if (b[k] != Apps.streamByte(SEED, at + k)) {
                                throw new AssertionError("byte " + (at + k) + " is " + b[k] + ", expected "
                                        + Apps.streamByte(SEED, at + k));
                            }
                        }
                        at += n;
                        received.set(at);
                    }
                } catch (Throwable t) {
                    if (stop.getCount() > 0) {
                        readerFailure.set(t);
                    }
                }
            }, "stream-reader");
            reader.setDaemon(true);
            reader.start();
            for (int i = 0; i < MIGRATIONS && readerFailure.get() == null; i++) {
                s.migrate(c.address((i + 1) % 2)); // straight on, while the bytes flow
            }
            long before = received.get();
            Waits.until(() -> received.get() >= before + 4L * CHUNK || readerFailure.get() != null, Duration.ofSeconds(20));
            stop.countDown();
            assertNull(readerFailure.get(), () -> "the reader failed after " + received.get() + " bytes: " + readerFailure.get());
            assertEquals(MIGRATIONS, s.statistics().committed(), "every migration committed: " + s.statistics());
            c.assertNoAppFailure();
            if (received.get() < before + 4L * CHUNK) {
                throw new AssertionError("the stream stopped after the migrations: " + received.get() + " bytes, "
                        + before + " when the last migration ended");
            }
        }
    }
}
