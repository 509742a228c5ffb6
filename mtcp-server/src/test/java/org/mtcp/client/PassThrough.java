package org.mtcp.client;

import java.net.Socket;
import java.net.SocketException;

/** For tests in other packages: a socket over the client impl's pass-through path (no destination speaks MTCP). */
public final class PassThrough {
    private PassThrough() {
    }

    /** @return an unconnected socket whose impl connects every destination as plain TCP */
    public static Socket socket() throws SocketException {
        return new Socket(new ClientSocketImpl(a -> false)) {
        };
    }
}
