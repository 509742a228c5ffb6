package org.mtcp.server.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.api.MtcpOptions;
import org.mtcp.internal.session.Proofs;
import org.mtcp.internal.session.Settings;
import org.mtcp.internal.wire.Frames;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.Wire;
import org.mtcp.server.ServerInternals;
import org.mtcp.server.it.ChildJvm;
import org.mtcp.server.it.HandPlayed;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.WireTestKit;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.WireTestKit;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mtcp.server.internal.ControlConnection.State.AWAITING_HELLO;
import static org.mtcp.server.internal.ControlConnection.State.CLOSED;
import static org.mtcp.server.internal.ControlConnection.State.CONNECTING;
import static org.mtcp.server.internal.ControlConnection.State.OPEN;

/**
 * The states of a control connection, seen on real servers with the other end played by hand (codec
 * only): an accepted one waits for the CTRL_HELLO (AWAITING_HELLO) and opens on it, or closes on a bad
 * magic, on a frame before the CTRL_HELLO, or when no CTRL_HELLO comes before
 * {@code mtcp.controlConnectTimeoutMillis}; an opened one is CONNECTING until the TCP connect
 * completes (held here by a peer whose accept queue is full) and then OPEN, or CLOSED at the same
 * deadline.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ControlConnectionStateTest {
    private static Server server(Cluster c, int i) {
        return ServerInternals.server(c.server(i));
    }

    /** Connects by hand to server 0's control port and returns the connection it accepted, AWAITING_HELLO. */
    private static ControlConnection acceptedBy(Server s, SocketAddress control, Socket raw) throws Exception {
        List<ControlConnection> before = s.control().connections();
        raw.connect(control, 10_000);
        raw.setSoTimeout(20_000);
        ControlConnection accepted = LoopProbe.awaitNewConnection(s, before);
        assertEquals(AWAITING_HELLO, LoopProbe.state(s, accepted), "an accepted connection waits for the CTRL_HELLO");
        return accepted;
    }

    private static void write(Socket raw, java.nio.ByteBuffer opening) throws Exception {
        OutputStream out = raw.getOutputStream();
        out.write(HandPlayed.bytes(opening));
        out.flush();
    }

    @Test
    void acceptedConnectionOpensOnItsCtrlHello() throws Exception {
        Socket raw = new Socket();
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1))) {
            Server s1 = server(c, 0);
            ControlConnection conn = acceptedBy(s1, c.mappings().get(c.address(0)), raw);
            write(raw, Frames.opening(Wire.CONTROL_MAGIC, new Message.ControlHello(c.address(1))));
            LoopProbe.awaitState(s1, conn, OPEN, Duration.ofSeconds(10));
            assertEquals(c.address(1), LoopProbe.onLoop(s1, conn::peer), "the peer is who its CTRL_HELLO says");
            // open: it serves requests
            HandPlayed.send(raw, WireTestKit.forgedStateRequest(3, new byte[16], 0, 1, c.address(1)));
            Message.StateReject reject = HandPlayed.expect(raw, Message.StateReject.class, "the answer for an unknown session");
            assertEquals(3, reject.key());
            assertEquals(Reason.UNKNOWN_SESSION, reject.reason(), reject.message());
            raw.close();
            LoopProbe.awaitState(s1, conn, CLOSED, Duration.ofSeconds(10));
        } finally {
            raw.close();
        }
    }

    @Test
    void badMagicCloses() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1)); Socket raw = new Socket()) {
            Server s1 = server(c, 0);
            ControlConnection conn = acceptedBy(s1, c.mappings().get(c.address(0)), raw);
            write(raw, Frames.opening(Wire.MAGIC, new Message.ControlHello(c.address(1)))); // a data connection's magic
            LoopProbe.awaitState(s1, conn, CLOSED, Duration.ofSeconds(10));
            assertTrue(HandPlayed.closedByPeer(raw, 10_000), "the server closed the connection");
            assertTrue(s1.control().connections().isEmpty(), "nothing left open");
        }
    }

    @Test
    void frameBeforeCtrlHelloCloses() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1)); Socket raw = new Socket()) {
            Server s1 = server(c, 0);
            ControlConnection conn = acceptedBy(s1, c.mappings().get(c.address(0)), raw);
            write(raw, Frames.opening(Wire.CONTROL_MAGIC, new Message.StateAck(1)));
            LoopProbe.awaitState(s1, conn, CLOSED, Duration.ofSeconds(10));
            assertTrue(HandPlayed.closedByPeer(raw, 10_000), "the server closed the connection");
        }
    }

    @Test
    void noCtrlHelloBeforeTheDeadlineCloses() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1)); Socket raw = new Socket()) {
            Server s1 = server(c, 0);
            ControlConnection conn = acceptedBy(s1, c.mappings().get(c.address(0)), raw);
            long deadline = Settings.CONTROL_CONNECT_TIMEOUT_MILLIS;
            LoopProbe.awaitState(s1, conn, CLOSED, Duration.ofMillis(deadline + 20_000));
            assertTrue(HandPlayed.closedByPeer(raw, 10_000), "the server closed the silent connection");
        }
    }

    /**
     * Server 1 (S2) is made to pull a session from S1 whose control port is a hand-played listener
     * with a full accept queue: S2's connection is CONNECTING.
     *
     * @return the fillers of the hand-played origin's accept queue
     */
    private static List<SocketChannel> connectTowardsAFullQueue(Cluster c, ServerSocket origin, Socket client)
            throws Exception {
        Map<InetSocketAddress, SocketAddress> m = new LinkedHashMap<>(c.mappings());
        m.put(c.address(0), origin.getLocalSocketAddress());
        c.server(1).setOption(MtcpOptions.CONTROL_MAPPINGS, m);
        List<SocketChannel> fillers = HandPlayed.fillBacklog(origin);
        client.connect(c.address(1), 10_000);
        client.setSoTimeout(60_000);
        HandPlayed.sendOpening(client, Wire.MAGIC, new Message.MigrateRequest(Proofs.random(16), c.address(0), c.address(1), 0, 1 << 20, 1,
                org.mtcp.internal.crypto.X25519.ephemeral().publicKey(), new byte[32]));
        return fillers;
    }

    @Test
    void openedConnectionClosesWhenTheConnectDoesNotCompleteInTime() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1));
             ServerSocket origin = new ServerSocket(0, 1, HandPlayed.LO); Socket client = new Socket()) {
            Server s2 = server(c, 1);
            List<SocketChannel> fillers = connectTowardsAFullQueue(c, origin, client);
            ControlConnection conn = LoopProbe.awaitNewConnection(s2, List.of());
            assertEquals(CONNECTING, LoopProbe.state(s2, conn), "the connect waits");
            LoopProbe.awaitState(s2, conn, CLOSED, Duration.ofMillis(Settings.CONTROL_CONNECT_TIMEOUT_MILLIS + 20_000));
            Message.MigrateReject reject = HandPlayed.expect(client, Message.MigrateReject.class, "S2's answer to the client");
            assertEquals(Reason.PEER_UNREACHABLE, reject.reason(), reject.message());
            assertTrue(reject.sessionAlive(), reject.message());
            assertTrue(reject.message().contains("mtcp.controlConnectTimeoutMillis"), reject.message());
            for (SocketChannel f : fillers) {
                f.close();
            }
        }
    }

    @Test
    void openedConnectionIsConnectingThenOpen() throws Exception {
        // the connect completes on the peer's SYN retransmission (about 1 s): a deadline well above it, in a JVM of its own
        ChildJvm.Result r = ChildJvm.run(ConnectingThenOpen.class, Map.of("mtcp.controlConnectTimeoutMillis", "30000"),
                Duration.ofSeconds(80));
        System.out.println("ControlConnectionStateTest child JVM:\n" + r.output);
        ChildJvm.assertPassed(r, ConnectingThenOpen.OK);
    }

    /** CONNECTING -> OPEN, with a long connect deadline. */
    static final class ConnectingThenOpen {
        static final String OK = "CONNECTING-THEN-OPEN-OK";

        public static void main(String[] args) {
            ChildJvm.exitWith(OK, () -> {
                assertEquals(30_000, Settings.CONTROL_CONNECT_TIMEOUT_MILLIS, "the child's connect deadline");
                run();
            });
        }

        private static void run() throws Exception {
            try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1));
                 ServerSocket origin = new ServerSocket(0, 1, HandPlayed.LO); Socket client = new Socket()) {
                Server s2 = server(c, 1);
                List<SocketChannel> fillers = connectTowardsAFullQueue(c, origin, client);
                ControlConnection conn = LoopProbe.awaitNewConnection(s2, List.of());
                assertEquals(CONNECTING, LoopProbe.state(s2, conn), "the connect waits for room in the peer's accept queue");
                HandPlayed.drain(origin, fillers); // room again: the connect completes on the next SYN
                try (Socket fromS2 = origin.accept()) {
                    fromS2.setSoTimeout(20_000);
                    LoopProbe.awaitState(s2, conn, OPEN, Duration.ofSeconds(20));
                    HandPlayed.expectMagic(fromS2, Wire.CONTROL_MAGIC);
                    Message.ControlHello hello = HandPlayed.expect(fromS2, Message.ControlHello.class, "S2's CTRL_HELLO");
                    assertEquals(c.address(1), hello.server(), "S2 introduces itself by its service address");
                    Message.StateRequest req = HandPlayed.expect(fromS2, Message.StateRequest.class, "S2's request");
                    HandPlayed.send(fromS2, new Message.StateReject(req.key(), Reason.UNKNOWN_SESSION, "played by hand"));
                    Message.MigrateReject reject = HandPlayed.expect(client, Message.MigrateReject.class, "S2's answer");
                    assertEquals(Reason.UNKNOWN_SESSION, reject.reason(), reject.message());
                    assertEquals(OPEN, LoopProbe.state(s2, conn), "the connection stays open for the next request");
                }
            }
        }
    }
}
