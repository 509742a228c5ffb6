package org.mtcp.server.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MigrationException.Reason;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.internal.ClientInternals;
import org.mtcp.client.internal.ClientSession;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.Wire;
import org.mtcp.server.ServerInternals;
import org.mtcp.server.it.HandPlayed;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.WireTestKit;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.WireTestKit;
import org.mtcp.server.testkit.Waits;
import org.mtcp.server.testkit.WireTestKit;

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
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The states of the three sides of a migration, seen on real servers and a real client: the
 * destination's {@link IncomingTransfer} (REQUESTED -> COMMITTED / REJECTED), the origin's
 * {@link OutgoingTransfer} (SENT -> COMMITTED / ABORTED; a refused request leaves none and never
 * freezes), the client's {@code ClientMigration} (CONNECTING -> REQUESTED -> SWITCHED / FAILED). To
 * hold a migration in a state the answers are held back: by a byte relay in front of S1's control
 * port that lets S1's answers through only when the test says, by a hand-played destination on S1's
 * control port (codec only), or by a destination whose accept queue is full.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class TransferStateTest {
    private static Server server(Cluster c, int i) {
        return ServerInternals.server(c.server(i));
    }

    /** Makes S2 reach S1's control port through {@code relay}. */
    private static void viaRelay(Cluster c, HandPlayed.GatedRelay relay) throws Exception {
        Map<InetSocketAddress, SocketAddress> m = new LinkedHashMap<>(c.mappings());
        m.put(c.address(0), relay.address());
        c.server(1).setOption(MtcpOptions.CONTROL_MAPPINGS, m);
    }

    @Test
    void committedMigrationSeenOnAllThreeSides() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1));
             HandPlayed.GatedRelay relay = new HandPlayed.GatedRelay(c.mappings().get(c.address(0)))) {
            viaRelay(c, relay);
            Server s1 = server(c, 0);
            Server s2 = server(c, 1);
            ClientSession client = ClientInternals.connect(c.address(0), null);
            HandPlayed.echo(client, 0, 1000);
            ServerSession origin = LoopProbe.awaitOne("session at S1", s1::sessions);
            assertTrue(origin.migratable(), "not frozen before the request");

            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    ClientInternals.migrate(client, c.address(1));
                } catch (Throwable e) {
                    failure.set(e);
                }
            }, "test-migrate");
            t.start();
            IncomingTransfer in = LoopProbe.awaitOne("request of S2", () -> LoopProbe.pending(s2));
            assertEquals(IncomingTransfer.State.REQUESTED, LoopProbe.state(s2, in), "S2 waits for the state");
            OutgoingTransfer out = LoopProbe.awaitOne("transfer served by S1", () -> LoopProbe.served(s1));
            assertEquals(OutgoingTransfer.State.SENT, out.state(), "S1 sent the state");
            assertFalse(origin.migratable(), "the session is frozen at S1 while the state is out");
            assertTrue(Waits.until(() -> relay.heldBack() > 0, Duration.ofSeconds(10)), "the relay holds S1's STATE_REPLY");
            ClientInternals.Held migration = ClientInternals.migration(client);
            assertNotNull(migration, "the client's migration is under way");
            assertEquals("REQUESTED", migration.state(), "the client waits for S2's answer");

            relay.open();
            t.join(30_000);
            assertNull(failure.get(), () -> "the migration: " + failure.get());
            assertTrue(Waits.until(() -> LoopProbe.state(s2, in) == IncomingTransfer.State.COMMITTED, Duration.ofSeconds(10)),
                    "S2's transfer: " + LoopProbe.state(s2, in));
            assertTrue(Waits.until(() -> out.state() == OutgoingTransfer.State.COMMITTED, Duration.ofSeconds(10)),
                    "S1's transfer: " + out.state());
            assertEquals("SWITCHED", migration.state(), "the client's migration");
            assertTrue(LoopProbe.pending(s2).isEmpty(), "nothing pending at S2");
            assertTrue(Waits.until(() -> LoopProbe.served(s1).isEmpty(), Duration.ofSeconds(10)), "nothing open at S1");
            assertEquals(c.address(1), client.server());
            HandPlayed.echo(client, 1000, 1000);
            client.close();
            c.assertNoAppFailure();
        }
    }

    @Test
    void refusedRequestSeenAtTheDestinationWhileTheOriginNeverFroze() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1));
             HandPlayed.GatedRelay relay = new HandPlayed.GatedRelay(c.mappings().get(c.address(0)));
             Socket raw = new Socket()) {
            viaRelay(c, relay);
            Server s1 = server(c, 0);
            Server s2 = server(c, 1);
            ClientSession client = ClientInternals.connect(c.address(0), null);
            HandPlayed.echo(client, 0, 1000);
            ServerSession origin = LoopProbe.awaitOne("session at S1", s1::sessions);

            raw.connect(c.address(1), 10_000);
            raw.setSoTimeout(20_000);
            HandPlayed.sendOpening(raw, Wire.MAGIC, new Message.MigrateRequest(ClientInternals.id(client), c.address(0),
                    c.address(1), 0, 1 << 20, 1, org.mtcp.internal.crypto.X25519.ephemeral().publicKey(), new byte[32])); // a forged proof
            IncomingTransfer in = LoopProbe.awaitOne("request of S2", () -> LoopProbe.pending(s2));
            assertEquals(IncomingTransfer.State.REQUESTED, LoopProbe.state(s2, in));
            assertTrue(Waits.until(() -> relay.heldBack() > 0, Duration.ofSeconds(10)), "S1 answered; the relay holds it");
            // S1 refused (PACKING -> REFUSED inside one loop task): no transfer stays, the session was never frozen
            assertTrue(LoopProbe.served(s1).isEmpty(), "S1 keeps no transfer for a refused request");
            assertTrue(origin.migratable(), "the session was not frozen");

            relay.open();
            Message.MigrateReject reject = HandPlayed.expect(raw, Message.MigrateReject.class, "S2's answer");
            assertEquals(Reason.NOT_AUTHORIZED, reject.reason(), reject.message());
            assertTrue(reject.sessionAlive(), reject.message());
            assertEquals(IncomingTransfer.State.REJECTED, LoopProbe.state(s2, in));
            assertTrue(LoopProbe.pending(s2).isEmpty());
            HandPlayed.echo(client, 1000, 1000);
            client.close();
            c.assertNoAppFailure();
        }
    }

    @Test
    void abortedTransferUnfreezesTheOrigin() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1))) {
            Server s1 = server(c, 0);
            ClientSession client = ClientInternals.connect(c.address(0), null);
            HandPlayed.echo(client, 0, 1000);
            ServerSession origin = LoopProbe.awaitOne("session at S1", s1::sessions);
            byte[] id = ClientInternals.id(client);
            try (Socket control = HandPlayed.openControl(c.mappings().get(c.address(0)), c.address(1))) {
                // a wrong proof: refused, nothing kept, nothing frozen
                HandPlayed.send(control, WireTestKit.forgedStateRequest(1, id, 1000, 1, c.address(1)));
                Message.StateReject reject = HandPlayed.expect(control, Message.StateReject.class, "the answer to a forged proof");
                assertEquals(Reason.NOT_AUTHORIZED, reject.reason(), reject.message());
                assertTrue(LoopProbe.served(s1).isEmpty(), "no transfer kept for a refused request");
                assertTrue(origin.migratable(), "not frozen by a refused request");

                HandPlayed.send(control, WireTestKit.stateRequest(2,
                        ClientInternals.request(client, 1, c.address(0), c.address(1), 1000, 1 << 20)));
                HandPlayed.expect(control, Message.StateReply.class, "the state");
                OutgoingTransfer out = LoopProbe.awaitOne("transfer served by S1", () -> LoopProbe.served(s1));
                assertEquals(OutgoingTransfer.State.SENT, out.state());
                assertFalse(origin.migratable(), "frozen while the state is out");

                HandPlayed.send(control, new Message.StateAbort(2));
                assertTrue(Waits.until(() -> out.state() == OutgoingTransfer.State.ABORTED, Duration.ofSeconds(10)),
                        "S1's transfer: " + out.state());
                assertTrue(Waits.until(origin::migratable, Duration.ofSeconds(10)), "unfrozen");
                assertTrue(Waits.until(() -> LoopProbe.served(s1).isEmpty(), Duration.ofSeconds(10)), "forgotten");
                HandPlayed.echo(client, 1000, 1000);
                assertTrue(Waits.until(() -> !c.events.isEmpty(), Duration.ofSeconds(10)));
                MigrationEvent e = c.events.get(0);
                assertEquals(MigrationEvent.Role.ORIGIN, e.role(), e.toString());
                assertNotNull(e.failure(), e.toString());
                assertTrue(e.failure().getMessage().contains("gave up"), e.failure().getMessage());
            }
            client.close();
            c.assertNoAppFailure();
        }
    }

    @Test
    void clientMigrationConnectingRequestedFailed() throws Exception {
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(16, 1));
             ServerSocket destination = new ServerSocket(0, 1, HandPlayed.LO)) {
            ClientSession client = ClientInternals.connect(c.address(0), null);
            HandPlayed.echo(client, 0, 1000);
            InetSocketAddress to = new InetSocketAddress(HandPlayed.LO, destination.getLocalPort());
            List<SocketChannel> fillers = HandPlayed.fillBacklog(destination);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    ClientInternals.migrate(client, to);
                } catch (Throwable e) {
                    failure.set(e);
                }
            }, "test-migrate");
            t.start();
            AtomicReference<ClientInternals.Held> held = new AtomicReference<>();
            assertTrue(Waits.until(() -> {
                held.set(ClientInternals.migration(client));
                return held.get() != null;
            }, Duration.ofSeconds(10)), "the migration started");
            ClientInternals.Held migration = held.get();
            assertEquals("CONNECTING", migration.state(), "the connect waits: the destination's accept queue is full");

            HandPlayed.drain(destination, fillers);
            try (Socket fromClient = destination.accept()) {
                fromClient.setSoTimeout(20_000);
                HandPlayed.expectMagic(fromClient, Wire.MAGIC);
                HandPlayed.expect(fromClient, Message.MigrateRequest.class, "the client's request");
                assertTrue(Waits.until(() -> migration.state().equals("REQUESTED"), Duration.ofSeconds(10)),
                        "the client waits for the answer: " + migration.state());
                HandPlayed.send(fromClient, new Message.MigrateReject(Reason.NOT_COOPERATING, true, "played by hand"));
                t.join(30_000);
            }
            assertTrue(failure.get() instanceof MigrationException, "the migration failed: " + failure.get());
            MigrationException e = (MigrationException) failure.get();
            assertEquals(Reason.NOT_COOPERATING, e.reason(), e.getMessage());
            assertTrue(e.sessionAlive(), e.getMessage());
            assertEquals("FAILED", migration.state());
            assertNull(ClientInternals.migration(client), "no migration under way any more");
            assertEquals(c.address(0), client.server());
            HandPlayed.echo(client, 1000, 1000);
            client.close();
            c.assertNoAppFailure();
        }
    }
}
