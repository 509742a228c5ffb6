package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.ConnectionMigratedException;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.internal.ClientInternals;
import org.mtcp.client.internal.ClientSession;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.Wire;
import org.mtcp.server.MtcpServerSocket;
import org.mtcp.server.ServerInternals;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.WireTestKit;
import org.mtcp.server.testkit.Waits;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The destination fails after the commit (thesis 4.2.3: after STATE_ACK the origin has let go): the
 * destination is played by hand. It takes the client's MIGRATE_REQ, completes STATE_REQUEST,
 * STATE_REPLY and STATE_ACK with the real origin, and then closes the client's connection without a
 * MIGRATE_ACK. The origin's copy is MOVED (its application sees {@link ConnectionMigratedException});
 * the client learns that the session is lost ({@link MigrationException.Reason#DESTINATION_FAILED_AFTER_COMMIT},
 * not alive), and every later call on it fails at once with an exception naming the session.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DestinationFailedAfterCommitTest {
    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, HandPlayed.LO)) {
            return s.getLocalPort();
        }
    }

    @Test
    void clientLearnsTheSessionIsLostAndTheOriginCopyIsMoved() throws Exception {
        try (MtcpServerSocket s1 = new MtcpServerSocket(0, 50, HandPlayed.LO);
             ServerSocket destination = new ServerSocket(0, 5, HandPlayed.LO)) {
            InetSocketAddress a1 = new InetSocketAddress(HandPlayed.LO, s1.getLocalPort());
            InetSocketAddress fake = new InetSocketAddress(HandPlayed.LO, destination.getLocalPort());
            SocketAddress control1 = new InetSocketAddress(HandPlayed.LO, freePort());
            Map<InetSocketAddress, SocketAddress> mappings = new LinkedHashMap<>();
            mappings.put(a1, control1);
            mappings.put(fake, new InetSocketAddress(HandPlayed.LO, freePort())); // S1 never dials it here
            s1.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);
            List<MigrationEvent> originEvents = new CopyOnWriteArrayList<>();
            s1.addMigrationListener(originEvents::add);
            AtomicReference<Throwable> appEnd = new AtomicReference<>();
            Thread acceptor = new Thread(() -> {
                try (Socket a = s1.accept()) {
                    Apps.transformingEcho(16, 1).serve(a, 0);
                    appEnd.set(new AssertionError("the application's copy ended without an exception"));
                } catch (Throwable e) {
                    appEnd.set(e);
                }
            }, "test-s1-app");
            acceptor.setDaemon(true);
            acceptor.start();

            List<MigrationEvent> clientEvents = new CopyOnWriteArrayList<>();
            ClientSession client = ClientInternals.connect(a1, clientEvents::add);
            HandPlayed.echo(client, 0, 1000);
            String hex = client.sessionId().substring(0, 8);

            AtomicReference<Throwable> destinationFailure = new AtomicReference<>();
            Thread dest = new Thread(() -> {
                try (Socket fromClient = destination.accept()) {
                    fromClient.setSoTimeout(20_000);
                    HandPlayed.expectMagic(fromClient, Wire.MAGIC);
                    Message.MigrateRequest req = HandPlayed.expect(fromClient, Message.MigrateRequest.class, "the client's request");
                    assertEquals(a1, req.origin(), "the request names the origin");
                    assertArrayEquals(ClientInternals.id(client), req.sessionId());
                    try (Socket control = HandPlayed.openControl(control1, fake)) {
                        HandPlayed.send(control, WireTestKit.stateRequest(1, req));
                        Message.StateReply reply = HandPlayed.expect(control, Message.StateReply.class, "the origin's answer");
                        assertEquals(1, reply.key());
                        HandPlayed.send(control, new Message.StateAck(1)); // the commit point
                        assertTrue(Waits.until(() -> appEnd.get() != null, Duration.ofSeconds(10)),
                                "the origin's application learns that its copy moved");
                        // the origin closed the client's old connection when it committed: wait until the client saw it
                        assertTrue(Waits.until(() -> !client.channel().isOpen(), Duration.ofSeconds(10)),
                                "the client sees the origin close the old connection: " + client.debugState());
                    }
                    // and now the destination fails: the client's connection closes without MIGRATE_ACK
                } catch (Throwable e) {
                    destinationFailure.set(e);
                }
            }, "test-destination");
            dest.setDaemon(true);
            dest.start();

            MigrationException e = assertThrows(MigrationException.class, () -> ClientInternals.migrate(client, fake));
            dest.join(30_000);
            assertNull(destinationFailure.get(), () -> "the hand-played destination: " + destinationFailure.get());
            assertEquals(MigrationException.Reason.DESTINATION_FAILED_AFTER_COMMIT, e.reason(), e.getMessage());
            assertFalse(e.sessionAlive(), "the session is lost: " + e.getMessage());
            assertTrue(e.getMessage().contains(hex), "the exception names the session: " + e.getMessage());

            // the socket then fails cleanly, at once, naming the session
            IOException read = assertThrows(IOException.class, () -> ClientInternals.input(client, 0).read(new byte[10]));
            assertFalse(read instanceof SocketTimeoutException, read.toString());
            assertTrue(read.getMessage().contains(hex), "the read's exception names the session: " + read.getMessage());
            IOException write = assertThrows(IOException.class, () -> ClientInternals.output(client).write(new byte[10]));
            assertTrue(write.getMessage().contains(hex), "the write's exception names the session: " + write.getMessage());
            MigrationException again = assertThrows(MigrationException.class,
                    () -> ClientInternals.migrate(client, a1));
            assertFalse(again.sessionAlive(), again.getMessage());

            // the origin's copy is MOVED
            Throwable end = appEnd.get();
            assertTrue(end instanceof ConnectionMigratedException, "the origin's application sees ConnectionMigratedException: "
                    + end);
            assertTrue(Waits.until(() -> !originEvents.isEmpty(), Duration.ofSeconds(10)), "the origin reports the outcome");
            MigrationEvent origin = originEvents.get(0);
            assertEquals(MigrationEvent.Role.ORIGIN, origin.role(), origin.toString());
            assertTrue(origin.committed(), "the origin committed: " + origin);
            assertEquals(fake, origin.to(), origin.toString());
            assertTrue(ServerInternals.server(s1).sessions().isEmpty(), "S1 let go of the session");
            assertTrue(Waits.until(() -> !clientEvents.isEmpty(), Duration.ofSeconds(10)));
            assertEquals(MigrationException.Reason.DESTINATION_FAILED_AFTER_COMMIT, clientEvents.get(0).failure().reason(),
                    "the client's listener hears the same: " + clientEvents.get(0));
            client.close();
        }
    }
}
