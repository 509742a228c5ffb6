package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.client.MtcpSocket;
import org.mtcp.internal.crypto.ControlSeal;
import org.mtcp.internal.wire.FrameReader;
import org.mtcp.internal.wire.Frames;
import org.mtcp.internal.wire.Message;
import org.mtcp.internal.wire.Wire;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Control frames on the data connection that its peer could not have meant: TRIGGER, MOVED and ERROR
 * without the session key's seal (injected on path) are dropped and the session goes on; a TRIGGER to
 * a server the current server never advertised is not followed, and a MOVED when no migration of the
 * session could have committed does not end the session at the server.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ForgedControlFramesTest {

    @Test
    void aTriggerToAServerThatWasNotAdvertisedIsNotFollowed() throws Exception {
        try (ServerSocket fake = new ServerSocket(0, 50, HandPlayed.LO);
             ServerSocket advertised = new ServerSocket(0, 50, HandPlayed.LO);
             ServerSocketChannel elsewhere = ServerSocketChannel.open();
             ServerSocketChannel decoy = ServerSocketChannel.open()) {
            elsewhere.bind(new InetSocketAddress(HandPlayed.LO, 0));
            elsewhere.configureBlocking(false);
            decoy.bind(new InetSocketAddress(HandPlayed.LO, 0));
            decoy.configureBlocking(false);
            InetSocketAddress decoyAddress = (InetSocketAddress) decoy.getLocalAddress();
            InetSocketAddress self = new InetSocketAddress(HandPlayed.LO, fake.getLocalPort());
            InetSocketAddress alternate = new InetSocketAddress(HandPlayed.LO, advertised.getLocalPort());
            InetSocketAddress notAdvertised = (InetSocketAddress) elsewhere.getLocalAddress();
            CompletableFuture<MtcpSocket> connecting = CompletableFuture.supplyAsync(() -> {
                try {
                    return new MtcpSocket(HandPlayed.LO, fake.getLocalPort());
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            fake.setSoTimeout(10_000);
            advertised.setSoTimeout(20_000);
            try (Socket server = fake.accept()) {
                // the handshake, played by hand: the client is told of one alternate
                HandPlayed.expectMagic(server, Wire.MAGIC);
                Message.Hello hello = HandPlayed.expect(server, Message.Hello.class, "the client's HELLO");
                assertTrue(hello.credit() > 0, hello.toString());
                ControlSeal seal = HandPlayed.answerHello(server, hello, self, List.of(alternate, decoyAddress));
                try (MtcpSocket client = connecting.get(10, TimeUnit.SECONDS)) {
                    triggers(server, seal, client, advertised, elsewhere, decoy, self, alternate, notAdvertised);
                }
            }
        }
    }

    /**
     * TRIGGERs injected on path without the session key (to an advertised server, even), dropped; one
     * from the server to a server it never advertised, refused; then one to an advertised server, followed.
     */
    private static void triggers(Socket server, ControlSeal seal, MtcpSocket client, ServerSocket advertised,
                                 ServerSocketChannel elsewhere, ServerSocketChannel decoy, InetSocketAddress self,
                                 InetSocketAddress alternate, InetSocketAddress notAdvertised)
            throws IOException, InterruptedException {
        InetSocketAddress decoyAddress = (InetSocketAddress) decoy.getLocalAddress();
        assertEquals(List.of(alternate, decoyAddress), client.getOption(org.mtcp.api.MtcpOptions.ADDITIONAL_SERVERS));
        List<MigrationEvent> events = new CopyOnWriteArrayList<>();
        client.addMigrationListener(events::add);
        HandPlayed.send(server, new Message.Trigger(decoyAddress)); // no seal: injected by someone without the key
        Message.Sealed forged = ControlSeal.server(org.mtcp.internal.session.Proofs.random(32)).seal(new Message.Trigger(decoyAddress));
        HandPlayed.send(server, forged); // sealed under another key
        HandPlayed.sendSealed(server, seal, new Message.Trigger(notAdvertised));
        assertTrue(Waits.until(() -> !events.isEmpty(), Duration.ofSeconds(10)), "the client reports the TRIGGER it refused");
        MigrationEvent refused = events.get(0);
        assertEquals(MigrationException.Reason.NOT_AUTHORIZED, refused.failure().reason(), refused.toString());
        assertEquals(notAdvertised, refused.to(), refused.toString());
        assertTrue(refused.failure().sessionAlive(), refused.toString());
        // and the server that sent it hears why, sealed: a TRIGGER is never lost silently
        Message.Sealed answer = HandPlayed.expect(server, Message.Sealed.class, "the client's answer to the refused TRIGGER");
        Message.TriggerResult result = (Message.TriggerResult) seal.open(answer, "the fake server's connection");
        assertEquals(Message.TriggerResult.Outcome.REFUSED, result.outcome(), result.toString());
        assertEquals(MigrationException.Reason.NOT_AUTHORIZED, result.reason(), result.toString());
        assertEquals(notAdvertised, result.destination(), result.toString());
        HandPlayed.sendSealed(server, seal, new Message.Trigger(alternate));
        // had a forged TRIGGER been followed, its migration would be under way and this one ignored
        try (Socket toAlternate = advertised.accept()) {
            HandPlayed.expectMagic(toAlternate, Wire.MAGIC);
            Message.MigrateRequest request = HandPlayed.expect(toAlternate, Message.MigrateRequest.class,
                    "the migration request the advertised server gets");
            assertEquals(self, request.origin(), request.toString());
        }
        // the refused TRIGGER started nothing: no connection ever reached the server it named
        assertNull(elsewhere.accept(), "the client connected to " + notAdvertised + ", which was never advertised");
        assertNull(decoy.accept(), "the client followed a TRIGGER without the session's seal");
        assertTrue(events.stream().noneMatch(e -> decoyAddress.equals(e.to())), "a forged TRIGGER was followed: " + events);
    }

    @Test
    void aMovedWhenNoMigrationCouldHaveCommittedDoesNotEndTheSession() throws Exception {
        AtomicReference<Throwable> appSaw = new AtomicReference<>();
        Cluster.App echo = (s, server) -> {
            try {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                byte[] b = new byte[6];
                int n = 0;
                while (n < b.length) {
                    int k = in.read(b, n, b.length - n);
                    if (k < 0) {
                        throw new IOException("end of stream after " + n + " bytes");
                    }
                    n += k;
                }
                out.write(b);
                out.flush();
                in.read(); // until the client ends
            } catch (IOException | RuntimeException e) {
                appSaw.set(e);
                throw e;
            }
        };
        try (Cluster c = new Cluster(2, i -> echo); Socket raw = new Socket(HandPlayed.LO, c.address(0).getPort())) {
            raw.setSoTimeout(20_000);
            ControlSeal seal = HandPlayed.helloAsClient(raw);
            OutputStream up = raw.getOutputStream();
            up.write(data("abc"));
            up.write(HandPlayed.bytes(new Message.Moved().encode())); // injected on path: no seal
            up.write(HandPlayed.bytes(seal.seal(new Message.Moved()).encode())); // the client's own, but it never migrated
            up.write(HandPlayed.bytes(new Message.Error("injected").encode())); // no seal
            up.write(data("def"));
            up.flush();
            byte[] echoed = readData(raw.getInputStream(), 6);
            assertArrayEquals("abcdef".getBytes(StandardCharsets.US_ASCII), echoed, "the session served on after the MOVED");
            assertTrue(c.events.isEmpty(), "no migration was reported: " + c.events);
            assertNull(appSaw.get(), "the application saw no failure: " + appSaw.get());
            assertThrows(IllegalArgumentException.class, () -> c.live(0).get(0).setOption(org.mtcp.api.MtcpOptions.TRIGGER,
                    new InetSocketAddress(HandPlayed.LO, 9)), "the server refuses to send its client where it was not told it may go");
        }
    }

    private static byte[] data(String s) {
        byte[] payload = s.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(Wire.HEADER_SIZE + payload.length);
        Frames.dataHeader(b, payload.length);
        return b.put(payload).array();
    }

    /** Reads frames until {@code n} DATA bytes have arrived, with the library's reader. */
    private static byte[] readData(InputStream in, int n) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        FrameReader reader = new FrameReader("the hand-played client's connection", true, Wire.MAX_CONTROL_PAYLOAD_ON_DATA);
        FrameReader.Handler h = new FrameReader.Handler() {
            @Override
            public void onData(ByteBuffer buf, int pos, int length) {
                byte[] b = new byte[length];
                buf.get(pos, b);
                got.write(b, 0, length);
            }

            @Override
            public void onAck(long held, long credit, long release) {
            }
        };
        byte[] chunk = new byte[4096];
        while (got.size() < n) {
            int k = in.read(chunk);
            if (k < 0) {
                throw new IOException("the server closed the connection after " + got.size() + " DATA bytes");
            }
            reader.parse(ByteBuffer.wrap(chunk), 0, k, h);
        }
        return got.toByteArray();
    }
}
