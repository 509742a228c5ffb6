package org.mtcp.samples.http;

import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.mtcp.client.MtcpSocketFactory;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The deploy use case: a server with several downloads under way is drained to another server.
 * The drain completes once every session has moved, and every download completes byte-exact.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DrainTest {
    private static final int DOWNLOADS = 4;
    private static final long SIZE = 16L << 20;
    /** Per response: the four downloads take about two seconds, so the drain lands mid-download. */
    private static final long RATE = 8L << 20;

    @Test
    void drainingAServerMovesEveryDownloadAndLosesNoByte(@TempDir Path root) throws Exception {
        String[] sha = new String[DOWNLOADS];
        for (int i = 0; i < DOWNLOADS; i++) {
            sha[i] = GeneratedFile.write(root.resolve("file" + i + ".bin"), SIZE, 100 + i);
        }
        ExecutorService pool = Executors.newFixedThreadPool(DOWNLOADS);
        OkHttpClient client = new OkHttpClient.Builder().socketFactory(new MtcpSocketFactory())
                .readTimeout(Duration.ofSeconds(30)).build();
        try (HttpCluster cluster = HttpCluster.start(2, root, TriggerPolicy::never)) {
            HttpFileServer s1 = cluster.server(0);
            HttpFileServer s2 = cluster.server(1);
            for (HttpFileServer s : cluster.servers()) {
                s.setRateLimit(RATE);
                s.setLog(System.err::println);
            }
            AtomicLong[] received = new AtomicLong[DOWNLOADS];
            List<Future<GeneratedFile.Digest>> downloads = new ArrayList<>();
            for (int i = 0; i < DOWNLOADS; i++) {
                received[i] = new AtomicLong();
                String url = "http://127.0.0.1:" + s1.serviceAddress().getPort() + "/file" + i + ".bin";
                AtomicLong counter = received[i];
                downloads.add(pool.submit(() -> {
                    try (Response r = client.newCall(new Request.Builder().url(url).build()).execute()) {
                        assertEquals(200, r.code());
                        return GeneratedFile.digest(counting(r.body().byteStream(), counter));
                    }
                }));
            }
            // every download under way on S1 before the drain begins
            HttpTestKit.awaitTrue(() -> {
                for (AtomicLong r : received) {
                    if (r.get() < (1 << 20)) {
                        return false;
                    }
                }
                return true;
            }, 30, () -> "downloads started");
            assertEquals(DOWNLOADS, s1.liveSessions(), "every download on S1");

            CompletableFuture<Integer> drain = s1.drain(s2.serviceAddress());
            assertEquals(DOWNLOADS, drain.get(30, TimeUnit.SECONDS), "sessions moved away");
            // the library has no session left on S1; each application copy there ends at its next I/O
            HttpTestKit.awaitTrue(() -> s1.liveSessions() == 0, 10, () -> "S1 copies still serving: " + s1.liveSessions());

            for (int i = 0; i < DOWNLOADS; i++) {
                GeneratedFile.Digest d = downloads.get(i).get(60, TimeUnit.SECONDS);
                assertEquals(SIZE, d.length(), "download " + i);
                assertEquals(sha[i], d.sha256(), "download " + i + ": every byte exactly once");
            }
            assertEquals(DOWNLOADS, s2.sessionsArrived(), "every session arrived at S2");
            assertEquals(DOWNLOADS, s1.statistics().committed(), "S1 counted the migrations");
            HttpTestKit.assertMigratedAtLeast(cluster, DOWNLOADS);
        } finally {
            client.connectionPool().evictAll();
            client.dispatcher().executorService().shutdown();
            pool.shutdownNow();
        }
    }

    private static InputStream counting(InputStream in, AtomicLong counter) {
        return new FilterInputStream(in) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0) {
                    counter.addAndGet(n);
                }
                return n;
            }
        };
    }
}
