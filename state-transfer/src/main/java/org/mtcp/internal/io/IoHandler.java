package org.mtcp.internal.io;

import java.nio.channels.SelectionKey;

/** What an {@link EventLoop} calls when a channel registered with it is ready. */
public interface IoHandler {
    /**
     * Called on the loop's thread with the key's ready operations. Must not block.
     *
     * @param key the ready key
     */
    void ready(SelectionKey key);
}
