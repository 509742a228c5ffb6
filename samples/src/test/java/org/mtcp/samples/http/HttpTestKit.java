package org.mtcp.samples.http;

import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared pieces of the HTTP sample's tests: the big file, a migrating cluster, a raw response reader. */
final class HttpTestKit {
    /** The big download of the client tests. */
    static final long BIG = 64L << 20;
    /** Each server asks its client to move on after serving this much. */
    static final long TRIGGER_EVERY = 8L << 20;
    /**
     * Each response's speed cap. Uncapped, a 64 MiB loopback download ends within a few hundred
     * milliseconds, before the servers' triggers have turned into more than a migration or two.
     */
    static final long RATE = 32L << 20;
    /** Fewest migrations a 64 MiB download must go through. */
    static final int MIN_MIGRATIONS = 5;

    private HttpTestKit() {
    }

    /**
     * @param root the document root
     * @return the SHA-256 of {@code big.bin}, written there
     */
    static String writeBigFile(Path root) throws IOException {
        return GeneratedFile.write(root.resolve("big.bin"), BIG, 2001);
    }

    /**
     * Three cooperating servers, each triggering a migration to the next every
     * {@link #TRIGGER_EVERY} bytes it serves, at most {@link #RATE} per response.
     */
    static HttpCluster migratingCluster(Path root) throws IOException {
        HttpCluster c = HttpCluster.start(3, root, () -> TriggerPolicy.everyBytes(TRIGGER_EVERY));
        for (HttpFileServer s : c.servers()) {
            s.setRateLimit(RATE);
            s.setLog(System.err::println);
        }
        return c;
    }

    /**
     * Checks that the servers saw at least {@code min} committed migrations, that the library's
     * statistics agree (each migration counted once by its origin and once by its destination),
     * and that no application copy failed.
     *
     * @return the number of committed migrations
     */
    static int assertMigratedAtLeast(HttpCluster c, int min) {
        List<MigrationEvent> arrivals = c.committedArrivals();
        assertTrue(arrivals.size() >= min, "at least " + min + " migrations, got " + arrivals.size());
        // the origin's and the destination's listeners and counters are updated as each party commits:
        // wait (bounded) for the origins of the last migration to have counted it too
        awaitTrue(() -> c.committedByStatistics() == 2L * c.committedArrivals().size(), 10,
                () -> "statistics count every migration twice: " + c.committedByStatistics() + " vs " + arrivals.size());
        for (HttpFileServer s : c.servers()) {
            // a server that triggers every few bytes sends TRIGGERs while a migration is under way, and one may be
            // pending when its session ends: those TRIGGERs end SUPERSEDED or SESSION_ENDED (reported, not lost);
            // no migration may fail
            Map<MigrationException.Reason, Long> failed = s.statistics().failedByReason();
            long triggerOutcomes = failed.getOrDefault(MigrationException.Reason.SUPERSEDED, 0L)
                    + failed.getOrDefault(MigrationException.Reason.SESSION_ENDED, 0L);
            assertEquals(0, s.statistics().failed() - triggerOutcomes, s.name() + " migrations failed: " + s.statistics());
        }
        assertNoFailures(c);
        return arrivals.size();
    }

    /** Fails with the first failure's stack trace when an application copy of the cluster failed. */
    static void assertNoFailures(HttpCluster c) {
        List<Exception> failures = c.failures();
        if (!failures.isEmpty()) {
            java.io.StringWriter trace = new java.io.StringWriter();
            failures.get(0).printStackTrace(new java.io.PrintWriter(trace));
            fail("server application failures: " + failures + "\nfirst: " + trace);
        }
    }

    /** Waits, at most {@code seconds}, until the condition holds; fails otherwise. */
    static void awaitTrue(BooleanSupplier condition, int seconds, java.util.function.Supplier<String> message) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail(message.get());
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
    }

    /** @return the bytes of a file, for comparing ranges */
    static byte[] bytes(Path file, long from, int length) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            in.skipNBytes(from);
            return in.readNBytes(length);
        }
    }

    /**
     * A response as the bytes on the wire said it, read exactly (no read-ahead, so that pipelined
     * responses can be read one after another from the same stream).
     *
     * @param statusLine the status line
     * @param headers    header fields, names lower-cased
     * @param head       the raw head bytes, with the empty line
     * @param body       the body ({@code Content-Length} bytes; none for HEAD)
     */
    record RawResponse(String statusLine, Map<String, String> headers, byte[] head, byte[] body) {
        int status() {
            return Integer.parseInt(statusLine.split(" ")[1]);
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        /** @return the head without the Date field, for comparing responses made at different times */
        String headWithoutDate() {
            return new String(head, StandardCharsets.ISO_8859_1).replaceAll("Date: [^\r]*\r\n", "");
        }

        /**
         * @param in     the connection's stream
         * @param isHead whether the request was HEAD (no body follows)
         * @return the next response
         */
        static RawResponse read(InputStream in, boolean isHead) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int matched = 0;
            while (matched < 4) {
                int b = in.read();
                if (b < 0) {
                    throw new EOFException("stream ended in a response head after " + head.size() + " bytes");
                }
                head.write(b);
                matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
            }
            String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                headers.put(lines[i].substring(0, colon).toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
            }
            byte[] body = new byte[0];
            if (!isHead) {
                String length = headers.get("content-length");
                if (length == null) {
                    throw new IOException("no Content-Length in " + lines[0]);
                }
                body = in.readNBytes(Integer.parseInt(length));
                if (body.length != Integer.parseInt(length)) {
                    throw new EOFException("body ended after " + body.length + " of " + length + " bytes");
                }
            }
            return new RawResponse(lines[0], headers, head.toByteArray(), body);
        }
    }
}
