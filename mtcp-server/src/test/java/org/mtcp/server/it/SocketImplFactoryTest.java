package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocketImplFactory;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Unmodified {@code java.net.Socket} code becomes migratory with {@link MtcpSocketImplFactory}
 * installed, while plain destinations, server sockets and their accepted sockets in the same JVM go
 * on as before. The factory can be set once per JVM: this class runs in a JVM of its own (surefire
 * does not reuse forks in this module).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SocketImplFactoryTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();

    /** The unmodified client code: a java.net.Socket and its streams, nothing else. */
    private static void unmodifiedClientRoundTrip(Socket s, long from, int n) throws IOException {
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        byte[] b = new byte[n];
        for (int k = 0; k < n; k++) {
            b[k] = Apps.streamByte(3, from + k);
        }
        out.write(b);
        byte[] got = new byte[n];
        Apps.readFully(in, got);
        for (int k = 0; k < n; k++) {
            assertEquals(Apps.transform(b[k], from + k), got[k], "byte " + (from + k));
        }
    }

    @Test
    @SuppressWarnings("deprecation") // deprecated in JDK 17, not for removal: the only hook into unmodified Socket code
    void unmodifiedSocketCodeMigratesWhenTheServerAsks() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1));
             ServerSocket plainServer = new ServerSocket(0, 5, LO)) {
            Set<Integer> mtcpPorts = Set.of(c.address(0).getPort(), c.address(1).getPort());
            MtcpSocketImplFactory factory = new MtcpSocketImplFactory(a -> mtcpPorts.contains(a.getPort()));
            Socket.setSocketImplFactory(factory);

            Thread plainEcho = new Thread(() -> {
                try (Socket a = plainServer.accept()) { // a plain accepted socket in the same JVM
                    a.getOutputStream().write(a.getInputStream().readNBytes(5));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            plainEcho.start();
            try (Socket toPlain = new Socket(LO, plainServer.getLocalPort())) { // the predicate says plain TCP
                toPlain.setSoTimeout(10_000);
                toPlain.getOutputStream().write("hello".getBytes());
                assertEquals("hello", new String(toPlain.getInputStream().readNBytes(5)));
            }
            plainEcho.join(10_000);

            try (Socket s = new Socket(LO, c.address(0).getPort())) {
                s.setSoTimeout(20_000);
                unmodifiedClientRoundTrip(s, 0, 10_000);
                Socket serving = c.live(0).get(0);
                serving.setOption(MtcpOptions.TRIGGER, c.address(1));
                Waits.until(() -> !c.live(1).isEmpty(), Duration.ofSeconds(10));
                assertEquals(1, c.live(1).size(), "the session arrived at the second server");
                assertTrue(c.live(1).get(0).getOption(MtcpOptions.MIGRATED));
                unmodifiedClientRoundTrip(s, 10_000, 10_000);
                assertEquals(c.address(1).getPort(), s.getPort(), "the socket names the server it is on now");
                assertTrue(Waits.until(() -> factory.statistics().committed() == 1, Duration.ofSeconds(10)),
                        "the factory counts the migration of a socket it made: " + factory.statistics());
                assertEquals(0, factory.statistics().failed(), factory.statistics().toString());
            }
            c.assertNoAppFailure();
        }
    }
}
