package org.mtcp.samples.http;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.mtcp.client.MtcpSocketImplFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link HttpURLConnection}, not changed at all: the JVM-wide socket factory makes its sockets
 * migratory for the cluster's addresses. It downloads 64 MiB while three servers move the session
 * between them every 8 MiB, then reuses the kept-alive connection for HEAD and a range.
 *
 * <p>{@code Socket.setSocketImplFactory} can be called once per JVM: this class runs in a JVM of
 * its own (the module's surefire configuration does not reuse forks).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HttpUrlConnectionMigrationTest {
    private static final Set<InetSocketAddress> MTCP_SERVERS = new CopyOnWriteArraySet<>();

    @BeforeAll
    @SuppressWarnings("deprecation") // deprecated in JDK 17, not for removal: the only hook into unmodified Socket code
    static void makeSocketsMigratory() throws IOException {
        // the one line that makes HttpURLConnection (and every java.net.Socket to these servers) migratory:
        Socket.setSocketImplFactory(new MtcpSocketImplFactory(MTCP_SERVERS::contains));
    }

    @Test
    void downloads64MiBThroughMigrations(@TempDir Path root) throws IOException {
        String sha = HttpTestKit.writeBigFile(root);
        try (HttpCluster cluster = HttpTestKit.migratingCluster(root)) {
            MTCP_SERVERS.addAll(cluster.serviceAddresses());
            URI uri = URI.create("http://127.0.0.1:" + cluster.entry().getPort() + "/big.bin");

            HttpURLConnection c = open(uri);
            assertEquals(200, c.getResponseCode());
            assertEquals(HttpTestKit.BIG, c.getContentLengthLong());
            try (InputStream in = c.getInputStream()) {
                GeneratedFile.Digest got = GeneratedFile.digest(in);
                assertEquals(HttpTestKit.BIG, got.length());
                assertEquals(sha, got.sha256(), "every byte exactly once");
            }

            // the kept-alive connection, now on whichever server the last migration left it
            HttpURLConnection head = open(uri);
            head.setRequestMethod("HEAD");
            assertEquals(200, head.getResponseCode());
            assertEquals(HttpTestKit.BIG, head.getContentLengthLong());
            head.getInputStream().close();

            HttpURLConnection range = open(uri);
            range.setRequestProperty("Range", "bytes=33554432-33619967");
            assertEquals(206, range.getResponseCode());
            try (InputStream in = range.getInputStream()) {
                assertArrayEquals(HttpTestKit.bytes(root.resolve("big.bin"), 33_554_432, 65_536), in.readAllBytes());
            }
            assertEquals(1, cluster.servers().stream().mapToLong(HttpFileServer::sessionsStarted).sum(),
                    "the three requests on one connection");
            range.disconnect(); // closes the kept-alive connection

            int migrations = HttpTestKit.assertMigratedAtLeast(cluster, HttpTestKit.MIN_MIGRATIONS);
            System.out.println("HttpURLConnection: " + migrations + " migrations");
        }
    }

    private static HttpURLConnection open(URI uri) throws IOException {
        HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
        c.setConnectTimeout(10_000);
        c.setReadTimeout(30_000);
        return c;
    }
}
