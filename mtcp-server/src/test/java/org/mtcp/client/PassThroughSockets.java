package org.mtcp.client;

import java.net.Socket;
import java.net.SocketException;
import java.net.SocketImpl;

/**
 * For tests in other packages: a {@link Socket} over the library's client {@code SocketImpl} for a
 * destination that does not speak MTCP (the predicate says no for every address), so the impl
 * passes the connection through as plain TCP. This is what an application gets from
 * {@code MtcpSocketImplFactory} for a server outside the MTCP cluster.
 */
public final class PassThroughSockets {
    private PassThroughSockets() {
    }

    /** @return an unconnected socket whose impl treats every destination as plain TCP */
    public static Socket create() throws SocketException {
        return new PassThroughSocket(new ClientSocketImpl(a -> false));
    }

    private static final class PassThroughSocket extends Socket {
        PassThroughSocket(SocketImpl impl) throws SocketException {
            super(impl);
        }
    }
}
