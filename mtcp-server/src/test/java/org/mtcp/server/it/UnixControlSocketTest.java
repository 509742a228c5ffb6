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
 * when the server socket closes. (The peer check, {@code SO_PEERCRED}, admits this user's processes:
 * every Unix-domain migration test goes through it; another user's process needs a second account.)
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
}
