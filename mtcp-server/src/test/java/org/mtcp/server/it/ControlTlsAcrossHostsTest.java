package org.mtcp.server.it;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.ControlTls;
import org.mtcp.server.DevCertificates;
import org.mtcp.server.MtcpServerSocket;
import org.mtcp.server.ServerInternals;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.ClientMigrations;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.TestPki;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two servers on different, non-loopback addresses (10.7.0.1 and 10.7.0.2 on the {@code lo} of a
 * private network namespace, {@code unshare -n}) migrate a session both ways over a TLS control
 * connection; without CONTROL_TLS the same mappings are refused. The test re-runs its scenario in a
 * child JVM inside the namespace (root is needed; skipped, saying why, where {@code unshare} is
 * refused). The certificates are made here, by the test, and handed to the child as files.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ControlTlsAcrossHostsTest {
    private static final String[] HOSTS = {"10.7.0.1", "10.7.0.2"};

    @Test
    void twoServersOnDifferentHostsMigrateOverTls(@TempDir Path tmp) throws Exception {
        String refused = unshareRefused();
        Assumptions.assumeTrue(refused == null, () -> "skipped: a private network namespace is not available here ("
                + refused + "); this test needs root and unshare -n");
        TestPki pki = TestPki.create(tmp, "cluster CA");
        pki.issue("s0", java.time.Instant.now().minus(Duration.ofHours(1)), java.time.Instant.now().plus(Duration.ofDays(1)),
                "ip:" + HOSTS[0]);
        pki.issue("s1", java.time.Instant.now().minus(Duration.ofHours(1)), java.time.Instant.now().plus(Duration.ofDays(1)),
                "ip:" + HOSTS[1], "dns:s1.cluster.test");
        ChildJvm.Result r = ChildJvm.run(List.of("unshare", "-n"), Child.class, Map.of("mtcp.test.pki", tmp.toString()),
                Duration.ofSeconds(100));
        ChildJvm.assertPassed(r, Child.OK);
    }

    /** @return why {@code unshare -n} cannot run here, or {@code null} when it can */
    private static String unshareRefused() {
        try {
            Process p = new ProcessBuilder("unshare", "-n", "ip", "link", "set", "lo", "up").redirectErrorStream(true).start();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "unshare -n did not end within 20 s";
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.exitValue() == 0 ? null : "unshare -n ip link set lo up exited " + p.exitValue() + ": " + out;
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** The scenario, in a JVM in its own network namespace. */
    static final class Child {
        static final String OK = "CONTROL-TLS-ACROSS-HOSTS-OK";

        public static void main(String[] args) {
            ChildJvm.exitWith(OK, Child::scenario);
        }

        private static void run(String... cmd) throws IOException, InterruptedException {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
            }
        }

        static void scenario() throws Exception {
            run("ip", "link", "set", "lo", "up");
            for (String h : HOSTS) {
                run("ip", "addr", "add", h + "/32", "dev", "lo");
            }
            InetAddress[] hosts = {InetAddress.getByName(HOSTS[0]), InetAddress.getByName(HOSTS[1])};
            assertTrue(!hosts[0].isLoopbackAddress() && !hosts[1].isLoopbackAddress());
            Path pki = Path.of(System.getProperty("mtcp.test.pki"));
            char[] password = DevCertificates.DEFAULT_PASSWORD.toCharArray();
            SSLContext[] tls = {
                ControlTls.fromPkcs12(pki.resolve("s0/node.p12"), password, pki.resolve("ca.pem")),
                ControlTls.fromPem(pki.resolve("s1/node.pem"), pki.resolve("s1/node-key.pem"), pki.resolve("ca.pem"))
            };

            // without CONTROL_TLS, these mappings are refused
            try (MtcpServerSocket bare = new MtcpServerSocket(0, 50, hosts[0])) {
                Map<InetSocketAddress, SocketAddress> m = Map.of(new InetSocketAddress(hosts[0], bare.getLocalPort()),
                        new InetSocketAddress(hosts[0], 0));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> bare.setOption(MtcpOptions.CONTROL_MAPPINGS, m));
                assertTrue(e.getMessage().contains("CONTROL_TLS"), e.getMessage());
            }

            try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(64, 1), i -> hosts[i], i -> tls[i]);
                 MtcpSocket s = new MtcpSocket()) {
                ClientMigrations migrations = ClientMigrations.of(s);
                s.connect(c.address(0), 10_000);
                s.setSoTimeout(20_000);
                Apps.echoRoundTrip(s, 0, 10_000);
                long offset = 10_000;
                for (int k = 1; k <= 4; k++) {
                    s.migrate(c.address(k % 2));
                    Apps.echoRoundTrip(s, offset, 100_000);
                    offset += 100_000;
                }
                assertEquals(c.address(0), s.currentServer());
                migrations.assertCommittedAtLeast(4, MigrationEvent.Initiation.CLIENT, c);
                for (int i = 0; i < 2; i++) {
                    assertTrue(ServerInternals.server(c.server(i)).control().tlsConnectionsEstablished() >= 1,
                            "server " + i + "'s control connection ran inside TLS");
                }
                c.assertNoAppFailure();
                System.out.println("migrated 4 times between " + c.address(0) + " and " + c.address(1) + " over TLS");
            }
        }
    }
}
