package org.mtcp.server;

import java.net.InetSocketAddress;

/**
 * One live MTCP session of a server, as {@link MtcpServerSocket#sessions()} lists it (a snapshot).
 *
 * @param id           the session's identifier in hex: what {@link MtcpServerSocket#move} takes; the same on every
 *                     server the session visits
 * @param client       the client's address as this server sees it
 * @param migrated     whether the session arrived here by migration
 * @param bytesRead    the application's read offset in the client's stream (bytes read since the session began,
 *                     on any server)
 * @param bytesWritten the offset the application has written to in its own stream
 * @param migrations   migrations of this session so far, this server's arrival included
 * @param movable      whether it can be asked to move now (open, no migration under way, no move pending)
 */
public record SessionInfo(String id, InetSocketAddress client, boolean migrated, long bytesRead, long bytesWritten,
                          int migrations, boolean movable) {
}
