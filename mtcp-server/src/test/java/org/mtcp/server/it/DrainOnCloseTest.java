package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.ConnectionMigratedException;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.MtcpServerSocket;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Background;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drain on shutdown ({@link MtcpOptions#DRAIN_ON_CLOSE}): closing the server socket, and a SIGTERM of the
 * server's JVM, first move every session to the advertised servers; the clients stream on, byte-exact.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class DrainOnCloseTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();
    private static final int CLIENTS = 4;

    @Test
    void closeMovesEverySessionAwayFirstAndRefusesNewClients() throws Exception {
        try (Cluster c = new Cluster(3, i -> Apps.transformingEcho(32, 1))) {
            c.server(0).setOption(MtcpOptions.DRAIN_ON_CLOSE, Duration.ofSeconds(30));
            assertEquals(Duration.ofSeconds(30), c.server(0).getOption(MtcpOptions.DRAIN_ON_CLOSE));
            List<MtcpSocket> clients = connect(c.address(0));
            try {
                long[] offsets = echoAll(clients, new long[CLIENTS], "before the close");
                assertTrue(Waits.until(() -> c.server(0).sessions().size() == CLIENTS, Duration.ofSeconds(10)));
                c.server(0).close();
                for (int i = 0; i < CLIENTS; i++) {
                    awaitNotOn(clients.get(i), c.address(0), "client " + i + " is still on the closed server");
                }
                assertTrue(c.server(0).sessions().isEmpty(), "left behind: " + c.server(0).sessions());
                echoAll(clients, offsets, "after the close");
                assertThrows(ConnectException.class, () -> new Socket(LO, c.address(0).getPort()).close(),
                        "a closed server takes no new client");
                c.assertNoAppFailure();
            } finally {
                for (MtcpSocket s : clients) {
                    s.close();
                }
            }
        }
    }

    @Test
    void sigtermOfTheServersJvmMovesItsSessionsToTheOthers() throws Exception {
        // servers 1 and 2 here, server 0 in a child JVM that sends itself SIGTERM once its clients are in
        List<MtcpServerSocket> here = new ArrayList<>();
        List<Thread> accepts = new ArrayList<>();
        Map<InetSocketAddress, SocketAddress> mappings = new LinkedHashMap<>();
        int childPort = freePort();
        InetSocketAddress child = new InetSocketAddress(LO, childPort);
        mappings.put(child, new InetSocketAddress(LO, freePort()));
        List<MtcpSocket> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                MtcpServerSocket s = new MtcpServerSocket(0, 50, LO);
                here.add(s);
                mappings.put(new InetSocketAddress(LO, s.getLocalPort()), new InetSocketAddress(LO, freePort()));
            }
            List<InetSocketAddress> all = new ArrayList<>(mappings.keySet());
            for (MtcpServerSocket s : here) {
                s.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);
                List<InetSocketAddress> others = new ArrayList<>(all);
                others.remove(new InetSocketAddress(LO, s.getLocalPort()));
                s.setOption(MtcpOptions.ADDITIONAL_SERVERS, others);
                Thread t = new Thread(() -> echoServer(s), "test-accept-" + s.getLocalPort());
                t.setDaemon(true);
                t.start();
                accepts.add(t);
            }
            StringBuilder map = new StringBuilder();
            mappings.forEach((k, v) -> map.append(k.getPort()).append('=').append(((InetSocketAddress) v).getPort()).append(','));
            java.nio.file.Path ready = java.nio.file.Files.createTempFile("mtcp-drain-ready", "");
            java.nio.file.Files.delete(ready);
            Background<ChildJvm.Result> run = Background.start("child server", () -> ChildJvm.run(DrainingServer.class,
                    Map.of("drain.port", String.valueOf(childPort), "drain.map", map.toString(),
                            "drain.clients", String.valueOf(CLIENTS), "drain.ready", ready.toString()), Duration.ofSeconds(90)));
            // its clients must connect once it advertises the others: a client follows a TRIGGER only there
            assertTrue(Waits.until(() -> java.nio.file.Files.exists(ready), Duration.ofSeconds(30)), "the child server did not start");
            java.nio.file.Files.deleteIfExists(ready);
            clients.addAll(connect(child));
            long[] offsets = echoAll(clients, new long[CLIENTS], "before the SIGTERM");
            ChildJvm.Result r = run.await(Duration.ofSeconds(100));
            assertTrue(r.output.contains("terminating"), "the child did not send itself SIGTERM:\n" + r.output);
            assertEquals(143, r.exitCode, "a JVM ended by SIGTERM exits with 128 + 15:\n" + r.output);
            for (int i = 0; i < CLIENTS; i++) {
                awaitNotOn(clients.get(i), child, "client " + i + " stayed on the terminated server:\n" + r.output);
            }
            echoAll(clients, offsets, "after the SIGTERM");
        } finally {
            for (MtcpSocket s : clients) {
                s.close();
            }
            for (MtcpServerSocket s : here) {
                s.close();
            }
        }
    }

    /** The child: server 0 with DRAIN_ON_CLOSE; once its clients are in and served, it sends itself SIGTERM. */
    static final class DrainingServer {
        public static void main(String[] args) throws Exception {
            int port = Integer.getInteger("drain.port");
            int clients = Integer.getInteger("drain.clients");
            Map<InetSocketAddress, SocketAddress> mappings = new LinkedHashMap<>();
            for (String kv : System.getProperty("drain.map").split(",")) {
                String[] p = kv.split("=");
                mappings.put(new InetSocketAddress(LO, Integer.parseInt(p[0])), new InetSocketAddress(LO, Integer.parseInt(p[1])));
            }
            MtcpServerSocket s = new MtcpServerSocket(port, 50, LO);
            s.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);
            List<InetSocketAddress> others = new ArrayList<>(mappings.keySet());
            others.remove(new InetSocketAddress(LO, port));
            s.setOption(MtcpOptions.ADDITIONAL_SERVERS, others);
            s.setOption(MtcpOptions.DRAIN_ON_CLOSE, Duration.ofSeconds(30));
            s.addMigrationListener(e -> System.out.println("event: " + e)); // for the failure message, if any
            Thread t = new Thread(() -> echoServer(s), "child-accept");
            t.setDaemon(true);
            t.start();
            java.nio.file.Files.createFile(java.nio.file.Path.of(System.getProperty("drain.ready")));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (s.sessions().stream().filter(i -> i.bytesWritten() > 0).count() < clients && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            System.out.println("terminating with " + s.sessions().size() + " sessions");
            System.out.flush();
            new ProcessBuilder("kill", "-TERM", String.valueOf(ProcessHandle.current().pid())).inheritIO().start();
            Thread.sleep(60_000); // the shutdown hook drains, then the JVM ends; this never returns
            System.exit(3);
        }
    }

    private static void echoServer(MtcpServerSocket s) {
        while (!s.isClosed()) {
            Socket a;
            try {
                a = s.accept();
            } catch (IOException e) {
                return;
            }
            Thread w = new Thread(() -> {
                try (a) {
                    Apps.transformingEcho(32, 1).serve(a, 0);
                } catch (ConnectionMigratedException e) {
                    // moved on
                } catch (IOException e) {
                    // the client went away, or the session moved
                }
            }, "test-echo");
            w.setDaemon(true);
            w.start();
        }
    }

    private static List<MtcpSocket> connect(InetSocketAddress to) throws IOException {
        List<MtcpSocket> out = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            MtcpSocket s = new MtcpSocket(to.getAddress(), to.getPort());
            s.setSoTimeout(20_000);
            out.add(s);
        }
        return out;
    }

    private static long[] echoAll(List<MtcpSocket> clients, long[] from, String where) throws IOException {
        long[] next = new long[from.length];
        for (int i = 0; i < clients.size(); i++) {
            next[i] = echo(clients.get(i), from[i], 700, "client " + i + " " + where);
        }
        return next;
    }

    private static long echo(MtcpSocket s, long from, int n, String where) throws IOException {
        return Apps.echoRoundTrip(s, from, n, where);
    }

    /** A drain ends when the destinations have the sessions; each client switches a moment later. */
    private static void awaitNotOn(MtcpSocket s, InetSocketAddress server, String message) throws InterruptedException {
        assertTrue(Waits.until(() -> !server.equals(s.currentServer()), Duration.ofSeconds(10)), message);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, LO)) {
            return s.getLocalPort();
        }
    }
}
