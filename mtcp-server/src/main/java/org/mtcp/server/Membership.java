package org.mtcp.server;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;

/**
 * Where a server learns its cooperating servers: a membership engine (DNS SRV records, a ZooKeeper
 * service registry, ...) rather than a static map set in code. Give one to
 * {@link MtcpServerSocket#setMembership(Membership)}: every member list it reports becomes the
 * server's control mappings and the alternates it advertises to clients, so servers that join or leave
 * are picked up without a restart.
 */
public interface Membership extends Closeable {
    /**
     * Starts watching. {@code listener} is called with the whole current member list soon after this
     * call (the first lookup) and again whenever the list changes, from a thread of the implementation,
     * never concurrently with itself. A lookup that fails is reported by the implementation's log and
     * retried; the last list stays in force.
     *
     * @param listener gets every new member list (this server's own entry may be in it or not)
     * @throws IOException when watching cannot start at all (e.g. the registry cannot be reached within its deadline)
     */
    void watch(Consumer<List<Member>> listener) throws IOException;

    /** Stops watching; no call of the listener starts after this returns. */
    @Override
    void close() throws IOException;
}
