package org.mtcp.samples.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.mtcp.api.MigrationEvent;
import org.mtcp.client.MtcpSocket;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Migrations at every kind of restart point of a keep-alive connection: between requests, in the
 * middle of a request (the read log carries its first half to the destination), and at every
 * export of a stream of pipelined requests, where each resumed copy must write again exactly the
 * bytes the previous copy wrote after its last export.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KeepAliveMigrationTest {
    private static final String HELLO = "Hello, MTCP!\n";

    private static void send(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
    }

    private static MtcpSocket client(HttpCluster c) throws IOException {
        MtcpSocket s = new MtcpSocket(InetAddress.getLoopbackAddress(), c.entry().getPort());
        s.setSoTimeout(20_000);
        return s;
    }

    @Test
    void anIdleConnectionMovesBetweenRequests(@TempDir Path root) throws IOException {
        Files.writeString(root.resolve("hello.txt"), HELLO);
        try (HttpCluster c = HttpCluster.start(2, root, TriggerPolicy::never); MtcpSocket s = client(c)) {
            InputStream in = s.getInputStream();
            send(s, "GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(HELLO, new String(HttpTestKit.RawResponse.read(in, false).body(), StandardCharsets.US_ASCII));

            // the command form of the trigger, while the server's copy waits for the next request
            HttpTestKit.awaitTrue(() -> c.server(0).responsesCompleted() == 1, 10, () -> "response completed");
            assertEquals(1, c.server(0).triggerAll(c.server(1).serviceAddress()));
            HttpTestKit.awaitTrue(() -> c.server(1).sessionsArrived() == 1, 10, () -> "the session arrives at S2");

            send(s, "GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(HELLO, new String(HttpTestKit.RawResponse.read(in, false).body(), StandardCharsets.US_ASCII));
            assertEquals(c.server(1).serviceAddress(), s.getRemoteSocketAddress(), "served by S2 now");
            HttpTestKit.awaitTrue(() -> c.server(1).responsesCompleted() == 1, 10, () -> "counted after its last byte was written");
            HttpTestKit.assertMigratedAtLeast(c, 1);
        }
    }

    @Test
    void halfARequestIsReplayedAtTheDestination(@TempDir Path root) throws IOException {
        Files.writeString(root.resolve("hello.txt"), HELLO);
        try (HttpCluster c = HttpCluster.start(2, root, TriggerPolicy::never); MtcpSocket s = client(c)) {
            String first = "GET /hello.txt HTTP/1.1\r\nHo";
            send(s, first);
            HttpTestKit.awaitTrue(() -> c.server(0).liveSessions() == 1, 10, () -> "accepted");
            // S1's application has read the first half (and waits for the rest): those bytes are its read log
            HttpTestKit.awaitTrue(() -> c.server(0).socket().sessions().stream().anyMatch(i -> i.bytesRead() == first.length()),
                    10, () -> "S1 read the first half: " + c.server(0).socket().sessions());
            assertEquals(1, c.server(0).triggerAll(c.server(1).serviceAddress()));
            HttpTestKit.awaitTrue(() -> c.server(1).sessionsArrived() == 1, 10, () -> "the session arrives at S2");

            send(s, "st: t\r\n\r\n");
            HttpTestKit.RawResponse r = HttpTestKit.RawResponse.read(s.getInputStream(), false);
            assertEquals(200, r.status());
            assertEquals(HELLO, new String(r.body(), StandardCharsets.US_ASCII));
            // nothing was exported on S1 (a new connection awaits its request): the first half, which S1's
            // application had read, came to S2 with the session as its read log (bytes it had not read would
            // have stayed with the client, which sends them to S2 itself)
            // the loop reports the arrival after it installed the session, which may be after the response
            HttpTestKit.awaitTrue(() -> !c.committedArrivals().isEmpty(), 10, () -> "the arrival at S2 is reported");
            MigrationEvent arrival = c.committedArrivals().get(0);
            assertEquals(first.length(), arrival.replayedBytes(), "request bytes carried to S2");
            HttpTestKit.assertMigratedAtLeast(c, 1);
        }
    }

    @Test
    void everySnapshotResumesToTheSameBytes(@TempDir Path root) throws IOException {
        Path file = root.resolve("data.bin");
        GeneratedFile.write(file, 96 * 1024, 11);
        String batch = "GET /data.bin HTTP/1.1\r\nHost: t\r\n\r\n"
                + "GET /data.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=5000-70000\r\n\r\n"
                + "HEAD /data.bin HTTP/1.1\r\nHost: t\r\n\r\n"
                + "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n"
                + "GET /data.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=-1000\r\n\r\n";
        boolean[] isHead = {false, false, true, false, false};
        // every copy asks its client to move at every restart point
        try (HttpCluster c = HttpCluster.start(3, root, TriggerPolicy::always)) {
            for (HttpFileServer s : c.servers()) {
                s.setChunkBytes(4096);
                // slow enough (about 50 ms per response) for migrations to land inside responses
                s.setRateLimit(2L << 20);
                s.setLog(System.err::println);
            }
            // the reference: a plain TCP client, which cannot migrate
            List<HttpTestKit.RawResponse> expected = new ArrayList<>();
            try (Socket plain = new Socket(InetAddress.getLoopbackAddress(), c.entry().getPort())) {
                plain.setSoTimeout(20_000);
                send(plain, batch);
                for (boolean h : isHead) {
                    expected.add(HttpTestKit.RawResponse.read(plain.getInputStream(), h));
                }
            }
            assertEquals(List.of(200, 206, 200, 404, 206), expected.stream().map(HttpTestKit.RawResponse::status).toList());
            assertArrayEquals(Files.readAllBytes(file), expected.get(0).body());

            try (MtcpSocket s = client(c)) {
                for (int round = 0; round < 3; round++) {
                    send(s, batch);
                    for (int i = 0; i < isHead.length; i++) {
                        HttpTestKit.RawResponse r = HttpTestKit.RawResponse.read(s.getInputStream(), isHead[i]);
                        String what = "round " + round + ", response " + i;
                        assertEquals(expected.get(i).headWithoutDate(), r.headWithoutDate(), what);
                        assertArrayEquals(expected.get(i).body(), r.body(), what);
                    }
                }
                InetSocketAddress now = (InetSocketAddress) s.getRemoteSocketAddress();
                assertTrue(c.serviceAddresses().contains(now), "on one of the servers: " + now);
            }
            int migrations = HttpTestKit.assertMigratedAtLeast(c, 3);
            for (HttpState.Phase phase : HttpState.Phase.values()) {
                long n = c.servers().stream().mapToLong(sv -> sv.sessionsResumedIn(phase)).sum();
                System.out.println("resumed in " + phase + ": " + n);
            }
            long midBody = c.servers().stream().mapToLong(sv -> sv.sessionsResumedIn(HttpState.Phase.SENDING_BODY)).sum();
            assertTrue(midBody > 0, "some of the " + migrations + " migrations resumed a response mid-body");
        }
    }
}
