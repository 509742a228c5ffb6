package org.mtcp.samples.http;

import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.mtcp.client.MtcpSocket;
import org.mtcp.client.MtcpSocketFactory;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * OkHttp, unmodified but for its socket factory, downloads 64 MiB while three servers move the
 * session between them every 8 MiB, then reuses the migrated keep-alive connection for a range.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OkHttpMigrationTest {

    /** Records the sockets OkHttp creates, to read their migration statistics afterwards. */
    static final class RecordingFactory extends MtcpSocketFactory {
        final List<MtcpSocket> sockets = new CopyOnWriteArrayList<>();

        @Override
        public Socket createSocket() throws IOException {
            MtcpSocket s = (MtcpSocket) super.createSocket();
            sockets.add(s);
            return s;
        }
    }

    @Test
    void downloads64MiBThroughMigrationsAndReusesTheConnection(@TempDir Path root) throws IOException {
        String sha = HttpTestKit.writeBigFile(root);
        try (HttpCluster cluster = HttpTestKit.migratingCluster(root)) {
            RecordingFactory sockets = new RecordingFactory();
            // the one line that makes OkHttp migratory:
            OkHttpClient client = new OkHttpClient.Builder().socketFactory(sockets)
                    .readTimeout(Duration.ofSeconds(30)).build();
            String url = "http://127.0.0.1:" + cluster.entry().getPort() + "/big.bin";
            try {
                try (Response r = client.newCall(new Request.Builder().url(url).build()).execute()) {
                    assertEquals(200, r.code());
                    assertEquals(HttpTestKit.BIG, r.body().contentLength());
                    GeneratedFile.Digest got = GeneratedFile.digest(r.body().byteStream());
                    assertEquals(HttpTestKit.BIG, got.length());
                    assertEquals(sha, got.sha256(), "every byte exactly once");
                }

                // the same keep-alive connection, now on whichever server the last migration left it
                Request range = new Request.Builder().url(url).header("Range", "bytes=1000000-1000999").build();
                try (Response r = client.newCall(range).execute()) {
                    assertEquals(206, r.code());
                    assertEquals("bytes 1000000-1000999/" + HttpTestKit.BIG, r.header("Content-Range"));
                    assertArrayEquals(HttpTestKit.bytes(root.resolve("big.bin"), 1_000_000, 1000), r.body().bytes());
                }
                assertEquals(1, sockets.sockets.size(), "one connection for both requests");
                MtcpSocket s = sockets.sockets.get(0);
                // a trigger at the end of the body may still be moving the now idle connection
                HttpTestKit.awaitTrue(() -> s.statistics().committed() == cluster.committedArrivals().size(), 10,
                        () -> "client and servers count the same migrations: " + s.statistics() + " vs "
                                + cluster.committedArrivals().size());
                int migrations = HttpTestKit.assertMigratedAtLeast(cluster, HttpTestKit.MIN_MIGRATIONS);
                assertTrue(cluster.serviceAddresses().contains(s.getRemoteSocketAddress()),
                        "the socket names the server it is on now: " + s.getRemoteSocketAddress());
                System.out.println("OkHttp: " + migrations + " migrations; client " + s.statistics());
            } finally {
                client.connectionPool().evictAll();
                client.dispatcher().executorService().shutdown();
            }
        }
    }
}
