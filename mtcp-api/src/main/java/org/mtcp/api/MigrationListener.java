package org.mtcp.api;

/**
 * Receives the outcome of every migration a client socket or a server socket takes part in.
 * Called on a library thread: return quickly and do not block.
 */
@FunctionalInterface
public interface MigrationListener {
    /**
     * @param event what happened, with the phase timings of this party
     */
    void onMigration(MigrationEvent event);
}
