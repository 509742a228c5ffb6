package org.mtcp.samples.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.mtcp.client.MtcpSocket;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Bodies of at most one chunk go out with their head in one write: keep-alive GETs and ranges of
 * files around the chunk size return the file's bytes, to a plain and to an MTCP client.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SmallResponseTest {
    private static final int CHUNK = 4096;

    @Test
    void keepAliveResponsesAroundTheChunkSize(@TempDir Path root) throws IOException {
        List<Integer> sizes = List.of(1, 1024, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK);
        for (int size : sizes) {
            GeneratedFile.write(root.resolve(size + ".bin"), size, size);
        }
        try (HttpCluster c = HttpCluster.start(1, root, TriggerPolicy::never)) {
            c.server(0).setChunkBytes(CHUNK);
            for (boolean mtcp : new boolean[] {false, true}) {
                try (Socket s = mtcp ? new MtcpSocket(InetAddress.getLoopbackAddress(), c.entry().getPort())
                        : new Socket(InetAddress.getLoopbackAddress(), c.entry().getPort())) {
                    s.setSoTimeout(20_000);
                    InputStream in = s.getInputStream();
                    for (int round = 0; round < 50; round++) {
                        for (int size : sizes) {
                            byte[] file = Files.readAllBytes(root.resolve(size + ".bin"));
                            String what = (mtcp ? "MTCP" : "plain") + " client, " + size + " B, round " + round;
                            send(s, "GET /" + size + ".bin HTTP/1.1\r\nHost: t\r\n\r\n");
                            HttpTestKit.RawResponse r = HttpTestKit.RawResponse.read(in, false);
                            assertEquals(200, r.status(), what);
                            assertArrayEquals(file, r.body(), what);

                            send(s, "GET /" + size + ".bin HTTP/1.1\r\nHost: t\r\nRange: bytes=-" + Math.min(size, 100) + "\r\n\r\n");
                            HttpTestKit.RawResponse tail = HttpTestKit.RawResponse.read(in, false);
                            assertEquals(206, tail.status(), what);
                            assertArrayEquals(Arrays.copyOfRange(file, file.length - Math.min(size, 100), file.length), tail.body(), what);
                        }
                    }
                }
            }
            // counted after its last byte was written, which the client may have read before
            long expected = 2L * 50 * sizes.size() * 2;
            HttpTestKit.awaitTrue(() -> c.server(0).responsesCompleted() == expected, 10,
                    () -> "responses: " + c.server(0).responsesCompleted());
            HttpTestKit.assertNoFailures(c);
        }
    }

    private static void send(Socket s, String request) throws IOException {
        s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
    }
}
