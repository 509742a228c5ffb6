package org.mtcp.server.internal;

import org.mtcp.internal.wire.ProtocolException;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;

/**
 * How a {@link ControlConnection} moves its bytes: as they are ({@link PlainTransport}, TCP on loopback
 * or a Unix-domain socket) or inside TLS ({@link TlsTransport}). Non-blocking, loop thread only.
 */
interface ControlTransport {
    /**
     * Starts connecting the channel.
     *
     * @return {@code true} when it connected at once
     */
    boolean connect(SocketAddress to) throws IOException;

    /** @return {@code true} when the connect under way completed */
    boolean finishConnect() throws IOException;

    /**
     * @return {@code true} once the connection carries frames to its peer: connected (plain), or the
     * TLS handshake completed with the peer's certificate checked (TLS)
     */
    boolean established();

    /**
     * Reads what the peer sent, moving a TLS handshake on as its messages arrive.
     *
     * @param dst where the peer's plain bytes go, from its position
     * @return bytes placed, 0 when none are available now, -1 at the end of the peer's stream
     */
    int read(ByteBuffer dst) throws IOException;

    /**
     * @return {@code true} when bytes already received wait inside the transport (decrypted or not)
     * and the selector will not report them: the connection reads again without waiting
     */
    boolean hasBufferedInput();

    /**
     * Writes as much as the channel takes now.
     *
     * @return the bytes of {@code srcs} taken (with TLS, encrypted; part may still wait inside, see
     * {@link #wantsWrite})
     */
    long write(ByteBuffer[] srcs) throws IOException;

    /** @return {@code true} when the transport has bytes of its own to write (TLS records, handshake messages) */
    boolean wantsWrite();

    /**
     * Checks, on the accepting side, that the peer may claim the identity its CTRL_HELLO names; plain:
     * nothing to check.
     *
     * @throws ProtocolException naming the peer and what does not match
     */
    void checkIdentity(InetSocketAddress claimed) throws ProtocolException;

    /** Ends the transport (TLS: close_notify, best effort, never blocking); the channel is closed by its connection. */
    void close();
}
