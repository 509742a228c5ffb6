package org.mtcp.server.internal;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.EnumSet;
import java.util.Set;

/**
 * The same-host control transport's guards: a control socket lives in a directory only its owner can
 * enter, a path this process did not create is never deleted, and a connecting process must run as
 * the same user ({@code SO_PEERCRED}). On a machine without POSIX permissions only the last holds.
 */
final class UnixControlSockets {
    private static final Set<PosixFilePermission> OTHERS = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private UnixControlSockets() {
    }

    /**
     * Makes ready to bind {@code socket}: its directory is created private (0700) when missing and
     * must be private when present; the socket path must not exist.
     *
     * @throws IOException saying what is wrong with the path and how to fix it
     */
    static void prepare(Path socket) throws IOException {
        Path dir = socket.toAbsolutePath().getParent();
        if (!Files.exists(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } else if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir);
            Set<PosixFilePermission> open = EnumSet.copyOf(OTHERS);
            open.retainAll(perms);
            if (!open.isEmpty()) {
                throw new IOException("the control socket directory " + dir + " can be entered by other users ("
                        + PosixFilePermissions.toString(perms) + "): make it private to this user (chmod 700 " + dir
                        + ") or name a socket in a private directory");
            }
        }
        if (Files.exists(socket, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(socket.toString(), null, "the control socket path exists: another server may"
                    + " be listening there; remove it if none is (a server deletes only the sockets it created)");
        }
    }

    /** @return the user this process runs as: the owner of the socket it just bound */
    static UserPrincipal owner(Path socket) throws IOException {
        return Files.getOwner(socket, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /** @throws IOException when the process at the other end of {@code ch} runs as another user */
    static void checkPeer(SocketChannel ch, UserPrincipal me) throws IOException {
        UnixDomainPrincipal peer = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
        UserPrincipal user = peer.user();
        if (!user.equals(me) && !user.getName().equals(me.getName())) {
            throw new IOException("a control connection from a process of user " + user.getName() + " refused: only processes"
                    + " of " + me.getName() + " may use this server's control socket");
        }
    }
}
