package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.mtcp.client.MtcpSocket;
import org.mtcp.internal.session.Settings;
import org.mtcp.server.ServerInternals;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.TestPki;
import org.mtcp.server.testkit.Waits;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CTRL_HELLO deadline ({@code mtcp.controlConnectTimeoutMillis}) covers the TLS handshake: a
 * connection to a TLS control port that never starts its handshake, or completes it and never says
 * CTRL_HELLO, is closed at the deadline, and the pair's own connection is not touched. Runs in a JVM
 * whose deadline is short (1 s), so that the test waits (bounded) for the close rather than for a
 * default of 3 s.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ControlTlsDeadlineTest {

    @Test
    void aSilentOrHandshakeOnlyPeerIsClosedAtTheDeadline(@TempDir Path tmp) throws Exception {
        ChildJvm.Result r = ChildJvm.run(Child.class, Map.of("mtcp.controlConnectTimeoutMillis", "1000",
                "mtcp.test.pki", tmp.toString()), Duration.ofSeconds(100));
        ChildJvm.assertPassed(r, Child.OK);
    }

    /** The scenario, in a JVM with a 1 s CTRL_HELLO deadline. */
    static final class Child {
        static final String OK = "CONTROL-TLS-DEADLINE-OK";

        public static void main(String[] args) {
            ChildJvm.exitWith(OK, Child::scenario);
        }

        static void scenario() throws Exception {
            assertEquals(1000, Settings.CONTROL_CONNECT_TIMEOUT_MILLIS);
            TestPki pki = TestPki.create(Path.of(System.getProperty("mtcp.test.pki")), "cluster CA");
            InetAddress[] hosts = {InetAddress.getByName("127.0.0.2"), InetAddress.getByName("127.0.0.3")};
            SSLContext[] tls = {pki.node("a", "ip:127.0.0.2"), pki.node("b", "ip:127.0.0.3")};
            try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(64, 1), i -> hosts[i], i -> tls[i]);
                 MtcpSocket s = new MtcpSocket()) {
                s.connect(c.address(0), 10_000);
                s.setSoTimeout(20_000);
                Apps.echoRoundTrip(s, 0, 1000);
                s.migrate(c.address(1)); // the pair's connection is open from here on
                SocketAddress control = c.mappings().get(c.address(0));
                try (Socket silent = new Socket()) {
                    silent.connect(control, 10_000);
                    assertTrue(HandPlayed.closedByPeer(silent, 30_000), "a peer that never starts its TLS handshake is closed");
                }
                InetSocketAddress at = (InetSocketAddress) control;
                try (SSLSocket mute = (SSLSocket) tls[1].getSocketFactory().createSocket(at.getHostString(), at.getPort())) {
                    mute.setSoTimeout(30_000);
                    mute.startHandshake();
                    int got;
                    try {
                        got = mute.getInputStream().read();
                    } catch (java.io.IOException e) {
                        got = -1; // an abortive close: closed all the same
                    }
                    assertEquals(-1, got, "a peer that completes its handshake and never says CTRL_HELLO is closed");
                }
                assertTrue(Waits.until(() -> ServerInternals.server(c.server(0)).control().recentCloseReasons().stream()
                        .filter(r -> r.contains("the TLS handshake and the peer's CTRL_HELLO did not complete")).count() == 2,
                        Duration.ofSeconds(20)), "both were closed by the deadline: "
                        + ServerInternals.server(c.server(0)).control().recentCloseReasons());
                s.migrate(c.address(0));
                Apps.echoRoundTrip(s, 1000, 20_000);
                s.migrate(c.address(1));
                Apps.echoRoundTrip(s, 21_000, 1000);
                c.assertNoAppFailure();
            }
        }
    }
}
