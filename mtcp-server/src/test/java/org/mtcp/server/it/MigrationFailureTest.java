package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.internal.wire.Frames;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.Wire;
import org.mtcp.server.MtcpServerSocket;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Background;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;
import org.mtcp.server.testkit.WireTestKit;
import org.mtcp.server.testkit.Script;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every failure before the commit leaves the session on the origin with no byte lost: rejections
 * (unknown session, forged proof, invalid state, read log overflow, no cooperation), an unreachable
 * destination, a destination that never answers.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MigrationFailureTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();

    private static MtcpSocket connect(Cluster c, int server) throws Exception {
        MtcpSocket s = new MtcpSocket(LO, c.address(server).getPort());
        s.setSoTimeout(20_000);
        return s;
    }

    /** Sends a hand-made MIGRATE_REQ and returns the destination's answer: reason code and message. */
    private static String rawMigrateRequest(InetSocketAddress destination, byte[] sessionId, InetSocketAddress origin,
                                            byte[] proof) throws Exception {
        try (Socket raw = new Socket(destination.getAddress(), destination.getPort())) {
            raw.setSoTimeout(15_000);
            Message.MigrateRequest request = new Message.MigrateRequest(sessionId, origin, destination, 0, 1 << 20, 1,
                    org.mtcp.internal.crypto.X25519.ephemeral().publicKey(), proof);
            raw.getOutputStream().write(Frames.opening(Wire.MAGIC, request).array());
            Message answer = WireTestKit.readMessage(raw.getInputStream(), "the answer to a forged MIGRATE_REQ");
            assertTrue(answer instanceof Message.MigrateReject, "a forged request must be rejected: " + answer);
            Message.MigrateReject reject = (Message.MigrateReject) answer;
            return reject.reason() + ": " + reject.message();
        }
    }

    @Test
    void unknownSessionIsRejected() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1))) {
            String answer = rawMigrateRequest(c.address(1), new byte[16], c.address(0), new byte[32]);
            assertTrue(answer.startsWith("UNKNOWN_SESSION"), answer);
        }
    }

    @Test
    void forgedProofIsRejectedAndTheSessionGoesOn() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1)); MtcpSocket s = connect(c, 0)) {
            Apps.echoRoundTrip(s, 0, 1000);
            byte[] id = HexFormat.of().parseHex(s.sessionId());
            String answer = rawMigrateRequest(c.address(1), id, c.address(0), new byte[32]);
            assertTrue(answer.startsWith("NOT_AUTHORIZED"), answer);
            Apps.echoRoundTrip(s, 1000, 1000);
            s.migrate(c.address(1)); // the real owner still can
            Apps.echoRoundTrip(s, 2000, 1000);
            c.assertNoAppFailure();
        }
    }

    @Test
    void sessionTheServerEndedCannotMigrateButNothingIsLost() throws Exception {
        Script script = new Script().write(100).shutdownOutput();
        try (Cluster c = new Cluster(2, i -> script.app()); MtcpSocket s = connect(c, 0)) {
            script.runTo(2);
            InputStream in = s.getInputStream();
            Script.expectDown(in, 0, 100);
            assertEquals(-1, in.read());
            c.live(0).get(0).close(); // the server application closes its socket
            MigrationException e = assertThrows(MigrationException.class, () -> s.migrate(c.address(1)));
            assertTrue(e.reason() == Reason.INVALID_STATE || e.reason() == Reason.UNKNOWN_SESSION, e.toString());
            assertTrue(e.sessionAlive(), "nothing was lost: " + e.getMessage());
            assertEquals(-1, in.read());
        }
    }

    @Test
    void readLogOverflowRefusesUntilTheNextExport() throws Exception {
        int big = 1200 * 1024; // more than the default read log limit (1 MiB) read after the snapshot
        Script script = new Script().export().read(big).export().write(10);
        try (Cluster c = new Cluster(2, i -> script.app()); MtcpSocket s = connect(c, 0)) {
            // more than the credit the origin gives: the write returns once the server application has read it all
            Background<Void> writer = Background.run("client writer",
                    () -> s.getOutputStream().write(Script.pattern(Script.UP, 0, big)));
            script.runTo(2);
            writer.await(Duration.ofSeconds(30)); // fails if the write did not return, or threw
            MigrationException e = assertThrows(MigrationException.class, () -> s.migrate(c.address(1)));
            assertEquals(Reason.LOG_OVERFLOW, e.reason(), e.getMessage());
            assertTrue(e.sessionAlive());
            script.runTo(3);
            s.migrate(c.address(1));
            script.runTo(4, 1);
            Script.expectDown(s.getInputStream(), 0, 10);
            c.assertNoAppFailure();
        }
    }

    @Test
    void unreachableDestinationLeavesTheSessionOnTheOrigin() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1)); MtcpSocket s = connect(c, 0)) {
            int closedPort; // taken after the cluster's ports: it cannot be one of them
            try (ServerSocket ss = new ServerSocket(0, 1, LO)) {
                closedPort = ss.getLocalPort();
            }
            Apps.echoRoundTrip(s, 0, 500);
            MigrationException e = assertThrows(MigrationException.class, () -> s.migrate(new InetSocketAddress(LO, closedPort)));
            assertEquals(Reason.PEER_UNREACHABLE, e.reason(), e.getMessage());
            assertTrue(e.sessionAlive());
            assertTrue(e.getMessage().contains(s.sessionId().substring(0, 8)), "the message names the session: " + e.getMessage());
            Apps.echoRoundTrip(s, 500, 500);
            c.assertNoAppFailure();
        }
    }

    @Test
    void destinationThatNeverAnswersTimesOut() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1)); MtcpSocket s = connect(c, 0);
             ServerSocket silent = new ServerSocket(0, 5, LO)) {
            Apps.echoRoundTrip(s, 0, 500);
            s.setSoTimeout(1000);
            MigrationException e = assertThrows(MigrationException.class,
                    () -> s.migrate(new InetSocketAddress(LO, silent.getLocalPort())));
            assertEquals(Reason.TIMEOUT, e.reason(), e.getMessage());
            assertTrue(e.sessionAlive());
            s.setSoTimeout(20_000);
            Apps.echoRoundTrip(s, 500, 500);
            c.assertNoAppFailure();
        }
    }

    @Test
    void serverWithoutControlMappingsDoesNotCooperate() throws Exception {
        try (Cluster c = new Cluster(1, i -> Apps.transformingEcho(16, 1)); MtcpSocket s = connect(c, 0);
             MtcpServerSocket loner = new MtcpServerSocket(0, 5, LO)) {
            Apps.echoRoundTrip(s, 0, 100);
            MigrationException e = assertThrows(MigrationException.class,
                    () -> s.migrate(new InetSocketAddress(LO, loner.getLocalPort())));
            assertEquals(Reason.NOT_COOPERATING, e.reason(), e.getMessage());
            assertTrue(e.sessionAlive());
            Apps.echoRoundTrip(s, 100, 100);
        }
    }

    @Test
    void migratingToTheCurrentServerChangesNothing() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1)); MtcpSocket s = connect(c, 0)) {
            List<MigrationEvent> events = new CopyOnWriteArrayList<>();
            s.addMigrationListener(events::add);
            Apps.echoRoundTrip(s, 0, 100);
            s.setOption(MtcpOptions.MIGRATE, c.address(0));
            Apps.echoRoundTrip(s, 100, 100);
            assertTrue(events.isEmpty(), "no migration happened: " + events);
            assertTrue(c.events.isEmpty());
        }
    }

    @Test
    void failedTriggeredMigrationIsReportedAndTheSessionGoesOn() throws Exception {
        int closedPort;
        try (ServerSocket ss = new ServerSocket(0, 1, LO)) {
            closedPort = ss.getLocalPort();
        }
        InetSocketAddress closed = new InetSocketAddress(LO, closedPort);
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1))) {
            // a client follows a trigger only to an advertised server: advertise one that is gone
            c.server(0).setOption(MtcpOptions.ADDITIONAL_SERVERS, List.of(c.address(1), closed));
            try (MtcpSocket s = connect(c, 0)) {
                triggeredToAServerThatIsGone(c, s, closed);
            }
        }
    }

    private static void triggeredToAServerThatIsGone(Cluster c, MtcpSocket s, InetSocketAddress closed) throws Exception {
        List<MigrationEvent> events = new CopyOnWriteArrayList<>();
        s.addMigrationListener(events::add);
        Apps.echoRoundTrip(s, 0, 100);
        c.serving(s.getLocalPort()).setOption(MtcpOptions.TRIGGER, closed);
        assertTrue(Waits.until(() -> !events.isEmpty(), Duration.ofSeconds(10)), "the client reported the triggered attempt");
        assertEquals(1, events.size(), "the client reported the triggered attempt once: " + events);
        MigrationEvent e = events.get(0);
        assertEquals(MigrationEvent.Initiation.SERVER_TRIGGER, e.initiation());
        assertEquals(Reason.PEER_UNREACHABLE, e.failure().reason());
        Apps.echoRoundTrip(s, 100, 100);
        c.serving(s.getLocalPort()).setOption(MtcpOptions.TRIGGER, null); // client's choice: the alternate
        assertTrue(Waits.until(() -> events.size() >= 2, Duration.ofSeconds(10)),
                "the client reported the second trigger: " + events);
        assertTrue(events.get(1).committed(), events.get(1).toString());
        assertEquals(c.address(1), s.currentServer());
        Apps.echoRoundTrip(s, 200, 100);
        c.assertNoAppFailure();
    }
}
