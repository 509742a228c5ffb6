package org.mtcp.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.internal.ControlEndpoint;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The lazy control connection (thesis 4.2.1-4.2.3): none until the first state request, then exactly
 * one per pair of servers, shared by every session and both directions, reopened after it breaks; over
 * TCP or a same-host Unix-domain socket.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ControlConnectionTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();

    private static ControlEndpoint control(MtcpServerSocket s) {
        return s.server().control();
    }

    private static void echo(MtcpSocket s, long from, int n) throws IOException {
        byte[] b = new byte[n];
        for (int k = 0; k < n; k++) {
            b[k] = Apps.streamByte(1, from + k);
        }
        s.getOutputStream().write(b);
        byte[] got = new byte[n];
        Apps.readFully(s.getInputStream(), got);
        for (int k = 0; k < n; k++) {
            assertEquals(Apps.transform(b[k], from + k), got[k], "echo byte " + (from + k) + " of " + s.debugState());
        }
    }

    @Test
    void exactlyOnePerPairOpenedLazilySharedAndReopened() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1))) {
            List<MtcpSocket> clients = new ArrayList<>();
            for (int k = 0; k < 5; k++) {
                MtcpSocket s = new MtcpSocket(LO, c.address(0).getPort());
                s.setSoTimeout(20_000);
                clients.add(s);
                echo(s, 0, 100);
            }
            assertEquals(0, control(c.server(0)).connectionsOpened(), "no control connection before the first migration");
            assertEquals(0, control(c.server(1)).connectionsOpened());
            for (int round = 0; round < 3; round++) {
                for (MtcpSocket s : clients) {
                    s.migrate(c.address(1)); // S2 pulls from S1
                    echo(s, 100 + 200L * round, 100);
                    s.migrate(c.address(0)); // S1 pulls from S2: the same connection, the other way
                    echo(s, 200 + 200L * round, 100);
                }
            }
            assertEquals(1, control(c.server(0)).openConnections(), "one control connection at S1");
            assertEquals(1, control(c.server(1)).openConnections(), "one control connection at S2");
            assertEquals(1, control(c.server(0)).connectionsOpened() + control(c.server(1)).connectionsOpened() - 1,
                    "the pair opened one connection between them");

            control(c.server(1)).closeConnections();
            Thread.sleep(100);
            MtcpSocket s = clients.get(0);
            s.migrate(c.address(1)); // reopened on the next request
            echo(s, 700, 100);
            assertEquals(1, control(c.server(0)).openConnections());
            assertEquals(1, control(c.server(1)).openConnections());
            for (MtcpSocket x : clients) {
                x.close();
            }
            c.assertNoAppFailure();
        }
    }

    @Test
    void unixDomainControlConnections() throws Exception {
        Path dir = Files.createTempDirectory("mtcp-control");
        try (MtcpServerSocket s1 = new MtcpServerSocket(0, 50, LO); MtcpServerSocket s2 = new MtcpServerSocket(0, 50, LO)) {
            InetSocketAddress a1 = new InetSocketAddress(LO, s1.getLocalPort());
            InetSocketAddress a2 = new InetSocketAddress(LO, s2.getLocalPort());
            Map<InetSocketAddress, SocketAddress> mappings = new LinkedHashMap<>();
            mappings.put(a1, UnixDomainSocketAddress.of(dir.resolve("s1.sock")));
            mappings.put(a2, UnixDomainSocketAddress.of(dir.resolve("s2.sock")));
            s1.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);
            s2.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);
            for (MtcpServerSocket s : List.of(s1, s2)) {
                Thread t = new Thread(() -> {
                    while (!s.isClosed()) {
                        try {
                            java.net.Socket a = s.accept();
                            Thread w = new Thread(() -> {
                                try (a) {
                                    Apps.transformingEcho(8, 1).serve(a, 0);
                                } catch (IOException ignored) {
                                    // moved away or closed
                                }
                            });
                            w.setDaemon(true);
                            w.start();
                        } catch (IOException e) {
                            return;
                        }
                    }
                });
                t.setDaemon(true);
                t.start();
            }
            try (MtcpSocket c = new MtcpSocket(LO, a1.getPort())) {
                c.setSoTimeout(20_000);
                echo(c, 0, 1000);
                c.migrate(a2);
                echo(c, 1000, 1000);
                c.migrate(a1);
                echo(c, 2000, 1000);
            }
            assertEquals(1, control(s1).openConnections());
        }
    }
}
