package org.mtcp.samples.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.mtcp.client.MtcpSocket;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The standalone server: its command line, a run in a JVM of its own, and two of them cooperating. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ServerCommandTest {

    @Test
    void commandLine(@TempDir Path root) throws Exception {
        ServerCommand.Options d = ServerCommand.parse();
        assertEquals(ServerCommand.DEFAULT_PORT, d.port());
        assertEquals(Path.of("").toAbsolutePath(), d.root());
        assertTrue(d.peers().isEmpty());
        assertNull(ServerCommand.parse("--help"));

        ServerCommand.Options o = ServerCommand.parse("--port", "8081", "--root", root.toString(),
                "--peers", "127.0.0.1:8082,127.0.0.1:8083=127.0.0.1:9183", "--trigger-every", "8");
        assertEquals(8081, o.port());
        assertEquals(root.toAbsolutePath(), o.root());
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        assertEquals(Map.of(new InetSocketAddress(lo, 8082), new InetSocketAddress(lo, 8083),
                new InetSocketAddress(lo, 8083), new InetSocketAddress(lo, 9183)), o.peers());
        assertEquals(List.of(new InetSocketAddress(lo, 8082), new InetSocketAddress(lo, 8083)), List.copyOf(o.peers().keySet()),
                "command-line order: the first peer is where the trigger sends clients");
        assertEquals(8082, o.control(8081), "control port: port + 1 by default");
        assertEquals(8L << 20, o.triggerEvery());

        assertEquals("unknown option: --x", assertThrows(ServerCommand.UsageException.class,
                () -> ServerCommand.parse("--x")).getMessage());
        assertEquals("unknown option: --bogus", assertThrows(ServerCommand.UsageException.class,
                () -> ServerCommand.parse("--port", "1", "--bogus", "1")).getMessage());
        assertThrows(ServerCommand.UsageException.class, () -> ServerCommand.parse("--port"));
        assertThrows(ServerCommand.UsageException.class, () -> ServerCommand.parse("--port", "x"));
        assertThrows(ServerCommand.UsageException.class, () -> ServerCommand.parse("--port", "70000"));
        assertThrows(ServerCommand.UsageException.class, () -> ServerCommand.parse("--root", root.resolve("none").toString()));
        assertThrows(ServerCommand.UsageException.class, () -> ServerCommand.parse("--port", "0", "--peers", "127.0.0.1:8082"));
        assertThrows(ServerCommand.UsageException.class, () -> ServerCommand.parse("--trigger-every", "1"));
    }

    @Test
    void anUnknownOptionExitsNonZero() throws Exception {
        DemoProcessTest.Run r = DemoProcessTest.java(HttpFileServer.class.getName(), "--x");
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().startsWith("unknown option: --x\nusage: HttpFileServer"), r.err());
    }

    @Test
    void runsOnAnEphemeralPortUntilStopped(@TempDir Path root) throws Exception {
        byte[] file = new byte[200_000];
        new java.util.Random(4).nextBytes(file);
        Files.write(root.resolve("a file.bin"), file);
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", DemoProcessTest.runtimeClassPath(), HttpFileServer.class.getName(), "--port", "0", "--root", root.toString());
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    // the process ended
                }
            }, "server-output");
            reader.setDaemon(true);
            reader.start();
            List<String> banner = new ArrayList<>();
            String curl = null;
            while (curl == null) {
                String line = lines.poll(30, TimeUnit.SECONDS);
                assertNotNull(line, "the server printed its curl line within 30 s: " + banner);
                banner.add(line);
                if (line.startsWith("Try: curl ")) {
                    curl = line;
                }
            }
            assertFalse(String.join("\n", banner).contains("SLF4J"), banner.toString());
            Matcher url = Pattern.compile("(http://127\\.0\\.0\\.1:(\\d+)/\\S+)$").matcher(curl);
            assertTrue(url.find(), curl);
            assertEquals("http://127.0.0.1:" + url.group(2) + "/a%20file.bin", url.group(1), "the URL of a file of the root");
            assertTrue(banner.get(0).contains("Serving " + root.toAbsolutePath() + " on 127.0.0.1 port " + url.group(2)), banner.get(0));

            for (int i = 0; i < 2; i++) {
                HttpURLConnection c = (HttpURLConnection) URI.create(url.group(1)).toURL().openConnection();
                c.setConnectTimeout(10_000);
                c.setReadTimeout(20_000);
                try (InputStream in = c.getInputStream()) {
                    assertEquals(200, c.getResponseCode());
                    assertArrayEquals(file, in.readAllBytes());
                } finally {
                    c.disconnect();
                }
            }
            assertTrue(p.isAlive(), "stays up");
        } finally {
            p.destroy(); // SIGTERM, as Ctrl-C
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void twoServersStartedFromTheirCommandLinesPassASessionAround(@TempDir Path root) throws Exception {
        String sha = GeneratedFile.write(root.resolve("big.bin"), 8L << 20, 7);
        int[] ports = new int[4];
        List<ServerSocket> reserved = new ArrayList<>();
        try {
            for (int i = 0; i < ports.length; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                reserved.add(s);
                ports[i] = s.getLocalPort();
            }
        } finally {
            for (ServerSocket s : reserved) {
                s.close();
            }
        }
        String a = "127.0.0.1:" + ports[0] + "=127.0.0.1:" + ports[1];
        String b = "127.0.0.1:" + ports[2] + "=127.0.0.1:" + ports[3];
        try (HttpFileServer s1 = ServerCommand.start(ServerCommand.parse("--port", "" + ports[0], "--control", "" + ports[1],
                "--root", root.toString(), "--peers", b, "--trigger-every", "2", "--rate", "16"));
             HttpFileServer s2 = ServerCommand.start(ServerCommand.parse("--port", "" + ports[2], "--control", "" + ports[3],
                     "--root", root.toString(), "--peers", a, "--trigger-every", "2", "--rate", "16"));
             MtcpSocket client = new MtcpSocket(InetAddress.getLoopbackAddress(), ports[0])) {
            client.setSoTimeout(30_000);
            client.getOutputStream().write("GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            HttpTestKit.RawResponse r = HttpTestKit.RawResponse.read(client.getInputStream(), false);
            assertEquals(200, r.status());
            assertEquals(sha, GeneratedFile.digest(new java.io.ByteArrayInputStream(r.body())).sha256(), "every byte exactly once");
            long arrived = s1.sessionsArrived() + s2.sessionsArrived();
            assertTrue(arrived >= 1, "the session migrated between the two: " + arrived);
            assertEquals(List.of(), s1.failures());
            assertEquals(List.of(), s2.failures());
        }
    }
}
