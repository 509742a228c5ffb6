package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.internal.wire.Frames;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.Wire;
import org.mtcp.server.MtcpServerSocket;
import org.mtcp.server.ServerInternals;
import org.mtcp.server.internal.ControlEndpoint;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.ClientMigrations;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.TestPki;
import org.mtcp.server.testkit.Waits;
import org.mtcp.server.testkit.WireTestKit;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS 1.3 with mutual authentication on TCP control connections ({@link MtcpOptions#CONTROL_TLS}), with
 * real JSSE peers and certificates made by {@code DevCertificates} in a temporary directory. The two
 * servers have hosts of their own on {@code lo} (127.0.0.2 and 127.0.0.3), so that a certificate for
 * one is not valid for the other.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ControlTlsTest {
    private static final String HOST_A = "127.0.0.2";
    private static final String HOST_B = "127.0.0.3";
    private static final InetAddress[] HOSTS = {address(HOST_A), address(HOST_B)};

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Two servers on HOST_A and HOST_B with node certificates of one cluster CA in {@code tmp}. */
    private static Cluster tlsPair(Path tmp) throws Exception {
        TestPki pki = TestPki.create(tmp, "cluster CA");
        SSLContext[] tls = {pki.node("a", "ip:" + HOST_A), pki.node("b", "ip:" + HOST_B)};
        return new Cluster(2, i -> Apps.transformingEcho(64, 1), i -> HOSTS[i], i -> tls[i]);
    }

    private static ControlEndpoint control(Cluster c, int i) {
        return ServerInternals.server(c.server(i)).control();
    }

    /** Waits (bounded) until server {@code i} recorded a control connection closed for a reason {@code matches}. */
    private static String awaitCloseReason(Cluster c, int i, Predicate<String> matches) throws InterruptedException {
        String[] found = new String[1];
        boolean ok = Waits.until(() -> {
            for (String r : control(c, i).recentCloseReasons()) {
                if (matches.test(r)) {
                    found[0] = r;
                    return true;
                }
            }
            return false;
        }, Duration.ofSeconds(20));
        assertTrue(ok, "server " + i + " recorded no such control connection failure; it recorded "
                + control(c, i).recentCloseReasons());
        return found[0];
    }

    @Test
    void twoTlsServersMigrateASessionBothWaysByteExact(@TempDir Path tmp) throws Exception {
        TestPki pki = TestPki.create(tmp, "cluster CA");
        SSLContext[] tls = {pki.node("a", "ip:" + HOST_A), pki.nodeFromPem("b", "ip:" + HOST_B, "dns:b.cluster.test")};
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(64, 1), i -> HOSTS[i], i -> tls[i]);
             MtcpSocket s = new MtcpSocket()) {
            assertSame(tls[0], c.server(0).getOption(MtcpOptions.CONTROL_TLS));
            assertTrue(c.server(0).supportedOptions().contains(MtcpOptions.CONTROL_TLS));
            ClientMigrations migrations = ClientMigrations.of(s);
            s.connect(c.address(0), 10_000);
            s.setSoTimeout(20_000);
            long offset = 0;
            Apps.echoRoundTrip(s, offset, 5000);
            offset += 5000;
            for (int k = 1; k <= 4; k++) {
                s.migrate(c.address(k % 2));
                assertEquals(c.address(k % 2), s.currentServer());
                Apps.echoRoundTrip(s, offset, 50_000);
                offset += 50_000;
            }
            assertEquals(c.address(0), s.currentServer());
            migrations.assertCommittedAtLeast(4, MigrationEvent.Initiation.CLIENT, c);
            assertTrue(control(c, 0).tlsConnectionsEstablished() >= 1 && control(c, 1).tlsConnectionsEstablished() >= 1,
                    "the pair's control connection ran inside TLS on both servers");
            c.assertNoAppFailure();
        }
    }

    @Test
    void openedAheadTheHandshakeIsDoneBeforeTheFirstMigration(@TempDir Path tmp) throws Exception {
        try (Cluster c = tlsPair(tmp);
             MtcpSocket s = new MtcpSocket()) {
            c.server(1).setOption(MtcpOptions.CONTROL_OPEN_AHEAD, true);
            assertTrue(Waits.until(() -> control(c, 0).tlsConnectionsEstablished() == 1
                            && control(c, 1).tlsConnectionsEstablished() == 1, Duration.ofSeconds(10)),
                    "the TLS handshake ran when the option was set, before any migration: " + control(c, 0).recentCloseReasons());
            s.connect(c.address(0), 10_000);
            s.setSoTimeout(20_000);
            long offset = Apps.echoRoundTrip(s, 0, 5000, "on S1");
            s.migrate(c.address(1));
            Apps.echoRoundTrip(s, offset, 5000, "on S2");
            assertEquals(2, control(c, 0).tlsConnectionsEstablished() + control(c, 1).tlsConnectionsEstablished(),
                    "the migration used the connection opened ahead: one handshake, counted at each end, no second");
            c.assertNoAppFailure();
        }
    }

    @Test
    void aPeerWithACertificateFromAnotherCaIsRefused(@TempDir Path tmp) throws Exception {
        TestPki cluster = TestPki.create(tmp.resolve("cluster"), "cluster CA");
        TestPki other = TestPki.create(tmp.resolve("other"), "another CA");
        SSLContext[] tls = {cluster.node("a", "ip:" + HOST_A), other.node("b", "ip:" + HOST_B)};
        // each refuses the other's certificate; the opener's refusal reaches the accepting side as an alert
        refusedBothWays(tls, "PKIX path", "Received fatal alert");
    }

    @Test
    void aPeerWithAnExpiredCertificateIsRefused(@TempDir Path tmp) throws Exception {
        TestPki pki = TestPki.create(tmp, "cluster CA");
        SSLContext[] tls = {pki.node("a", "ip:" + HOST_A), pki.expired("b", "ip:" + HOST_B)};
        refusedBothWays(tls, "validity check failed", "validity check failed");
    }

    @Test
    void aPeerWithACertificateForAnotherHostIsRefused(@TempDir Path tmp) throws Exception {
        TestPki pki = TestPki.create(tmp, "cluster CA");
        SSLContext[] tls = {pki.node("a", "ip:" + HOST_A), pki.node("b", "ip:127.0.0.9", "dns:b.cluster.test")};
        // A dials B: the JDK's HTTPS check refuses B's certificate for 127.0.0.3; B dials A: A accepts the
        // handshake, then refuses B's CTRL_HELLO, whose identity's control host the certificate does not name
        refusedBothWays(tls, "No subject alternative names matching IP address " + HOST_B,
                "is not valid for " + HOST_B);
    }

    /**
     * Server 1's TLS is wrong: a session on server 0 cannot move to it, nor one on server 1 to server 0;
     * each migration fails cleanly and the session streams on where it was, byte-exact.
     *
     * @param whenADials what server 0 records when its own connection to server 1 fails
     * @param whenBDials what server 0 records when it refuses server 1's connection
     */
    private static void refusedBothWays(SSLContext[] tls, String whenADials, String whenBDials) throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(64, 1), i -> HOSTS[i], i -> tls[i]);
             MtcpSocket onA = new MtcpSocket();
             MtcpSocket onB = new MtcpSocket()) {
            onA.connect(c.address(0), 10_000);
            onA.setSoTimeout(20_000);
            onB.connect(c.address(1), 10_000);
            onB.setSoTimeout(20_000);
            Apps.echoRoundTrip(onA, 0, 1000);
            Apps.echoRoundTrip(onB, 0, 1000);

            // to B: B opens the control connection to A
            MigrationException e = assertThrows(MigrationException.class, () -> onA.migrate(c.address(1)));
            assertTrue(e.getMessage().contains("TLS") || e.getMessage().contains("closed by the peer"), e.getMessage());
            assertEquals(c.address(0), onA.currentServer());
            Apps.echoRoundTrip(onA, 1000, 20_000);
            String refusal = awaitCloseReason(c, 0, r -> r.contains("TLS") && r.contains(whenBDials));
            assertTrue(refusal.contains("peer"), refusal);

            // to A: A opens the control connection to B, and its own check refuses B's certificate
            e = assertThrows(MigrationException.class, () -> onB.migrate(c.address(0)));
            assertTrue(e.getMessage().contains("TLS") && e.getMessage().contains(whenADials)
                    && e.getMessage().contains(c.address(1).toString()), e.getMessage());
            assertEquals(c.address(1), onB.currentServer());
            Apps.echoRoundTrip(onB, 1000, 20_000);
            awaitCloseReason(c, 0, r -> r.contains("TLS handshake") && r.contains(whenADials));

            Apps.echoRoundTrip(onA, 21_000, 1000);
            Apps.echoRoundTrip(onB, 21_000, 1000);
            c.assertNoAppFailure();
        }
    }

    @Test
    void aPlaintextClientOfATlsControlPortIsServedNoFrame(@TempDir Path tmp) throws Exception {
        try (Cluster c = tlsPair(tmp);
             MtcpSocket victim = new MtcpSocket()) {
            victim.connect(c.address(0), 10_000);
            victim.setSoTimeout(20_000);
            Apps.echoRoundTrip(victim, 0, 1000);
            victim.migrate(c.address(1));
            Apps.echoRoundTrip(victim, 1000, 1000);
            String victimId = victim.sessionId();
            SocketAddress control = c.mappings().get(c.address(1));
            // the old protocol in the clear: the magic, a CTRL_HELLO claiming server 0, and a STATE_REQUEST for the victim
            try (Socket plain = new Socket()) {
                plain.connect(control, 10_000);
                plain.setSoTimeout(20_000);
                writeAll(plain, Frames.opening(Wire.CONTROL_MAGIC, new Message.ControlHello(c.address(0))),
                        WireTestKit.forgedStateRequest(7, hex(victimId), 0, 1, c.address(0)).encode());
                byte[] got = readToEnd(plain);
                assertTrue(got.length == 0 || (got[0] == 0x15 && got[1] == 0x03),
                        "nothing but a TLS alert came back (no frame): " + java.util.Arrays.toString(got));
            }
            awaitCloseReason(c, 1, r -> r.contains("TLS handshake") && r.contains("a peer at"));
            Apps.echoRoundTrip(victim, 2000, 20_000);
            victim.migrate(c.address(0));
            Apps.echoRoundTrip(victim, 22_000, 20_000);
            assertEquals(c.address(0), victim.currentServer());
            c.assertNoAppFailure();
        }
    }

    @Test
    void aCtrlHelloClaimingAnotherServerThanTheCertificateIsRefused(@TempDir Path tmp) throws Exception {
        TestPki pki = TestPki.create(tmp, "cluster CA");
        SSLContext[] tls = {pki.node("a", "ip:" + HOST_A), pki.node("b", "ip:" + HOST_B)};
        SSLContext third = pki.node("c", "ip:127.0.0.4"); // a real member's certificate: of another host
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(64, 1), i -> HOSTS[i], i -> tls[i]);
             MtcpSocket victim = new MtcpSocket()) {
            victim.connect(c.address(0), 10_000);
            victim.setSoTimeout(20_000);
            Apps.echoRoundTrip(victim, 0, 1000);
            InetSocketAddress controlA = (InetSocketAddress) c.mappings().get(c.address(0));

            // the rig works: B's own certificate, claiming B, is served (an unknown session's STATE_REQUEST is rejected)
            try (SSLSocket s = tlsClient(tls[1], controlA)) {
                writeAll(s, Frames.opening(Wire.CONTROL_MAGIC, new Message.ControlHello(c.address(1))),
                        WireTestKit.forgedStateRequest(1, new byte[16], 0, 1, c.address(1)).encode());
                Message.StateReject r = HandPlayed.expect(s, Message.StateReject.class, "the answer to an honest peer");
                assertEquals(1, r.key());
            }
            // the third host's certificate claiming B: refused at the CTRL_HELLO, nothing served
            try (SSLSocket s = tlsClient(third, controlA)) {
                writeAll(s, Frames.opening(Wire.CONTROL_MAGIC, new Message.ControlHello(c.address(1))),
                        WireTestKit.forgedStateRequest(2, hex(victim.sessionId()), 0, 1, c.address(1)).encode());
                assertEquals(0, readToEnd(s).length, "no frame came back");
            }
            String why = awaitCloseReason(c, 0, r -> r.contains("claims the identity " + c.address(1)));
            assertTrue(why.contains("not valid for " + HOST_B) && why.contains("IP:127.0.0.4"), why);
            // an identity CONTROL_MAPPINGS does not list: refused too
            InetSocketAddress stranger = new InetSocketAddress("127.0.0.4", 4444);
            try (SSLSocket s = tlsClient(third, controlA)) {
                writeAll(s, Frames.opening(Wire.CONTROL_MAGIC, new Message.ControlHello(stranger)));
                assertEquals(0, readToEnd(s).length, "no frame came back");
            }
            awaitCloseReason(c, 0, r -> r.contains(stranger.toString()) && r.contains("does not list"));
            // the victim streams and migrates on
            victim.migrate(c.address(1));
            Apps.echoRoundTrip(victim, 1000, 20_000);
            victim.migrate(c.address(0));
            Apps.echoRoundTrip(victim, 21_000, 1000);
            c.assertNoAppFailure();
        }
    }

    @Test
    void aNonLoopbackControlAddressWithoutTlsIsRefusedNamingTls(@TempDir Path tmp) throws Exception {
        try (MtcpServerSocket s = new MtcpServerSocket(0, 50, HandPlayed.LO)) {
            InetSocketAddress self = new InetSocketAddress(HandPlayed.LO, s.getLocalPort());
            Map<InetSocketAddress, SocketAddress> m = new HashMap<>();
            m.put(self, new InetSocketAddress(HandPlayed.LO, 0));
            m.put(new InetSocketAddress("10.7.0.2", 7000), new InetSocketAddress("10.7.0.2", 7001));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> s.setOption(MtcpOptions.CONTROL_MAPPINGS, m));
            assertTrue(e.getMessage().contains("TLS") && e.getMessage().contains("MtcpOptions.CONTROL_TLS")
                    && e.getMessage().contains("10.7.0.2:7001") && e.getMessage().contains("docs/security.md"), e.getMessage());
            assertEquals(Map.of(), s.getOption(MtcpOptions.CONTROL_MAPPINGS), "nothing was set");
            // this server's own control address on every interface: refused as well
            IllegalArgumentException own = assertThrows(IllegalArgumentException.class, () -> s.setOption(
                    MtcpOptions.CONTROL_MAPPINGS, Map.of(self, new InetSocketAddress(0))));
            assertTrue(own.getMessage().contains("CONTROL_TLS"), own.getMessage());
            assertNull(s.getOption(MtcpOptions.CONTROL_TLS));

            // with CONTROL_TLS first, the same mappings are taken; CONTROL_TLS cannot then be taken away
            SSLContext tls = TestPki.create(tmp, "cluster CA").node("a", "ip:127.0.0.1");
            s.setOption(MtcpOptions.CONTROL_TLS, tls);
            s.setOption(MtcpOptions.CONTROL_MAPPINGS, m);
            assertEquals(m, s.getOption(MtcpOptions.CONTROL_MAPPINGS));
            SocketException gone = assertThrows(SocketException.class, () -> s.setOption(MtcpOptions.CONTROL_TLS, null));
            assertTrue(gone.getMessage().contains("10.7.0.2:7001"), gone.getMessage());
            assertSame(tls, s.getOption(MtcpOptions.CONTROL_TLS));
        }
    }

    /** @return a JSSE client connected to a control port, its handshake done (the server's certificate checked) */
    private static SSLSocket tlsClient(SSLContext ctx, InetSocketAddress server) throws IOException {
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(server.getHostString(), server.getPort());
        s.setSoTimeout(20_000);
        s.setEnabledProtocols(new String[] {"TLSv1.3"});
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(p);
        s.startHandshake();
        return s;
    }

    /** Writes frames in one write: the server may close as soon as it has read the first. */
    private static void writeAll(Socket s, ByteBuffer... frames) throws IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (ByteBuffer f : frames) {
            b.write(HandPlayed.bytes(f));
        }
        s.getOutputStream().write(b.toByteArray());
        s.getOutputStream().flush();
    }

    /** @return every byte until the peer ends the connection (a reset or a TLS failure ends it too) */
    private static byte[] readToEnd(Socket s) throws IOException {
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        InputStream in = s.getInputStream();
        byte[] buf = new byte[256];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                got.write(buf, 0, n);
            }
        } catch (SSLException | SocketException e) {
            // the server ended the connection (an alert, a reset): what came before is what it served
        }
        return got.toByteArray();
    }

    private static byte[] hex(String id) {
        byte[] b = new byte[id.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(id.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }
}
