package org.mtcp.server;

import org.mtcp.server.internal.Server;

/** For tests in other packages: the engine behind an {@link MtcpServerSocket} (its {@code server()} is package-private). */
public final class ServerInternals {
    private ServerInternals() {
    }

    /** @return the engine of {@code s}: its sessions, its control endpoint */
    public static Server server(MtcpServerSocket s) {
        return s.server();
    }
}
