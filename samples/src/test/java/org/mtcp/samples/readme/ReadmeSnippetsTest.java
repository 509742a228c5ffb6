package org.mtcp.samples.readme;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.MtcpServerSocket;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The README's Java snippets are the marked regions of this package's sources, which the build
 * compiles: every {@code ```java} block of README.md must be one of those regions character for
 * character, and every region must be quoted. The server snippet is also run: a client downloads a
 * file from it and migrates to a second copy of it mid-download.
 */
class ReadmeSnippetsTest {
    private static final Pattern START = Pattern.compile("^(\\s*)// README:([a-z-]+)-start$");

    @Test
    void everyJavaBlockOfTheReadmeIsACompiledRegion() throws IOException {
        Path repo = repositoryRoot();
        List<String> blocks = javaBlocks(Files.readAllLines(repo.resolve("README.md")));
        Map<String, String> regions = regions(repo.resolve("samples/src/test/java/org/mtcp/samples/readme"));
        assertTrue(regions.keySet().containsAll(List.of("server", "client", "httpclient", "tls")), regions.keySet().toString());
        for (String block : blocks) {
            if (!regions.containsValue(block)) {
                fail("a ```java block of README.md is no region of samples/src/test/java/org/mtcp/samples/readme "
                        + "(edit the source, then copy the region):\n" + block);
            }
        }
        for (Map.Entry<String, String> r : regions.entrySet()) {
            assertTrue(blocks.contains(r.getValue()), "region " + r.getKey() + " is not quoted in README.md as it is");
        }
    }

    @Test
    void theReadmeOpensTheApiWithTheDependencyBlockOfThisVersion() throws IOException {
        Path repo = repositoryRoot();
        String readme = Files.readString(repo.resolve("README.md"));
        Matcher v = Pattern.compile("<artifactId>mtcp-parent</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(Files.readString(repo.resolve("pom.xml")));
        assertTrue(v.find(), "root pom version");
        String api = readme.substring(readme.indexOf("## The API in five minutes"));
        String xml = api.substring(api.indexOf("```xml"), api.indexOf("```java"));
        Matcher slf4j = Pattern.compile("<slf4j.version>([^<]+)</slf4j.version>").matcher(Files.readString(repo.resolve("pom.xml")));
        assertTrue(slf4j.find(), "root pom slf4j.version");
        assertTrue(xml.contains("<artifactId>slf4j-simple</artifactId>\n    <version>" + slf4j.group(1) + "</version>"),
                "the binding of the version the library is built against: " + xml);
        for (String artifact : List.of("mtcp-client", "mtcp-server")) {
            assertTrue(xml.contains("<groupId>org.mtcp</groupId>\n    <artifactId>" + artifact + "</artifactId>\n    <version>"
                    + v.group(1) + "</version>"), xml);
        }
    }

    @Test
    void stateRoundTripsAndRequestsAreFileNames() throws IOException {
        FileServer.FileState s = new FileServer.FileState("big.bin", 0).advance(16384);
        assertEquals(s, FileServer.FileState.from(s.bytes()));
        InputStream in = new ByteArrayInputStream("a.txt\nnext".getBytes(StandardCharsets.UTF_8));
        assertEquals("a.txt", FileServer.parseRequest(in));
        assertEquals('n', in.read(), "not a byte past the request");
        for (String bad : List.of("../x\n", "..\n", "\n", "no-newline")) {
            assertThrows(IOException.class,
                    () -> FileServer.parseRequest(new ByteArrayInputStream(bad.getBytes(StandardCharsets.UTF_8))), bad);
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void theServerSnippetServesAFileThroughAMigration(@TempDir Path root) throws IOException {
        byte[] file = new byte[4 << 20];
        new Random(15).nextBytes(file);
        Files.write(root.resolve("big.bin"), file);
        InetAddress lo = InetAddress.getLoopbackAddress();
        List<Boolean> arrivedMigrated = new CopyOnWriteArrayList<>();
        try (MtcpServerSocket s1 = new MtcpServerSocket(0, 50, lo); MtcpServerSocket s2 = new MtcpServerSocket(0, 50, lo)) {
            InetSocketAddress a1 = new InetSocketAddress(lo, s1.getLocalPort());
            InetSocketAddress a2 = new InetSocketAddress(lo, s2.getLocalPort());
            Map<InetSocketAddress, SocketAddress> mappings = new LinkedHashMap<>();
            try (ServerSocket c1 = new ServerSocket(0, 1, lo); ServerSocket c2 = new ServerSocket(0, 1, lo)) {
                mappings.put(a1, new InetSocketAddress(lo, c1.getLocalPort()));
                mappings.put(a2, new InetSocketAddress(lo, c2.getLocalPort()));
            }
            List<MigrationEvent> departures = new CopyOnWriteArrayList<>();
            s1.addMigrationListener(departures::add);
            s1.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);
            s1.setOption(MtcpOptions.ADDITIONAL_SERVERS, List.of(a2));
            s2.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);
            s2.setOption(MtcpOptions.ADDITIONAL_SERVERS, List.of(a1));
            for (MtcpServerSocket server : List.of(s1, s2)) {
                Thread t = new Thread(() -> {
                    while (!server.isClosed()) {
                        try {
                            Socket s = server.accept();
                            arrivedMigrated.add(s.getOption(MtcpOptions.MIGRATED));
                            Thread serving = new Thread(() -> FileServer.serve(s, root), "readme-serve");
                            serving.setDaemon(true);
                            serving.start();
                        } catch (IOException e) {
                            return; // closed
                        }
                    }
                }, "readme-accept");
                t.setDaemon(true);
                t.start();
            }

            byte[] got;
            try (MtcpSocket s = new MtcpSocket(lo, a1.getPort())) {
                s.setSoTimeout(30_000);
                s.getOutputStream().write("big.bin\n".getBytes(StandardCharsets.UTF_8));
                InputStream in = s.getInputStream();
                byte[] first = in.readNBytes(1 << 20);
                s.migrate(a2);
                assertEquals(a2, s.currentServer());
                byte[] rest = in.readAllBytes();
                got = new byte[first.length + rest.length];
                System.arraycopy(first, 0, got, 0, first.length);
                System.arraycopy(rest, 0, got, first.length, rest.length);
            }
            assertEquals(file.length, got.length);
            assertArrayEquals(file, got, "every byte exactly once");
            assertEquals(List.of(false, true), new ArrayList<>(arrivedMigrated), "a new session at S1, then its migration to S2");
            awaitTrue(() -> departures.size() == 1, "S1 reports the migration");
            assertEquals(MigrationEvent.Role.ORIGIN, departures.get(0).role());
            assertTrue(departures.get(0).committed());
            assertEquals(MigrationEvent.Initiation.CLIENT, departures.get(0).initiation(),
                    "S1 never triggered it: the client's application decided, as its request told the destination and S2 told S1");
        }
    }

    /** Waits at most 10 s for the condition. */
    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("within 10 s: " + what);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void theSnippetsRunAsTheReadmeSays(@TempDir Path dir) throws Exception {
        Path root = Files.createDirectories(dir.resolve("files"));
        // more than the windows and socket buffers hold: the server is still sending when the client moves
        byte[] file = new byte[16 << 20];
        new Random(16).nextBytes(file);
        Files.write(root.resolve("big.bin"), file);
        int[] ports = freePortPairs(2);
        // java FileServer files P1 P2, java FileServer files P2 P1: they run until the JVM ends
        for (int i = 0; i < 2; i++) {
            String[] args = {root.toString(), String.valueOf(ports[i]), String.valueOf(ports[1 - i])};
            Thread t = new Thread(() -> {
                try {
                    FileServer.main(args);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, "readme-server-" + ports[i]);
            t.setDaemon(true);
            t.start();
        }
        Path copy = dir.resolve("copy.bin");
        java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        java.io.PrintStream console = System.out;
        System.setOut(new java.io.PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            for (int attempt = 0; ; attempt++) {
                try {
                    // java FileClient big.bin P1 P2 copy.bin: a migration after the first MiB
                    FileClient.main(new String[] {"big.bin", String.valueOf(ports[0]), String.valueOf(ports[1]), copy.toString()});
                    break;
                } catch (java.net.ConnectException e) {
                    if (attempt == 100) {
                        throw e;
                    }
                    Thread.sleep(50); // the servers are still binding
                }
            }
        } finally {
            System.setOut(console);
        }
        String out = printed.toString(StandardCharsets.UTF_8);
        console.print(out);
        assertTrue(out.matches("moved to \\S*/127\\.0\\.0\\.1:" + ports[1] + "\n"), out);
        assertArrayEquals(file, Files.readAllBytes(copy), "every byte exactly once, through the migration");
    }

    /** @return {@code n} ports P free with P + 1000 (the snippet's control port) free too */
    private static int[] freePortPairs(int n) throws IOException {
        int[] ports = new int[n];
        InetAddress lo = InetAddress.getLoopbackAddress();
        for (int i = 0; i < n; ) {
            try (ServerSocket a = new ServerSocket(0, 1, lo)) {
                int p = a.getLocalPort();
                if (p + 1000 > 65535) {
                    continue;
                }
                if (!free(p + 1000)) {
                    continue;
                }
                if (i == 0 || (p != ports[0] && p != ports[0] + 1000 && p + 1000 != ports[0])) {
                    ports[i++] = p;
                }
            }
        }
        return ports;
    }

    private static boolean free(int port) {
        try {
            new ServerSocket(port, 1, InetAddress.getLoopbackAddress()).close();
            return true;
        } catch (IOException taken) {
            return false;
        }
    }

    /** The {@code ```java} blocks, each without the indentation of its fence. */
    static List<String> javaBlocks(List<String> lines) {
        List<String> blocks = new ArrayList<>();
        StringBuilder block = null;
        int indent = 0;
        for (String line : lines) {
            String t = line.strip();
            if (block == null) {
                if (t.equals("```java")) {
                    block = new StringBuilder();
                    indent = line.indexOf('`');
                }
            } else if (t.equals("```")) {
                blocks.add(block.toString());
                block = null;
            } else {
                block.append(unindent(line, indent)).append('\n');
            }
        }
        return blocks;
    }

    /** Each {@code // README:name-start} ... {@code // README:name-end} region, without the markers' indentation. */
    static Map<String, String> regions(Path dir) throws IOException {
        Map<String, String> regions = new LinkedHashMap<>();
        List<Path> sources;
        try (Stream<Path> files = Files.list(dir)) {
            sources = files.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
        for (Path source : sources) {
            String name = null;
            int indent = 0;
            StringBuilder region = null;
            for (String line : Files.readAllLines(source)) {
                Matcher m = START.matcher(line);
                if (region == null) {
                    if (m.matches()) {
                        name = m.group(2);
                        indent = m.group(1).length();
                        region = new StringBuilder();
                    }
                } else if (line.strip().equals("// README:" + name + "-end")) {
                    if (regions.put(name, region.toString()) != null) {
                        fail("region " + name + " twice");
                    }
                    region = null;
                } else {
                    region.append(unindent(line, indent)).append('\n');
                }
            }
            if (region != null) {
                fail(source + ": region " + name + " has no end marker");
            }
        }
        return regions;
    }

    private static String unindent(String line, int indent) {
        int n = 0;
        while (n < indent && n < line.length() && line.charAt(n) == ' ') {
            n++;
        }
        return line.substring(n);
    }

    private static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("README.md")) && Files.isDirectory(p.resolve("samples"))) {
                return p;
            }
        }
        throw new IllegalStateException("no repository root above " + Path.of("").toAbsolutePath());
    }
}
