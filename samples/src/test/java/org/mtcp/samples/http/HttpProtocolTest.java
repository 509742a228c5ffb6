package org.mtcp.samples.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
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
import java.nio.file.attribute.FileTime;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server speaks HTTP/1.1 correctly, checked byte by byte from a raw socket: status codes,
 * header fields, keep-alive, pipelining, ranges, and exactly-consumed request bodies. Most cases use
 * a plain TCP client (which the MTCP server serves as a plain connection); one uses an MTCP client.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HttpProtocolTest {
    private static final String HELLO = "Hello, MTCP!\n";
    private static final long MTIME = 1_000_000_000_000L; // 2001-09-09T01:46:40Z

    @TempDir
    Path dir;
    private Path root;
    private HttpFileServer server;

    @BeforeEach
    void start() throws IOException {
        root = Files.createDirectory(dir.resolve("www"));
        Files.writeString(root.resolve("hello.txt"), HELLO);
        Files.setLastModifiedTime(root.resolve("hello.txt"), FileTime.fromMillis(MTIME));
        Files.writeString(root.resolve("index.html"), "<h1>index</h1>\n");
        Files.createDirectories(root.resolve("sub dir"));
        GeneratedFile.write(root.resolve("sub dir/data.bin"), 1000, 7);
        Files.writeString(dir.resolve("outside.txt"), "secret");
        server = new HttpFileServer("S", root, InetAddress.getLoopbackAddress(), TriggerPolicy.never());
        server.start();
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
        assertEquals(java.util.List.of(), server.failures());
    }

    private Socket connect() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), server.serviceAddress().getPort());
        s.setSoTimeout(20_000);
        return s;
    }

    private static void send(Socket s, String request) throws IOException {
        s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
    }

    private static String get(String path, String... fields) {
        StringBuilder r = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: test\r\n");
        for (String f : fields) {
            r.append(f).append("\r\n");
        }
        return r.append("\r\n").toString();
    }

    @Test
    void getServesTheFileWithItsMetadata() throws IOException {
        try (Socket s = connect()) {
            send(s, get("/hello.txt"));
            HttpTestKit.RawResponse r = HttpTestKit.RawResponse.read(s.getInputStream(), false);
            assertEquals("HTTP/1.1 200 OK", r.statusLine());
            assertEquals(String.valueOf(HELLO.length()), r.header("Content-Length"));
            assertEquals("text/plain; charset=UTF-8", r.header("Content-Type"));
            assertEquals("bytes", r.header("Accept-Ranges"));
            assertEquals("Sun, 09 Sep 2001 01:46:40 GMT", r.header("Last-Modified"));
            assertEquals("\"d-e8d4a51000\"", r.header("ETag"));
            assertTrue(r.header("Date").matches("[A-Z][a-z]{2}, \\d\\d [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d:\\d\\d GMT"), r.header("Date"));
            assertNull(r.header("Connection"), "HTTP/1.1 keeps the connection");
            assertEquals(HELLO, new String(r.body(), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void keepAliveHeadAndPipelinedRequestsOnOneConnection() throws IOException {
        try (Socket s = connect()) {
            InputStream in = s.getInputStream();
            // three requests in one write: each response must come whole and in order
            send(s, "HEAD /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n" + get("/sub%20dir/data.bin") + get("/"));
            HttpTestKit.RawResponse head = HttpTestKit.RawResponse.read(in, true);
            assertEquals(200, head.status());
            assertEquals(String.valueOf(HELLO.length()), head.header("Content-Length"), "HEAD announces the GET's length");
            HttpTestKit.RawResponse data = HttpTestKit.RawResponse.read(in, false);
            assertEquals(200, data.status());
            assertEquals("application/octet-stream", data.header("Content-Type"));
            assertArrayEquals(Files.readAllBytes(root.resolve("sub dir/data.bin")), data.body());
            HttpTestKit.RawResponse index = HttpTestKit.RawResponse.read(in, false);
            assertEquals("text/html; charset=UTF-8", index.header("Content-Type"));
            assertEquals("<h1>index</h1>\n", new String(index.body(), StandardCharsets.UTF_8));
            // and the connection is still good
            send(s, get("/hello.txt"));
            assertEquals(HELLO, new String(HttpTestKit.RawResponse.read(in, false).body(), StandardCharsets.US_ASCII));
        }
        // counted after its last byte was written, which the client may have read before
        HttpTestKit.awaitTrue(() -> server.responsesCompleted() == 4, 10, () -> "responses: " + server.responsesCompleted());
    }

    @Test
    void singleByteRanges() throws IOException {
        byte[] data = Files.readAllBytes(root.resolve("sub dir/data.bin"));
        try (Socket s = connect()) {
            InputStream in = s.getInputStream();
            send(s, get("/sub%20dir/data.bin", "Range: bytes=10-19"));
            HttpTestKit.RawResponse r = HttpTestKit.RawResponse.read(in, false);
            assertEquals("HTTP/1.1 206 Partial Content", r.statusLine());
            assertEquals("bytes 10-19/1000", r.header("Content-Range"));
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 10, 20), r.body());

            send(s, get("/sub%20dir/data.bin", "Range: bytes=-5"));
            r = HttpTestKit.RawResponse.read(in, false);
            assertEquals("bytes 995-999/1000", r.header("Content-Range"));
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 995, 1000), r.body());

            send(s, get("/sub%20dir/data.bin", "Range: bytes=990-5000"));
            r = HttpTestKit.RawResponse.read(in, false);
            assertEquals("bytes 990-999/1000", r.header("Content-Range"), "the end is clipped to the file");

            send(s, get("/sub%20dir/data.bin", "Range: bytes=1000-"));
            r = HttpTestKit.RawResponse.read(in, false);
            assertEquals("HTTP/1.1 416 Range Not Satisfiable", r.statusLine());
            assertEquals("bytes */1000", r.header("Content-Range"));

            send(s, get("/sub%20dir/data.bin", "Range: bytes=0-1,5-6"));
            r = HttpTestKit.RawResponse.read(in, false);
            assertEquals(200, r.status(), "several ranges: the whole file instead");
            assertEquals(1000, r.body().length);

            send(s, get("/hello.txt", "Range: bytes=0-4", "If-Range: \"d-e8d4a51000\""));
            r = HttpTestKit.RawResponse.read(in, false);
            assertEquals(206, r.status(), "If-Range with the current ETag");
            assertEquals("Hello", new String(r.body(), StandardCharsets.US_ASCII));

            send(s, get("/hello.txt", "Range: bytes=0-4", "If-Range: \"changed\""));
            r = HttpTestKit.RawResponse.read(in, false);
            assertEquals(200, r.status(), "If-Range with another ETag: the whole file");
        }
    }

    @Test
    void errorsKeepTheConnectionWhenTheRequestWasReadWhole() throws IOException {
        try (Socket s = connect()) {
            InputStream in = s.getInputStream();
            send(s, get("/missing.txt"));
            HttpTestKit.RawResponse r = HttpTestKit.RawResponse.read(in, false);
            assertEquals("HTTP/1.1 404 Not Found", r.statusLine());
            assertEquals("404 Not Found\n", new String(r.body(), StandardCharsets.US_ASCII));

            // dot segments never climb out of the root, encoded or not
            for (String path : new String[] {"/../outside.txt", "/%2e%2e/outside.txt", "/sub%20dir/../../outside.txt"}) {
                send(s, get(path));
                assertEquals(404, HttpTestKit.RawResponse.read(in, false).status(), path);
            }

            // a body the server does not want is still read exactly: the next request follows it
            send(s, "POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nabcde" + get("/hello.txt"));
            r = HttpTestKit.RawResponse.read(in, false);
            assertEquals(405, r.status());
            assertEquals("GET, HEAD", r.header("Allow"));
            assertEquals(HELLO, new String(HttpTestKit.RawResponse.read(in, false).body(), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void malformedRequestsAreAnsweredThenClosed() throws IOException {
        for (String bad : new String[] {
                "GARBAGE\r\n\r\n",
                "GET /hello.txt HTTP/1.1\r\n\r\n",                           // no Host
                "GET /hello.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
                "GET /hello.txt HTTP/2.0\r\nHost: t\r\n\r\n"}) {
            try (Socket s = connect()) {
                send(s, bad);
                HttpTestKit.RawResponse r = HttpTestKit.RawResponse.read(s.getInputStream(), false);
                assertTrue(r.status() >= 400, bad + " -> " + r.statusLine());
                assertEquals("close", r.header("Connection"), bad);
                assertEquals(-1, s.getInputStream().read(), "closed after " + bad);
            }
        }
    }

    @Test
    void http10ClosesUnlessAskedToKeepAlive() throws IOException {
        try (Socket s = connect()) {
            send(s, "GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            HttpTestKit.RawResponse r = HttpTestKit.RawResponse.read(s.getInputStream(), false);
            assertEquals("keep-alive", r.header("Connection"));
            send(s, "GET /hello.txt HTTP/1.0\r\n\r\n");
            r = HttpTestKit.RawResponse.read(s.getInputStream(), false);
            assertEquals("close", r.header("Connection"));
            assertEquals(HELLO, new String(r.body(), StandardCharsets.US_ASCII));
            assertEquals(-1, s.getInputStream().read());
        }
    }

    @Test
    void anMtcpClientGetsTheSameBytes() throws IOException {
        byte[] plain;
        try (Socket s = connect()) {
            send(s, get("/sub%20dir/data.bin", "Connection: close"));
            plain = s.getInputStream().readAllBytes();
        }
        try (MtcpSocket s = new MtcpSocket(InetAddress.getLoopbackAddress(), server.serviceAddress().getPort())) {
            s.setSoTimeout(20_000);
            send(s, get("/sub%20dir/data.bin", "Connection: close"));
            byte[] mtcp = s.getInputStream().readAllBytes();
            // the Date may differ by a second between the two; everything else is the same
            assertEquals(new String(plain, StandardCharsets.ISO_8859_1).replaceAll("Date: [^\r]*", ""),
                    new String(mtcp, StandardCharsets.ISO_8859_1).replaceAll("Date: [^\r]*", ""));
        }
    }
}
