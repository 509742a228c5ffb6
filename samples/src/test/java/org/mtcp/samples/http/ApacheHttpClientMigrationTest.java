package org.mtcp.samples.http;

import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SchemePortResolver;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.io.HttpClientConnectionOperator;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.URIScheme;
import org.apache.hc.core5.http.config.RegistryBuilder;
import org.apache.hc.core5.http.io.SocketConfig;
import org.apache.hc.core5.util.Timeout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mtcp.client.MtcpSocketFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Apache HttpClient 5, unmodified but for the socket factory of its connection operator, downloads
 * 64 MiB while three servers move the session between them every 8 MiB, then sends a range request
 * on the pooled connection.
 */
@org.junit.jupiter.api.Timeout(value = 120, unit = TimeUnit.SECONDS)
class ApacheHttpClientMigrationTest {

    /**
     * A pooling connection manager whose connections are MTCP sockets: the builder's hook for the
     * connection operator, given a {@code DetachedSocketFactory} that makes unconnected
     * {@code MtcpSocket}s (HttpClient connects them itself).
     */
    static final class MtcpConnectionManagerBuilder extends PoolingHttpClientConnectionManagerBuilder {
        @Override
        protected HttpClientConnectionOperator createConnectionOperator(SchemePortResolver schemePortResolver,
                                                                        DnsResolver dnsResolver, TlsSocketStrategy tls) {
            return new DefaultHttpClientConnectionOperator(proxy -> new MtcpSocketFactory().createSocket(),
                    schemePortResolver, dnsResolver, RegistryBuilder.<TlsSocketStrategy>create().register(URIScheme.HTTPS.id, tls).build());
        }
    }

    @Test
    void downloads64MiBThroughMigrations(@TempDir Path root) throws IOException {
        String sha = HttpTestKit.writeBigFile(root);
        try (HttpCluster cluster = HttpTestKit.migratingCluster(root)) {
            PoolingHttpClientConnectionManager connections = new MtcpConnectionManagerBuilder()
                    .setDefaultSocketConfig(SocketConfig.custom().setSoTimeout(Timeout.ofSeconds(30)).build())
                    .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(Timeout.ofSeconds(10)).build())
                    .build();
            String url = "http://127.0.0.1:" + cluster.entry().getPort() + "/big.bin";
            try (CloseableHttpClient client = HttpClients.custom().setConnectionManager(connections).build()) {
                GeneratedFile.Digest got = client.execute(new HttpGet(url), response -> {
                    assertEquals(200, response.getCode());
                    assertEquals(HttpTestKit.BIG, response.getEntity().getContentLength());
                    return GeneratedFile.digest(response.getEntity().getContent());
                });
                assertEquals(HttpTestKit.BIG, got.length());
                assertEquals(sha, got.sha256(), "every byte exactly once");

                HttpGet range = new HttpGet(url);
                range.setHeader("Range", "bytes=-4096");
                byte[] tail = client.execute(range, response -> {
                    assertEquals(206, response.getCode());
                    assertEquals("bytes " + (HttpTestKit.BIG - 4096) + "-" + (HttpTestKit.BIG - 1) + "/" + HttpTestKit.BIG,
                            response.getFirstHeader("Content-Range").getValue());
                    return response.getEntity().getContent().readAllBytes();
                });
                assertArrayEquals(HttpTestKit.bytes(root.resolve("big.bin"), HttpTestKit.BIG - 4096, 4096), tail);
                assertEquals(1, cluster.servers().stream().mapToLong(HttpFileServer::sessionsStarted).sum(),
                        "both requests on one connection");
            }
            int migrations = HttpTestKit.assertMigratedAtLeast(cluster, HttpTestKit.MIN_MIGRATIONS);
            System.out.println("Apache HttpClient: " + migrations + " migrations");
        }
    }
}
