package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.mtcp.api.MtcpOptions;
import org.mtcp.server.MtcpServerSocket;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same-host control socket: it is made only in a directory private to its user (created so when
 * missing), a path this server did not create is never deleted, and the socket it made is removed
 * when the server socket closes. The peer check, {@code SO_PEERCRED}, admits this user's processes
 * (every Unix-domain migration test goes through it) and refuses another user's, tried where this
 * test runs as root and can run a process as {@code nobody}.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UnixControlSocketTest {

    private static Map<InetSocketAddress, SocketAddress> self(MtcpServerSocket s, Path socket) {
        return Map.of(new InetSocketAddress(HandPlayed.LO, s.getLocalPort()), UnixDomainSocketAddress.of(socket));
    }

    @Test
    void aDirectoryOtherUsersCanEnterIsRefusedWithHowToFixIt(@TempDir Path tmp) throws IOException {
        Path open = Files.createDirectory(tmp.resolve("shared"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x")); // whatever the umask
        try (MtcpServerSocket s = new MtcpServerSocket(0, 50, HandPlayed.LO)) {
            IOException e = assertThrows(IOException.class, () -> s.setOption(MtcpOptions.CONTROL_MAPPINGS,
                    self(s, open.resolve("s1.sock"))));
            assertTrue(e.getMessage().contains("can be entered by other users") && e.getMessage().contains("chmod 700"),
                    e.getMessage());
            assertTrue(Files.notExists(open.resolve("s1.sock")), "no socket was made there");
        }
    }

    @Test
    void aPathThisServerDidNotCreateIsNeverDeleted(@TempDir Path tmp) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("private"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        Path taken = Files.write(dir.resolve("s1.sock"), new byte[] {42});
        try (MtcpServerSocket s = new MtcpServerSocket(0, 50, HandPlayed.LO)) {
            IOException e = assertThrows(IOException.class, () -> s.setOption(MtcpOptions.CONTROL_MAPPINGS, self(s, taken)));
            assertTrue(e.getMessage().contains("exists"), e.getMessage());
        }
        assertArrayEquals(new byte[] {42}, Files.readAllBytes(taken), "the file someone else made is still there, untouched");
    }

    @Test
    void aMissingDirectoryIsCreatedPrivateAndTheSocketRemovedOnClose(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("made").resolve("here");
        Path socket = dir.resolve("s1.sock");
        try (MtcpServerSocket s = new MtcpServerSocket(0, 50, HandPlayed.LO)) {
            s.setOption(MtcpOptions.CONTROL_MAPPINGS, self(s, socket));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
            assertTrue(Files.exists(socket), "the control socket is there while the server listens");
        }
        assertTrue(org.mtcp.server.testkit.Waits.until(() -> Files.notExists(socket), java.time.Duration.ofSeconds(10)),
                "the server removes the socket it made when it closes");
    }

    @Test
    void aPeerRunningAsAnotherUserIsRefused() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "needs root to run a process as another user");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/runuser")), "needs runuser");
        Path dir = Files.createTempDirectory("mtcp-peer-");
        try {
            Path sockets = Files.createDirectory(dir.resolve("sockets"), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            Path socket = sockets.resolve("s1.sock");
            Path program = dir.resolve("Peer.java");
            Files.writeString(program, String.join("\n",
                    "import java.net.*; import java.nio.*; import java.nio.channels.*;",
                    "public class Peer { public static void main(String[] a) throws Exception {",
                    "  try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(a[0]))) {",
                    "    System.out.println(\"CONNECTED\");",
                    "    byte[] hello = java.util.HexFormat.of().parseHex(a[1]);",
                    // the server may close before the hello is written (broken pipe) or after (EOF, reset): both refuse
                    "    int n; try { ch.write(ByteBuffer.wrap(hello)); n = ch.read(ByteBuffer.allocate(64)); }",
                    "    catch (java.io.IOException e) { n = -1; }",
                    "    System.out.println(n < 0 ? \"CLOSED\" : \"SERVED\");",
                    "  } } }"));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rw-r--r--"));
            try (MtcpServerSocket s = new MtcpServerSocket(0, 50, HandPlayed.LO)) {
                s.setOption(MtcpOptions.CONTROL_MAPPINGS, self(s, socket));
                // open the way on purpose, as a careless administrator would: only the peer check is left
                Files.setPosixFilePermissions(sockets, PosixFilePermissions.fromString("rwx--x--x"));
                Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
                byte[] hello = HandPlayed.bytes(org.mtcp.internal.wire.Frames.opening(org.mtcp.internal.wire.Wire.CONTROL_MAGIC,
                        new org.mtcp.internal.wire.Message.ControlHello(new InetSocketAddress(HandPlayed.LO, 1))));
                Process p = new ProcessBuilder("/usr/sbin/runuser", "-u", "nobody", "--",
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(), program.toString(), socket.toString(),
                        java.util.HexFormat.of().formatHex(hello)).redirectErrorStream(true).start();
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the other user's process did not end");
                String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                org.junit.jupiter.api.Assumptions.assumeTrue(out.contains("CONNECTED"), "the other user could not run: " + out);
                assertTrue(out.contains("CLOSED"), "a process of another user was served: " + out);
                assertEquals(0, org.mtcp.server.ServerInternals.server(s).control().openConnections(),
                        "no control connection is kept for it");
            }
        } finally {
            try (java.util.stream.Stream<Path> all = Files.walk(dir)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
